#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""mkhfllava - tiny deterministic random LLaVA-1.5 checkpoints in Hugging
Face layouts, for models/convert/llava_hf.py's tests.

usage: mkhfllava.py OUTDIR --layout transformers|transformers-new|original
                    [--seed N] [--dtype f16|bf16|f32] [--shards N] [--tied]
                    [--drop TENSOR] [--extra TENSOR] [--tower clip|vision]

Writes OUTDIR/ckpt: config.json, the weights as safetensors (one
model.safetensors, or --shards files listed in
model.safetensors.index.json), tokenizer.model (a SentencePiece BPE model
with byte fallback trained here on a few hundred radiology words),
tokenizer_config.json and, for the transformers layouts,
preprocessor_config.json, added_tokens.json (<image>, <pad>; the
embedding table has 6 more unnamed rows, as llava-hf pads to 32064) and
added_tokens_decoder in tokenizer_config.json (ids 0-2 and those two, all
special); the original layout's tokenizer_config.json has none, as
Vicuna's.

  transformers      LlavaForConditionalGeneration, names language_model.*,
                    vision_tower.*, multi_modal_projector.*
  transformers-new  the same with model.language_model.*, model.vision_tower.*,
                    model.multi_modal_projector.*, lm_head.weight
  original          the LLaVA repository's LlavaLlamaForCausalLM (model.*,
                    lm_head, model.mm_projector.0/2, mm_* config keys); the
                    CLIP tower goes to OUTDIR/clip as a Hugging Face CLIPModel
                    (--tower clip: vision_config, a text_model tensor,
                    logit_scale) or CLIPVisionModel (--tower vision), with
                    its preprocessor_config.json and an int64
                    position_ids buffer as older saves have.

Sizes: LLM dim 64, 2 layers, 4 heads, 2 KV heads, FFN 128; CLIP 32x32
image, patch 8, dim 64, 4 heads, FFN 128, 3 blocks, class embedding,
post_layernorm (unused by LLaVA); select layer -2; projector 64-64-64.
--drop leaves a tensor out, --extra adds a 64-vector of that name to the
checkpoint (for refusal tests).
"""
import argparse
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "models", "convert"))
import gguf  # noqa: E402  (its fp32 -> bf16 rounding)

WORDS = """the lungs are clear no pleural effusion or pneumothorax heart size is
normal mediastinal contour within limits there mild cardiomegaly bibasilar
atelectasis opacity consolidation right left lower upper lobe silhouette osseous
structures intact degenerative changes thoracic spine endotracheal tube tip above
carina support devices stable compared with prior study findings impression
chest radiograph frontal lateral views acute cardiopulmonary process
hyperinflated emphysema nodule mass granuloma calcified hilar prominence
vascular congestion edema interstitial markings scarring costophrenic angle
blunted small moderate large trace unchanged improved worsening new
describe report patient""".split()


def train_tokenizer(seed):
    import sentencepiece as spm
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(600):
        w = list(rng.choice(WORDS, rng.integers(4, 14)))
        if rng.random() < 0.3:
            w[0] = w[0].capitalize()
        s = " ".join(w) + rng.choice([".", ",", ":", "?"])
        if rng.random() < 0.2:
            s = "USER: " + s + " ASSISTANT: " + " ".join(rng.choice(WORDS, 3))
        lines.append(s)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=out, vocab_size=420,
        model_type="bpe", byte_fallback=True, character_coverage=1.0,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, split_digits=True, num_threads=1,
        user_defined_symbols=["<finding>"], minloglevel=2)
    return out.getvalue()


def encode(a, dtype):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    if dtype == "BF16":
        return gguf.fp32_to_bf16(a).astype("<u2").tobytes()
    if dtype == "I64":
        return np.asarray(a, dtype="<i8").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: list of (name, array, dtype)."""
    hdr, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, a, dt in tensors:
        b = encode(a, dt)
        hdr[name] = {"dtype": dt, "shape": list(np.shape(a)),
                     "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_weights(d, tensors, shards):
    if shards <= 1:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
        return
    per = -(-len(tensors) // shards)
    wmap = {}
    for i in range(shards):
        fn = "model-%05d-of-%05d.safetensors" % (i + 1, shards)
        part = tensors[i * per:(i + 1) * per]
        write_safetensors(os.path.join(d, fn), part)
        wmap.update({n: fn for n, _, _ in part})
    total = sum(len(encode(a, dt)) for _, a, dt in tensors)
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, f,
                  indent=2)


def dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layout", required=True,
                    choices=["transformers", "transformers-new", "original"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--drop", action="append", default=[])
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--tower", default="clip", choices=["clip", "vision"])
    a = ap.parse_args(argv)
    dt = a.dtype.upper()
    rng = np.random.default_rng(a.seed)
    ckpt = os.path.join(a.out, "ckpt")
    os.makedirs(ckpt, exist_ok=True)

    def mat(rows, cols, scale=1.0):
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)

    def vec(n, mean=0.0, scale=0.1):
        return (mean + rng.standard_normal(n) * scale).astype(np.float32)

    model = train_tokenizer(7)
    with open(os.path.join(ckpt, "tokenizer.model"), "wb") as f:
        f.write(model)
    import sentencepiece as spm
    n_sp = spm.SentencePieceProcessor(model_proto=model).vocab_size()
    orig = a.layout == "original"
    nv = n_sp if orig else n_sp + 8

    dim, nl, nh, nkv, ff = 64, 2, 4, 2, 128
    hd = dim // nh
    S, P, D, vh, vff, vl = 32, 8, 64, 4, 128, 3
    npos = (S // P) ** 2 + 1

    # ---- Hugging Face names, without the layout's prefixes
    llm = [("embed_tokens.weight", mat(nv, dim, np.sqrt(dim)))]
    for i in range(nl):
        p = "layers.%d." % i
        llm += [(p + "input_layernorm.weight", vec(dim, 1.0)),
                (p + "self_attn.q_proj.weight", mat(dim, dim)),
                (p + "self_attn.k_proj.weight", mat(nkv * hd, dim)),
                (p + "self_attn.v_proj.weight", mat(nkv * hd, dim)),
                (p + "self_attn.o_proj.weight", mat(dim, dim)),
                (p + "post_attention_layernorm.weight", vec(dim, 1.0)),
                (p + "mlp.gate_proj.weight", mat(ff, dim)),
                (p + "mlp.up_proj.weight", mat(ff, dim)),
                (p + "mlp.down_proj.weight", mat(dim, ff))]
    llm.append(("norm.weight", vec(dim, 1.0)))
    head = mat(nv, dim, 4.0)
    vis = [("embeddings.patch_embedding.weight", mat(D, 3 * P * P).reshape(D, 3, P, P)),
           ("embeddings.class_embedding", vec(D, 0.0, 1.0)),
           ("embeddings.position_embedding.weight", mat(npos, D, 0.5)),
           ("pre_layrnorm.weight", vec(D, 1.0)), ("pre_layrnorm.bias", vec(D))]
    for i in range(vl):
        p = "encoder.layers.%d." % i
        for nm, r, c in (("self_attn.q_proj", D, D), ("self_attn.k_proj", D, D),
                         ("self_attn.v_proj", D, D), ("self_attn.out_proj", D, D),
                         ("mlp.fc1", vff, D), ("mlp.fc2", D, vff)):
            vis += [(p + nm + ".weight", mat(r, c)), (p + nm + ".bias", vec(r))]
        for nm in ("layer_norm1", "layer_norm2"):
            vis += [(p + nm + ".weight", vec(D, 1.0)), (p + nm + ".bias", vec(D))]
    vis += [("post_layernorm.weight", vec(D, 1.0)), ("post_layernorm.bias", vec(D))]
    proj = [mat(dim, D), vec(dim), mat(dim, dim, np.sqrt(dim)), vec(dim)]

    text_cfg = {"model_type": "llama", "hidden_size": dim, "intermediate_size": ff,
                "num_hidden_layers": nl, "num_attention_heads": nh,
                "num_key_value_heads": nkv, "rms_norm_eps": 1e-5,
                "rope_theta": 10000.0, "max_position_embeddings": 512,
                "vocab_size": nv, "hidden_act": "silu",
                "tie_word_embeddings": a.tied}
    vis_cfg = {"model_type": "clip_vision_model", "hidden_size": D,
               "intermediate_size": vff, "num_hidden_layers": vl,
               "num_attention_heads": vh, "image_size": S, "patch_size": P,
               "projection_dim": 32, "hidden_act": "quick_gelu",
               "layer_norm_eps": 1e-5, "num_channels": 3}
    prep = {"crop_size": {"height": S, "width": S}, "do_center_crop": True,
            "do_normalize": True, "do_resize": True,
            "image_mean": [0.5, 0.45, 0.4], "image_std": [0.25, 0.27, 0.3],
            "image_processor_type": "CLIPImageProcessor",
            "size": {"shortest_edge": S}}
    tok_cfg = {"add_bos_token": True, "add_eos_token": False,
               "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
               "model_max_length": 512, "tokenizer_class": "LlamaTokenizer",
               "added_tokens_decoder": {
                   "0": {"content": "<unk>", "special": True},
                   "1": {"content": "<s>", "special": True},
                   "2": {"content": "</s>", "special": True}}}
    tensors = []
    if orig:
        tensors += [("model." + n, w, dt) for n, w in llm]
        if not a.tied:
            tensors.append(("lm_head.weight", head, dt))
        for i, nm in ((0, "model.mm_projector.0"), (2, "model.mm_projector.2")):
            tensors += [(nm + ".weight", proj[i], dt), (nm + ".bias", proj[i + 1], dt)]
        cfg = dict(text_cfg)
        cfg.update({"architectures": ["LlavaLlamaForCausalLM"],
                    "model_type": "llava_llama", "_name_or_path": "tiny-llava-orig",
                    "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
                    "mm_vision_tower": "openai/clip-vit-large-patch14-336",
                    "mm_hidden_size": D, "mm_projector_type": "mlp2x_gelu",
                    "mm_vision_select_layer": -2,
                    "mm_vision_select_feature": "patch",
                    "mm_use_im_start_end": False, "mm_use_im_patch_token": False,
                    "mm_patch_merge_type": "flat", "image_aspect_ratio": "pad",
                    "torch_dtype": "bfloat16" if dt == "BF16" else "float16"})
        clip = os.path.join(a.out, "clip")
        os.makedirs(clip, exist_ok=True)
        vt = [("vision_model." + n, w, dt) for n, w in vis]
        vt.insert(1, ("vision_model.embeddings.position_ids",
                      np.arange(npos).reshape(1, npos), "I64"))
        if a.tower == "clip":
            vt += [("text_model.embeddings.token_embedding.weight", mat(50, 32), dt),
                   ("logit_scale", np.array(4.6, np.float32), "F32")]
            ccfg = {"architectures": ["CLIPModel"], "model_type": "clip",
                    "projection_dim": 32,
                    "text_config": {"model_type": "clip_text_model", "hidden_size": 32},
                    "vision_config": {k: v for k, v in vis_cfg.items()
                                      if k != "hidden_act"}}
        else:
            ccfg = dict(vis_cfg, architectures=["CLIPVisionModel"])
        vt = [t for t in vt if t[0] not in a.drop]
        # Vicuna's tokenizer_config.json predates added_tokens_decoder.
        del tok_cfg["added_tokens_decoder"]
        write_safetensors(os.path.join(clip, "model.safetensors"), vt)
        dump(os.path.join(clip, "config.json"), ccfg)
        dump(os.path.join(clip, "preprocessor_config.json"), prep)
    else:
        new = a.layout == "transformers-new"
        lp = "model.language_model." if new else "language_model.model."
        vp = ("model." if new else "") + "vision_tower.vision_model."
        mp = ("model." if new else "") + "multi_modal_projector."
        tensors += [(lp + n, w, dt) for n, w in llm]
        if not a.tied:
            tensors.append(("lm_head.weight" if new else "language_model.lm_head.weight",
                            head, dt))
        tensors += [(vp + n, w, dt) for n, w in vis]
        for i, nm in ((0, "linear_1"), (2, "linear_2")):
            tensors += [(mp + nm + ".weight", proj[i], dt),
                        (mp + nm + ".bias", proj[i + 1], dt)]
        cfg = {"architectures": ["LlavaForConditionalGeneration"],
               "model_type": "llava", "_name_or_path": "tiny-llava-hf",
               "image_token_index": n_sp, "pad_token_id": n_sp + 1,
               "projector_hidden_act": "gelu", "vision_feature_layer": -2,
               "vision_feature_select_strategy": "default",
               "tie_word_embeddings": a.tied,
               "text_config": text_cfg, "vision_config": vis_cfg,
               "torch_dtype": "bfloat16" if dt == "BF16" else "float16"}
        dump(os.path.join(ckpt, "preprocessor_config.json"), prep)
        dump(os.path.join(ckpt, "added_tokens.json"),
             {"<image>": n_sp, "<pad>": n_sp + 1})
        tok_cfg["added_tokens_decoder"].update({
            str(n_sp): {"content": "<image>", "special": True},
            str(n_sp + 1): {"content": "<pad>", "special": True}})
        tok_cfg["pad_token"] = "<pad>"
    tensors = [t for t in tensors if t[0] not in a.drop]
    tensors += [(n, vec(dim), dt) for n in a.extra]
    write_weights(ckpt, tensors, a.shards)
    dump(os.path.join(ckpt, "config.json"), cfg)
    dump(os.path.join(ckpt, "tokenizer_config.json"), tok_cfg)


if __name__ == "__main__":
    main(sys.argv[1:])
