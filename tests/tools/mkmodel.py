#!/usr/bin/python3
"""mkmodel - tiny deterministic random-weight LLaVA-style GGUF pairs.

Writes an LLM file (general.architecture "llama") and an mmproj file
("clip", projector "mlp") in the layout llama.cpp's multimodal tools read
(see ../../../shared/DESIGN.md, "Model files"), for the engine's tests.

usage: mkmodel.py OUTDIR [--type f32|f16|bf16|q8_0|q4_0] [--seed N]
                  [--class-embd] [--gqa] [--no-feature-layer] [--gelu]
                  [--untied] [--dim N] [--layers N] [--vocab-extra N]
Writes OUTDIR/llm.gguf and OUTDIR/mmproj.gguf.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "models", "convert"))
import gguf  # noqa: E402


def spm_vocab(extra, rng):
    """A llama-style SentencePiece vocabulary: <unk> <s> </s>, 256 byte
    tokens, then `extra` pieces with descending scores."""
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    letters = "etaoinshrdlucmfwypvbgkqjxz"
    pieces = ["\u2581"] + list(letters) + ["\u2581" + c for c in letters]
    seen = set(pieces)
    if extra > 60000:
        raise SystemExit("--vocab-extra: at most 60000")
    while len(pieces) < extra:
        k = 2 if len(pieces) < 400 else 3 if len(pieces) < 12000 else 4
        p = "\u2581" + "".join(letters[i] for i in rng.integers(0, 26, k))
        if p not in seen:
            seen.add(p)
            pieces.append(p)
    for i, p in enumerate(pieces[:extra]):
        toks.append(p)
        types.append(1)
        scores.append(-float(i))
    return toks, scores, types


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
          + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def bpe_vocab(extra):
    """A byte-level BPE vocabulary: 256 byte symbols, merges of common
    English pairs (and "Ġ" + letter), then <|endoftext|> as control."""
    b2u = bytes_to_unicode()
    toks = [b2u[b] for b in range(256)]
    merges = []
    sp = b2u[ord(" ")]
    cands = [sp + c for c in "tacsopmdfwlhbeinrgu"] + \
        ["th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "es", "or",
         "te", "of", "ed", "is", "it", "al", "ar", "st", "to", "nt", "ng", "se"]
    for c in cands:
        if len(toks) - 256 >= extra:
            break
        merges.append(c[0] + " " + c[1:])
        toks.append(c)
    toks.append("<|endoftext|>")
    types = [1] * (len(toks) - 1) + [3]
    return toks, merges, types


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--type", default="f32")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--class-embd", action="store_true")
    ap.add_argument("--gqa", action="store_true")
    ap.add_argument("--no-feature-layer", action="store_true")
    ap.add_argument("--gelu", action="store_true")
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--alignment", type=int, default=None,
                    help="general.alignment of the LLM file (default 32)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vocab-extra", type=int, default=61)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=0)
    ap.add_argument("--bpe", action="store_true",
                    help="a GPT-2 byte-level BPE vocabulary instead of SentencePiece")
    ap.add_argument("--lora", type=int, default=0,
                    help="also write lora.gguf with this rank (q and v of every layer, output)")
    ap.add_argument("--vision", default="32,8,64,4,128,3,96",
                    help="image,patch,dim,heads,ff,layers,projector hidden")
    a = ap.parse_args(argv)
    wt = gguf.TYPE_BY_NAME[a.type]
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)

    def mat(rows, cols, scale=1.0):
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)

    def vec(n, mean=0.0, scale=0.1):
        return (mean + rng.standard_normal(n) * scale).astype(np.float32)

    # ---- LLM
    dim, nh = a.dim, a.heads
    nkv = nh // 2 if a.gqa else nh
    hd = dim // nh
    ff = a.ff or (96 if dim == 64 else 3 * dim)
    if a.bpe:
        toks, merges, types = bpe_vocab(a.vocab_extra)
        scores = None
    else:
        toks, scores, types = spm_vocab(a.vocab_extra, rng)
    nv = len(toks)
    w = gguf.GGUFWriter("llama", alignment=a.alignment)
    w.add_string("general.name", "radscribe-test-%s" % a.type)
    w.add_uint32("llama.context_length", 512)
    w.add_uint32("llama.embedding_length", dim)
    w.add_uint32("llama.block_count", a.layers)
    w.add_uint32("llama.feed_forward_length", ff)
    w.add_uint32("llama.attention.head_count", nh)
    w.add_uint32("llama.attention.head_count_kv", nkv)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_uint32("llama.rope.dimension_count", hd)
    if a.bpe:
        w.add_string("tokenizer.ggml.model", "gpt2")
        w.add_string("tokenizer.ggml.pre", "gpt-2")
        w.add_array("tokenizer.ggml.tokens", toks, gguf.STRING)
        w.add_array("tokenizer.ggml.token_type", np.array(types, np.int32), gguf.INT32)
        w.add_array("tokenizer.ggml.merges", merges, gguf.STRING)
        w.add_uint32("tokenizer.ggml.bos_token_id", nv - 1)
        w.add_uint32("tokenizer.ggml.eos_token_id", nv - 1)
    else:
        w.add_string("tokenizer.ggml.model", "llama")
        w.add_array("tokenizer.ggml.tokens", toks, gguf.STRING)
        w.add_array("tokenizer.ggml.scores", np.array(scores, np.float32), gguf.FLOAT32)
        w.add_array("tokenizer.ggml.token_type", np.array(types, np.int32), gguf.INT32)
        w.add_uint32("tokenizer.ggml.bos_token_id", 1)
        w.add_uint32("tokenizer.ggml.eos_token_id", 2)
        w.add_uint32("tokenizer.ggml.unknown_token_id", 0)
    w.add_tensor("token_embd.weight", mat(nv, dim, np.sqrt(dim)), wt)
    for i in range(a.layers):
        b = "blk.%d." % i
        w.add_tensor(b + "attn_norm.weight", vec(dim, 1.0))
        w.add_tensor(b + "attn_q.weight", mat(dim, dim), wt)
        w.add_tensor(b + "attn_k.weight", mat(nkv * hd, dim), wt)
        w.add_tensor(b + "attn_v.weight", mat(nkv * hd, dim), wt)
        w.add_tensor(b + "attn_output.weight", mat(dim, dim), wt)
        w.add_tensor(b + "ffn_norm.weight", vec(dim, 1.0))
        w.add_tensor(b + "ffn_gate.weight", mat(ff, dim), wt)
        w.add_tensor(b + "ffn_up.weight", mat(ff, dim), wt)
        w.add_tensor(b + "ffn_down.weight", mat(dim, ff), wt)
    w.add_tensor("output_norm.weight", vec(dim, 1.0))
    if a.untied:
        w.add_tensor("output.weight", mat(nv, dim, 4.0), wt)
    w.write(os.path.join(a.out, "llm.gguf"))

    if a.lora:
        ad = gguf.GGUFWriter("llama")
        ad.add_string("general.type", "adapter")
        ad.add_string("adapter.type", "lora")
        ad.add_float32("adapter.lora.alpha", 2.0 * a.lora)
        targets = [("blk.%d.attn_q.weight" % i, dim, dim) for i in range(a.layers)]
        targets += [("blk.%d.attn_v.weight" % i, nkv * hd, dim) for i in range(a.layers)]
        if a.untied:
            targets.append(("output.weight", nv, dim))
        for name, rows, cols in targets:
            ad.add_tensor(name + ".lora_a", mat(a.lora, cols), gguf.F32)
            ad.add_tensor(name + ".lora_b", mat(rows, a.lora, 0.5), gguf.F32)
        ad.write(os.path.join(a.out, "lora.gguf"))

    # ---- mmproj
    S, P, D, vh, vff, vl, hid = (int(x) for x in a.vision.split(","))
    npos = (S // P) ** 2 + (1 if a.class_embd else 0)
    v = gguf.GGUFWriter("clip")
    v.add_string("general.type", "mmproj")
    v.add_bool("clip.has_vision_encoder", True)
    v.add_string("clip.projector_type", "mlp")
    v.add_bool("clip.use_gelu", a.gelu)
    v.add_uint32("clip.vision.image_size", S)
    v.add_uint32("clip.vision.patch_size", P)
    v.add_uint32("clip.vision.embedding_length", D)
    v.add_uint32("clip.vision.feed_forward_length", vff)
    v.add_uint32("clip.vision.projection_dim", dim)
    v.add_uint32("clip.vision.attention.head_count", vh)
    v.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-5)
    v.add_uint32("clip.vision.block_count", vl)
    v.add_array("clip.vision.image_mean", np.array([0.48, 0.45, 0.40], np.float32), gguf.FLOAT32)
    v.add_array("clip.vision.image_std", np.array([0.27, 0.26, 0.28], np.float32), gguf.FLOAT32)
    if not a.no_feature_layer:
        v.add_int32("clip.vision.feature_layer", vl - 1)
    v.add_tensor("v.patch_embd.weight",
                 mat(D, 3 * P * P).reshape(D, 3, P, P), gguf.F16 if wt != gguf.F32 else gguf.F32)
    if a.class_embd:
        v.add_tensor("v.class_embd", vec(D, 0.0, 1.0))
    v.add_tensor("v.position_embd.weight", mat(npos, D, 0.5), gguf.F16 if wt != gguf.F32 else gguf.F32)
    v.add_tensor("v.pre_ln.weight", vec(D, 1.0))
    v.add_tensor("v.pre_ln.bias", vec(D))
    for i in range(vl):
        b = "v.blk.%d." % i
        for nm, r, c in (("attn_q", D, D), ("attn_k", D, D), ("attn_v", D, D),
                         ("attn_out", D, D), ("ffn_up", vff, D), ("ffn_down", D, vff)):
            v.add_tensor(b + nm + ".weight", mat(r, c), wt)
            v.add_tensor(b + nm + ".bias", vec(r))
        for nm in ("ln1", "ln2"):
            v.add_tensor(b + nm + ".weight", vec(D, 1.0))
            v.add_tensor(b + nm + ".bias", vec(D))
    v.add_tensor("mm.0.weight", mat(hid, D), wt)
    v.add_tensor("mm.0.bias", vec(hid))
    v.add_tensor("mm.2.weight", mat(dim, hid, np.sqrt(dim)), wt)
    v.add_tensor("mm.2.bias", vec(dim))
    v.write(os.path.join(a.out, "mmproj.gguf"))


if __name__ == "__main__":
    main(sys.argv[1:])
