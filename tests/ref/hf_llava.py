#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent numpy reference for a Hugging Face LLaVA-1.5 checkpoint,
written in Hugging Face's conventions (transformers' CLIPVisionModel,
LlavaForConditionalGeneration and LlamaForCausalLM; the LLaVA repository's
LlavaLlamaForCausalLM), reading the safetensors directly.  It shares no
code with models/convert/llava_hf.py or tests/ref/model.py, so comparing
them checks the conversion.

  * CLIP: patch convolution, the class embedding PREPENDED, position
    embeddings, pre_layrnorm, pre-norm blocks with quick_gelu (or the
    config's act), hidden_states[0] = the embeddings after pre_layrnorm,
    hidden_states[k] = after k blocks; the selected hidden state
    (vision_feature_layer / mm_vision_select_layer), then the class token
    dropped ("default" / "patch").  post_layernorm is never applied.
  * projector: linear_1, GELU (erf, as torch's nn.GELU; --gelu tanh for the
    tanh approximation ggml computes), linear_2.
  * LLaMA: RMSNorm, rotate_half RoPE on the UNpermuted q/k weights,
    repeat_kv for grouped-query attention, causal softmax, SwiGLU,
    lm_head (or the embeddings when tied).
Float64 throughout, no KV cache.

usage: hf_llava.py [options] embed CKPT PIXELS.f32 OUT.f32
       hf_llava.py [options] logits CKPT IDS(comma list) OUT.f32
       hf_llava.py [options] greedy CKPT PIXELS.f32 PRE_IDS POST_IDS N
options: --vision-tower DIR   the CLIP model (original LLaVA layout)
         --gelu erf|tanh      projector GELU (default erf, as Hugging Face)
         --select-layer N     override the config's select layer
         --rope halves|adjacent
                              adjacent: rotate adjacent pairs of the
                              unpermuted weights (a deliberately wrong model,
                              what a converter that forgot the permutation
                              would produce; for negative controls)
greedy prints the ids comma-separated and, on stderr, the smallest gap
between the best and second-best logit along the way.
"""
import argparse
import glob
import json
import math
import os
import struct
import sys

import numpy as np


def read_safetensors(d):
    """name -> float64 array, for every float tensor of every file in d."""
    out = {}
    for path in sorted(glob.glob(os.path.join(d, "*.safetensors"))):
        with open(path, "rb") as f:
            buf = f.read()
        (n,) = struct.unpack("<Q", buf[:8])
        hdr = json.loads(buf[8:8 + n])
        for name, info in hdr.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            raw = buf[8 + n + b:8 + n + e]
            dt = info["dtype"]
            if dt == "F32":
                a = np.frombuffer(raw, "<f4")
            elif dt == "F16":
                a = np.frombuffer(raw, "<f2")
            elif dt == "BF16":
                a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                continue
            out[name] = a.astype(np.float64).reshape(info["shape"])
    return out


def load(ckpt, tower):
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg = json.load(f)
    W = read_safetensors(ckpt)
    m = {}
    if "text_config" in cfg or "vision_config" in cfg:
        m["text"] = cfg["text_config"]
        m["vision"] = cfg["vision_config"]
        new = "model.language_model.embed_tokens.weight" in W
        m["lm"] = "model.language_model." if new else "language_model.model."
        m["head"] = "lm_head.weight" if new else "language_model.lm_head.weight"
        m["vis"] = ("model." if new else "") + "vision_tower.vision_model."
        pp = ("model." if new else "") + "multi_modal_projector."
        m["proj"] = (pp + "linear_1", pp + "linear_2")
        m["select"] = cfg.get("vision_feature_layer", -2)
        m["drop_cls"] = cfg.get("vision_feature_select_strategy", "default") == "default"
        m["tied"] = cfg.get("tie_word_embeddings", m["text"].get("tie_word_embeddings", False))
        VW = W
    else:
        m["text"] = cfg
        m["vision"], VW = None, {}
        if tower is not None:       # logits need no vision tower
            with open(os.path.join(tower, "config.json")) as f:
                tc = json.load(f)
            m["vision"] = tc.get("vision_config", tc)
            VW = read_safetensors(tower)
        m["lm"], m["head"], m["vis"] = "model.", "lm_head.weight", "vision_model."
        m["proj"] = ("model.mm_projector.0", "model.mm_projector.2")
        m["select"] = cfg["mm_vision_select_layer"]
        m["drop_cls"] = cfg.get("mm_vision_select_feature", "patch") == "patch"
        m["tied"] = cfg.get("tie_word_embeddings", False)
    return m, W, VW


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def gelu_erf(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


ACT = {"quick_gelu": lambda x: x * (1.0 / (1.0 + np.exp(-1.702 * x))),
       "gelu": gelu_erf, "gelu_pytorch_tanh": gelu_tanh, "gelu_new": gelu_tanh}


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def clip_hidden_states(vc, VW, pre, pixels):
    """CLIPVisionTransformer with output_hidden_states=True, one image."""
    P = vc["patch_size"]
    nh = vc["num_attention_heads"]
    eps = vc.get("layer_norm_eps", 1e-5)
    act = ACT[vc.get("hidden_act", "quick_gelu")]
    w = VW[pre + "embeddings.patch_embedding.weight"]        # (D, C, P, P)
    D, C = w.shape[0], w.shape[1]
    g = pixels.shape[1] // P
    # Conv2d(stride=P) then flatten(2).transpose(1, 2): rows in (y, x) order.
    blocks = pixels.reshape(C, g, P, g, P)
    patch = np.einsum("dcij,cyixj->yxd", w, blocks).reshape(g * g, D)
    x = np.concatenate([VW[pre + "embeddings.class_embedding"][None, :], patch], 0)
    x = x + VW[pre + "embeddings.position_embedding.weight"][np.arange(x.shape[0])]
    x = layer_norm(x, VW[pre + "pre_layrnorm.weight"], VW[pre + "pre_layrnorm.bias"], eps)
    states = [x]
    hd = D // nh
    n = x.shape[0]
    for i in range(vc["num_hidden_layers"]):
        p = pre + "encoder.layers.%d." % i

        def lin(name, h):
            return h @ VW[p + name + ".weight"].T + VW[p + name + ".bias"]
        res = x
        h = layer_norm(x, VW[p + "layer_norm1.weight"], VW[p + "layer_norm1.bias"], eps)
        q = lin("self_attn.q_proj", h) * hd ** -0.5
        k = lin("self_attn.k_proj", h)
        v = lin("self_attn.v_proj", h)
        q, k, v = (t.reshape(n, nh, hd).transpose(1, 0, 2) for t in (q, k, v))
        a = softmax(q @ k.transpose(0, 2, 1)) @ v
        h = lin("self_attn.out_proj", a.transpose(1, 0, 2).reshape(n, D))
        x = res + h
        res = x
        h = layer_norm(x, VW[p + "layer_norm2.weight"], VW[p + "layer_norm2.bias"], eps)
        h = lin("mlp.fc2", act(lin("mlp.fc1", h)))
        x = res + h
        states.append(x)
    return states


def image_features(m, W, VW, pixels, gelu, select=None):
    states = clip_hidden_states(m["vision"], VW, m["vis"], pixels)
    f = states[m["select"] if select is None else select]
    if m["drop_cls"]:
        f = f[1:]
    p1, p2 = m["proj"]
    h = f @ W[p1 + ".weight"].T + W.get(p1 + ".bias", 0.0)
    h = (gelu_tanh if gelu == "tanh" else gelu_erf)(h)
    return h @ W[p2 + ".weight"].T + W.get(p2 + ".bias", 0.0)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], -1)


def rope_halves(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def rope_adjacent(x, cos, sin):
    # cos/sin are (n, 1, hd) = cat(freqs, freqs); pairs (2i, 2i+1) use freq i
    h = x.shape[-1] // 2
    c, s = cos[..., :h], sin[..., :h]
    out = x.copy()
    out[..., 0::2] = x[..., 0::2] * c - x[..., 1::2] * s
    out[..., 1::2] = x[..., 0::2] * s + x[..., 1::2] * c
    return out


def llama_logits(m, W, x, rope="halves"):
    t = m["text"]
    nl, nh = t["num_hidden_layers"], t["num_attention_heads"]
    nkv = t.get("num_key_value_heads") or nh
    eps = t.get("rms_norm_eps", 1e-6)
    theta = t.get("rope_theta", 10000.0)
    n, dim = x.shape
    hd = dim // nh
    inv_freq = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    freqs = np.arange(n, dtype=np.float64)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], -1)
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]
    rot = rope_halves if rope == "halves" else rope_adjacent
    mask = np.triu(np.full((n, n), -np.inf), 1)
    pre = m["lm"]

    def rms(h, w):
        return h / np.sqrt((h * h).mean(-1, keepdims=True) + eps) * w
    for i in range(nl):
        p = pre + "layers.%d." % i
        h = rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(n, nh, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(n, nkv, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(n, nkv, hd)
        q, k = rot(q, cos, sin), rot(k, cos, sin)
        # repeat_kv: (b, nkv, n, hd) -> (b, nkv * rep, n, hd), each kv head
        # serving rep consecutive query heads
        rep = nh // nkv
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        q, k, v = (a.transpose(1, 0, 2) for a in (q, k, v))
        a = softmax(q @ k.transpose(0, 2, 1) / math.sqrt(hd) + mask) @ v
        x = x + a.transpose(1, 0, 2).reshape(n, dim) @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + ((g / (1.0 + np.exp(-g))) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W[pre + "norm.weight"])
    head = W[pre + "embed_tokens.weight"] if m["tied"] or m["head"] not in W else W[m["head"]]
    return x @ head.T


def _ids(s):
    return [int(v) for v in s.split(",") if v != ""]


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--vision-tower")
    ap.add_argument("--gelu", default="erf", choices=["erf", "tanh"])
    ap.add_argument("--select-layer", type=int)
    ap.add_argument("--rope", default="halves", choices=["halves", "adjacent"])
    ap.add_argument("cmd", choices=["embed", "logits", "greedy"])
    ap.add_argument("ckpt")
    ap.add_argument("args", nargs="+")
    a = ap.parse_args(argv)
    m, W, VW = load(a.ckpt, a.vision_tower)
    if a.cmd != "logits" and m["vision"] is None:
        raise SystemExit("hf_llava.py: an original LLaVA checkpoint needs "
                         "--vision-tower DIR")
    S = m["vision"]["image_size"] if m["vision"] else 0
    emb = W[m["lm"] + "embed_tokens.weight"]
    if a.cmd == "embed":
        px = np.fromfile(a.args[0], np.float32).astype(np.float64).reshape(3, S, S)
        image_features(m, W, VW, px, a.gelu, a.select_layer) \
            .astype(np.float32).tofile(a.args[1])
    elif a.cmd == "logits":
        llama_logits(m, W, emb[_ids(a.args[0])], a.rope).astype(np.float32).tofile(a.args[1])
    else:
        px = np.fromfile(a.args[0], np.float32).astype(np.float64).reshape(3, S, S)
        img = image_features(m, W, VW, px, a.gelu, a.select_layer)
        x = np.concatenate([emb[_ids(a.args[1])], img, emb[_ids(a.args[2])]], 0)
        eos = m["text"].get("eos_token_id", 2)
        out, gap = [], np.inf
        for _ in range(int(a.args[3])):
            last = llama_logits(m, W, x, a.rope)[-1]
            top = np.sort(last)[-2:]
            gap = min(gap, float(top[1] - top[0]))
            tok = int(np.argmax(last))
            out.append(tok)
            if tok == eos:
                break
            x = np.concatenate([x, emb[[tok]]], 0)
        print(",".join(str(v) for v in out))
        print("smallest top-2 logit gap: %.4g" % gap, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
