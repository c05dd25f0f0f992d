#!/usr/bin/python3
"""Independent numpy reference for radscribe's inference engine.

Computes, from a GGUF pair (LLM + mmproj), the image embeddings, the logits
of a token sequence and greedy tokens, the way the C engine must: CLIP-style
ViT (class embedding, when present, BEFORE the patches as in Hugging Face),
features after `clip.vision.feature_layer` blocks (llama.cpp's rule when the
key is absent: block_count - 1), post-LN when present, the `mlp` projector
(Linear, GELU, Linear), and a LLaMA decoder (RMSNorm, RoPE on adjacent pairs,
grouped-query attention, SwiGLU).  Deliberately simple: float64 arithmetic,
no KV cache (every step recomputes the whole sequence).  GELU is the tanh
approximation, as ggml's.

usage: model.py embed MMPROJ PIXELS.f32 OUT.f32
       model.py logits LLM TOKENS(comma list) OUT.f32 [--embd EMB.f32 --at POS]
       model.py greedy LLM MMPROJ PIXELS.f32 "PRE_IDS" "POST_IDS" N [LORA]
"""
import sys

import numpy as np


def _gguf():
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "models", "convert"))
    import gguf  # noqa: E402  (our own writer/reader, numpy only)
    return gguf


def load(path):
    """(kv dict, tensors dict of float64 arrays in numpy (rows, cols) order)."""
    r = _gguf().GGUFReader(path)
    kv = {k: v[1] for k, v in r.kv.items()}
    for k, v in kv.items():
        if isinstance(v, np.ndarray) and v.size == 1 and k.endswith("feature_layer"):
            kv[k] = [int(v[0])]
    return kv, {t["name"]: np.asarray(r.tensor(t["name"]), np.float64)
                for t in r.tensors}


def merge_lora(t, path, scale=1.0):
    """W + scale * alpha / rank * B @ A for every pair in the adapter."""
    kv, ad = load(path)
    alpha = float(kv.get("adapter.lora.alpha", 0.0))
    for name in [n[:-7] for n in ad if n.endswith(".lora_a")]:
        A, B = ad[name + ".lora_a"], ad[name + ".lora_b"]
        s = scale * alpha / A.shape[0] if alpha else scale
        t[name] = t[name] + s * (B @ A)
    return t


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def quick_gelu(x):
    return x / (1.0 + np.exp(-1.702 * x))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def vision_embed(kv, t, pixels):
    """pixels: (3, S, S) normalised.  Returns (n_patches, n_embd_llm)."""
    p = int(kv["clip.vision.patch_size"])
    eps = float(kv["clip.vision.attention.layer_norm_epsilon"])
    nh = int(kv["clip.vision.attention.head_count"])
    nl = int(kv["clip.vision.block_count"])
    fl = kv.get("clip.vision.feature_layer")
    if isinstance(fl, (list, tuple, np.ndarray)):
        fl = max(int(v) for v in fl) if len(fl) else None
    depth = nl - 1 if fl is None or int(fl) < 0 else int(fl)
    act = gelu if kv.get("clip.use_gelu", False) else quick_gelu

    w = t["v.patch_embd.weight"]                 # (D, 3, p, p)
    D = w.shape[0]
    C, S, _ = pixels.shape
    g = S // p
    patches = pixels.reshape(C, g, p, g, p).transpose(1, 3, 0, 2, 4).reshape(g * g, C * p * p)
    x = patches @ w.reshape(D, -1).T
    if "v.patch_embd.bias" in t:
        x = x + t["v.patch_embd.bias"]
    ncls = 0
    if "v.class_embd" in t:
        x = np.concatenate([t["v.class_embd"].reshape(1, D), x], 0)
        ncls = 1
    x = x + t["v.position_embd.weight"][: x.shape[0]]
    if "v.pre_ln.weight" in t:
        x = layer_norm(x, t["v.pre_ln.weight"], t["v.pre_ln.bias"], eps)
    hd = D // nh
    for i in range(depth):
        b = f"v.blk.{i}."
        h = layer_norm(x, t[b + "ln1.weight"], t[b + "ln1.bias"], eps)
        q = h @ t[b + "attn_q.weight"].T + t[b + "attn_q.bias"]
        k = h @ t[b + "attn_k.weight"].T + t[b + "attn_k.bias"]
        v = h @ t[b + "attn_v.weight"].T + t[b + "attn_v.bias"]
        n = x.shape[0]
        q, k, v = (a.reshape(n, nh, hd).transpose(1, 0, 2) for a in (q, k, v))
        a = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(hd)) @ v
        a = a.transpose(1, 0, 2).reshape(n, D)
        x = x + a @ t[b + "attn_out.weight"].T + t[b + "attn_out.bias"]
        h = layer_norm(x, t[b + "ln2.weight"], t[b + "ln2.bias"], eps)
        h = act(h @ t[b + "ffn_up.weight"].T + t[b + "ffn_up.bias"])
        x = x + h @ t[b + "ffn_down.weight"].T + t[b + "ffn_down.bias"]
    if "v.post_ln.weight" in t:
        x = layer_norm(x, t["v.post_ln.weight"], t["v.post_ln.bias"], eps)
    x = x[ncls:]
    x = gelu(x @ t["mm.0.weight"].T + t["mm.0.bias"])
    return x @ t["mm.2.weight"].T + t["mm.2.bias"]


def rope(x, pos, n_rot, base):
    """x: (n, heads, hd); rotate adjacent pairs of the first n_rot dims."""
    x = x.copy()
    i = np.arange(n_rot // 2)
    theta = pos[:, None] * base ** (-2.0 * i / n_rot)       # (n, n_rot/2)
    c, s = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    x0, x1 = x[..., 0:n_rot:2].copy(), x[..., 1:n_rot:2].copy()
    x[..., 0:n_rot:2] = x0 * c - x1 * s
    x[..., 1:n_rot:2] = x0 * s + x1 * c
    return x


def llm_logits(kv, t, x):
    """x: (n, dim) input embeddings.  Returns (n, vocab) logits."""
    nl = int(kv["llama.block_count"])
    nh = int(kv["llama.attention.head_count"])
    nkv = int(kv.get("llama.attention.head_count_kv", nh))
    eps = float(kv["llama.attention.layer_norm_rms_epsilon"])
    base = float(kv.get("llama.rope.freq_base", 10000.0))
    n, dim = x.shape
    hd = dim // nh
    n_rot = int(kv.get("llama.rope.dimension_count", hd))
    pos = np.arange(n, dtype=np.float64)
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(nl):
        b = f"blk.{i}."
        h = rms_norm(x, t[b + "attn_norm.weight"], eps)
        q = (h @ t[b + "attn_q.weight"].T).reshape(n, nh, hd)
        k = (h @ t[b + "attn_k.weight"].T).reshape(n, nkv, hd)
        v = (h @ t[b + "attn_v.weight"].T).reshape(n, nkv, hd)
        q, k = rope(q, pos, n_rot, base), rope(k, pos, n_rot, base)
        rep = nh // nkv
        k, v = np.repeat(k, rep, 1), np.repeat(v, rep, 1)
        q, k, v = (a.transpose(1, 0, 2) for a in (q, k, v))
        a = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask) @ v
        x = x + a.transpose(1, 0, 2).reshape(n, dim) @ t[b + "attn_output.weight"].T
        h = rms_norm(x, t[b + "ffn_norm.weight"], eps)
        g = h @ t[b + "ffn_gate.weight"].T
        u = h @ t[b + "ffn_up.weight"].T
        x = x + ((g / (1.0 + np.exp(-g))) * u) @ t[b + "ffn_down.weight"].T
    x = rms_norm(x, t["output_norm.weight"], eps)
    out = t.get("output.weight", t["token_embd.weight"])
    return x @ out.T


def embed_tokens(t, ids):
    return t["token_embd.weight"][np.asarray(ids, np.int64)]


def greedy(kv, t, pre, img, post, n_new, eos=None):
    """Greedy decoding: pre tokens, image embeddings, post tokens."""
    parts = [embed_tokens(t, pre)]
    if img is not None:
        parts.append(img)
    parts.append(embed_tokens(t, post))
    x = np.concatenate(parts, 0)
    out = []
    for _ in range(n_new):
        tok = int(np.argmax(llm_logits(kv, t, x)[-1]))
        out.append(tok)
        if eos is not None and tok == eos:
            break
        x = np.concatenate([x, embed_tokens(t, [tok])], 0)
    return out


def _ids(s):
    return [int(v) for v in s.split(",") if v != ""]


def main(argv):
    cmd = argv[0]
    if cmd == "embed":
        kv, t = load(argv[1])
        S = int(kv["clip.vision.image_size"])
        px = np.fromfile(argv[2], np.float32).astype(np.float64).reshape(3, S, S)
        vision_embed(kv, t, px).astype(np.float32).tofile(argv[3])
    elif cmd == "logits":
        kv, t = load(argv[1])
        x = embed_tokens(t, _ids(argv[2]))
        llm_logits(kv, t, x).astype(np.float32).tofile(argv[3])
    elif cmd == "greedy":
        kv, t = load(argv[1])
        if len(argv) > 7:
            merge_lora(t, argv[7])
        vkv, vt = load(argv[2])
        S = int(vkv["clip.vision.image_size"])
        px = np.fromfile(argv[3], np.float32).astype(np.float64).reshape(3, S, S)
        img = vision_embed(vkv, vt, px)
        eos = kv.get("tokenizer.ggml.eos_token_id")
        toks = greedy(kv, t, _ids(argv[4]), img, _ids(argv[5]), int(argv[6]), eos)
        print(",".join(str(v) for v in toks))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
