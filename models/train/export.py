"""Write the trained model as a GGUF pair in llama.cpp's layout (DESIGN.md,
"Model files") with our own writer (models/convert/gguf.py), and a LoRA as
an adapter GGUF (general.type "adapter", *.lora_a / *.lora_b)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "convert"))
import gguf  # noqa: E402

import tok  # noqa: E402

NAME = "radscribe-cxr"
LLM_NAMES = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
             "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}


def _np(t):
    return t.detach().float().cpu().numpy().astype(np.float32)


def _w(m):
    return m.merged() if hasattr(m, "merged") else m.weight


def vocab(sp):
    toks, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        toks.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else
                     6 if sp.is_byte(i) else 5 if sp.is_unused(i) else 1)
    return toks, np.array(scores, np.float32), np.array(types, np.int32)


def write_llm(llm, sp, path, wtype=gguf.F32, version=""):
    w = gguf.GGUFWriter("llama")
    w.add_string("general.name", NAME)
    if version:
        w.add_string("general.version", version)
    w.add_uint32("llama.context_length", llm.ctx)
    w.add_uint32("llama.embedding_length", llm.d)
    w.add_uint32("llama.block_count", len(llm.blocks))
    w.add_uint32("llama.feed_forward_length", llm.ff)
    w.add_uint32("llama.attention.head_count", llm.heads)
    w.add_uint32("llama.attention.head_count_kv", llm.heads)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", llm.eps)
    w.add_float32("llama.rope.freq_base", llm.base)
    w.add_uint32("llama.rope.dimension_count", llm.d // llm.heads)
    toks, scores, types = vocab(sp)
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", toks, gguf.STRING)
    w.add_array("tokenizer.ggml.scores", scores, gguf.FLOAT32)
    w.add_array("tokenizer.ggml.token_type", types, gguf.INT32)
    w.add_uint32("tokenizer.ggml.bos_token_id", sp.bos_id())
    w.add_uint32("tokenizer.ggml.eos_token_id", sp.eos_id())
    w.add_uint32("tokenizer.ggml.unknown_token_id", sp.unk_id())
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_string("tokenizer.chat_template", tok.CHAT_TEMPLATE)
    # The prompts it was trained with; radscribed uses them by default.
    for sec, text in tok.PROMPTS.items():
        w.add_string("radscribe.prompt." + sec, text)
    w.add_tensor("token_embd.weight", _np(llm.embd.weight), wtype)
    for i, b in enumerate(llm.blocks):
        p = "blk.%d." % i
        w.add_tensor(p + "attn_norm.weight", _np(b.attn_norm.weight))
        for k, n in LLM_NAMES.items():
            w.add_tensor(p + n + ".weight", _np(_w(getattr(b, k))), wtype)
        w.add_tensor(p + "ffn_norm.weight", _np(b.ffn_norm.weight))
    w.add_tensor("output_norm.weight", _np(llm.norm.weight))
    w.write(path)


def write_mmproj(vlm, mean, std, path, wtype=gguf.F32):
    vit, depth = vlm.vit, vlm.depth
    v = gguf.GGUFWriter("clip")
    v.add_string("general.name", "mmproj-" + NAME)
    v.add_string("general.type", "mmproj")
    v.add_bool("clip.has_vision_encoder", True)
    v.add_string("clip.projector_type", "mlp")
    v.add_bool("clip.use_gelu", False)
    v.add_uint32("clip.vision.image_size", vit.image)
    v.add_uint32("clip.vision.patch_size", vit.patch)
    v.add_uint32("clip.vision.embedding_length", vit.d)
    v.add_uint32("clip.vision.feed_forward_length", vit.ff)
    v.add_uint32("clip.vision.projection_dim", vlm.llm.d)
    v.add_uint32("clip.vision.attention.head_count", vit.heads)
    v.add_float32("clip.vision.attention.layer_norm_epsilon", vit.eps)
    # Only the blocks the projector reads are written (the tower's last
    # block served pretraining); feature_layer says so explicitly.
    v.add_uint32("clip.vision.block_count", depth)
    v.add_int32("clip.vision.feature_layer", depth)
    v.add_array("clip.vision.image_mean", np.array(mean, np.float32), gguf.FLOAT32)
    v.add_array("clip.vision.image_std", np.array(std, np.float32), gguf.FLOAT32)
    v.add_tensor("v.patch_embd.weight", _np(vit.patch_embd.weight), gguf.F32)
    v.add_tensor("v.position_embd.weight", _np(vit.pos))
    v.add_tensor("v.pre_ln.weight", _np(vit.pre_ln.weight))
    v.add_tensor("v.pre_ln.bias", _np(vit.pre_ln.bias))
    for i, b in enumerate(vit.blocks[:depth]):
        p = "v.blk.%d." % i
        for m, n in ((b.q, "attn_q"), (b.k, "attn_k"), (b.v, "attn_v"),
                     (b.o, "attn_out"), (b.up, "ffn_up"), (b.down, "ffn_down")):
            v.add_tensor(p + n + ".weight", _np(m.weight), wtype)
            v.add_tensor(p + n + ".bias", _np(m.bias))
        for m, n in ((b.ln1, "ln1"), (b.ln2, "ln2")):
            v.add_tensor(p + n + ".weight", _np(m.weight))
            v.add_tensor(p + n + ".bias", _np(m.bias))
    v.add_tensor("mm.0.weight", _np(vlm.proj.l0.weight), wtype)
    v.add_tensor("mm.0.bias", _np(vlm.proj.l0.bias))
    v.add_tensor("mm.2.weight", _np(vlm.proj.l2.weight), wtype)
    v.add_tensor("mm.2.bias", _np(vlm.proj.l2.bias))
    v.write(path)


def write_lora(llm, path):
    """The decoder's LoRA pairs as a llama.cpp adapter GGUF."""
    ad = gguf.GGUFWriter("llama")
    ad.add_string("general.type", "adapter")
    ad.add_string("adapter.type", "lora")
    alpha = None
    for i, b in enumerate(llm.blocks):
        for k, n in LLM_NAMES.items():
            m = getattr(b, k)
            if not hasattr(m, "merged"):
                continue
            alpha = m.alpha
            name = "blk.%d.%s.weight" % (i, n)
            ad.add_tensor(name + ".lora_a", _np(m.a))
            ad.add_tensor(name + ".lora_b", _np(m.b))
    ad.add_float32("adapter.lora.alpha", float(alpha))
    ad.write(path)
