"""Read a GGUF pair written by export.py back into the recipe's PyTorch
modules, so that a site can train its own LoRA adapter on top of the
shipped model (train.py --init-from DIR) without our training data."""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "convert"))
import gguf  # noqa: E402

import export  # noqa: E402
from model import Llama, ViT  # noqa: E402


def _t(r, name):
    return torch.from_numpy(r.tensor(name).copy())


def load_llm(path):
    r = gguf.GGUFReader(path)
    g = r.get
    if g("general.architecture") != "llama":
        raise SystemExit(f"{path}: not a llama GGUF")
    nv = len(g("tokenizer.ggml.tokens"))
    llm = Llama(nv, int(g("llama.embedding_length")), int(g("llama.attention.head_count")),
                int(g("llama.feed_forward_length")), int(g("llama.block_count")),
                eps=float(g("llama.attention.layer_norm_rms_epsilon")),
                base=float(g("llama.rope.freq_base")), ctx=int(g("llama.context_length")))
    with torch.no_grad():
        llm.embd.weight.copy_(_t(r, "token_embd.weight"))
        for i, b in enumerate(llm.blocks):
            p = "blk.%d." % i
            b.attn_norm.weight.copy_(_t(r, p + "attn_norm.weight"))
            b.ffn_norm.weight.copy_(_t(r, p + "ffn_norm.weight"))
            for k, n in export.LLM_NAMES.items():
                getattr(b, k).weight.copy_(_t(r, p + n + ".weight"))
        llm.norm.weight.copy_(_t(r, "output_norm.weight"))
    return llm


def load_mmproj(path):
    """(ViT holding the exported blocks, depth, projector state dict, mean, std)."""
    r = gguf.GGUFReader(path)
    g = r.get
    if g("clip.projector_type") != "mlp" or "v.class_embd" in [t["name"] for t in r.tensors]:
        raise SystemExit(f"{path}: not an mlp projector without class embedding")
    depth = int(g("clip.vision.block_count"))
    vit = ViT(int(g("clip.vision.image_size")), int(g("clip.vision.patch_size")),
              int(g("clip.vision.embedding_length")), int(g("clip.vision.attention.head_count")),
              int(g("clip.vision.feed_forward_length")), depth,
              eps=float(g("clip.vision.attention.layer_norm_epsilon")))
    with torch.no_grad():
        vit.patch_embd.weight.copy_(_t(r, "v.patch_embd.weight"))
        vit.pos.copy_(_t(r, "v.position_embd.weight"))
        vit.pre_ln.weight.copy_(_t(r, "v.pre_ln.weight"))
        vit.pre_ln.bias.copy_(_t(r, "v.pre_ln.bias"))
        for i, b in enumerate(vit.blocks):
            p = "v.blk.%d." % i
            for m, n in ((b.q, "attn_q"), (b.k, "attn_k"), (b.v, "attn_v"), (b.o, "attn_out"),
                         (b.up, "ffn_up"), (b.down, "ffn_down"), (b.ln1, "ln1"), (b.ln2, "ln2")):
                m.weight.copy_(_t(r, p + n + ".weight"))
                m.bias.copy_(_t(r, p + n + ".bias"))
    proj = {"l0.weight": _t(r, "mm.0.weight"), "l0.bias": _t(r, "mm.0.bias"),
            "l2.weight": _t(r, "mm.2.weight"), "l2.bias": _t(r, "mm.2.bias")}
    mean = [float(v) for v in g("clip.vision.image_mean")]
    std = [float(v) for v in g("clip.vision.image_std")]
    return vit, depth, proj, mean, std
