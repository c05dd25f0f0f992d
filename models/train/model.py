"""The default model's architecture in PyTorch, written to compute exactly
what radscribe's engine (src/infer) computes from the exported GGUF pair:

- vision: CLIP-style ViT without a class embedding (llama.cpp places one
  after the patches, Hugging Face before: without one both agree), patch
  embedding without bias, learned positions, pre-LN, pre-norm blocks with
  quick-GELU (`clip.use_gelu` false), FFN width != embedding width (llama.cpp
  swaps ffn_up/ffn_down when they are equal);
- projector `mlp`: Linear, GELU (tanh approximation, as ggml's), Linear;
- decoder: LLaMA (RMSNorm, RoPE on adjacent pairs as llama.cpp's "NORM"
  type, so no q/k permutation at export, SwiGLU, tied output matrix).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class LoRALinear(nn.Module):
    """y = x W^T + (alpha / r) x A^T B^T; W frozen.  Exported in llama.cpp's
    adapter layout (lora_a = A (r, in), lora_b = B (out, r))."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.r, self.alpha = r, alpha
        self.a = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, r))

    @property
    def weight(self):
        return self.base.weight

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * (self.alpha / self.r)

    def merged(self):
        return self.base.weight + (self.alpha / self.r) * (self.b @ self.a)


# ---------------------------------------------------------------- vision

class ViTBlock(nn.Module):
    def __init__(self, d, heads, ff, eps):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=eps)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln2 = nn.LayerNorm(d, eps=eps)
        self.up = nn.Linear(d, ff)
        self.down = nn.Linear(ff, d)

    def forward(self, x):
        b, n, d = x.shape
        h = self.ln1(x)
        q, k, v = (m(h).view(b, n, self.heads, -1).transpose(1, 2)
                   for m in (self.q, self.k, self.v))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, n, d))
        return x + self.down(quick_gelu(self.up(self.ln2(x))))


class ViT(nn.Module):
    def __init__(self, image, patch, d, heads, ff, layers, eps=1e-5, n_cls=0):
        super().__init__()
        self.image, self.patch, self.d = image, patch, d
        self.heads, self.ff, self.eps = heads, ff, eps
        self.patch_embd = nn.Conv2d(3, d, patch, patch, bias=False)
        n = (image // patch) ** 2
        self.pos = nn.Parameter(torch.randn(n, d) * 0.02)
        self.pre_ln = nn.LayerNorm(d, eps=eps)
        self.blocks = nn.ModuleList(ViTBlock(d, heads, ff, eps) for _ in range(layers))
        # Pretraining heads only; never exported.
        self.post_ln = nn.LayerNorm(d, eps=eps)
        self.head = nn.Linear(d, n_cls) if n_cls else None

    def features(self, px, depth):
        """Hidden state after `depth` blocks: what the projector reads."""
        x = self.patch_embd(px).flatten(2).transpose(1, 2) + self.pos
        x = self.pre_ln(x)
        for blk in self.blocks[:depth]:
            x = blk(x)
        return x

    def classify(self, px):
        x = self.features(px, len(self.blocks))
        return self.head(self.post_ln(x).mean(1))


class Projector(nn.Module):
    def __init__(self, vd, d):
        super().__init__()
        self.l0 = nn.Linear(vd, d)
        self.l2 = nn.Linear(d, d)

    def forward(self, x):
        return self.l2(F.gelu(self.l0(x), approximate="tanh"))


# ---------------------------------------------------------------- decoder

class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, pos, base):
    """x (b, heads, n, hd): rotate adjacent pairs (x0, x1), (x2, x3), ..."""
    hd = x.shape[-1]
    inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = pos[:, None].float() * inv[None, :]
    c, s = torch.cos(ang), torch.sin(ang)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), -1).flatten(-2)


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, ff, eps, base):
        super().__init__()
        self.heads, self.base = heads, base
        self.attn_norm = RMSNorm(d, eps)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.ffn_norm = RMSNorm(d, eps)
        self.gate = nn.Linear(d, ff, bias=False)
        self.up = nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, pos, cache=None):
        b, n, d = x.shape
        h = self.attn_norm(x)
        q, k, v = (m(h).view(b, n, self.heads, -1).transpose(1, 2)
                   for m in (self.q, self.k, self.v))
        q, k = rope(q, pos, self.base), rope(k, pos, self.base)
        if cache is not None:
            if "k" in cache:
                k = torch.cat((cache["k"], k), 2)
                v = torch.cat((cache["v"], v), 2)
            cache["k"], cache["v"] = k, v
        s = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        if n > 1:
            m = k.shape[2]
            mask = torch.ones(n, m, dtype=torch.bool).triu(m - n + 1)
            s = s.masked_fill(mask, float("-inf"))
        a = torch.softmax(s, -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, n, d))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, vocab, d, heads, ff, layers, eps=1e-5, base=10000.0, ctx=512):
        super().__init__()
        self.vocab, self.d, self.heads, self.ff = vocab, d, heads, ff
        self.eps, self.base, self.ctx = eps, base, ctx
        self.embd = nn.Embedding(vocab, d)
        nn.init.normal_(self.embd.weight, std=0.02)
        self.blocks = nn.ModuleList(LlamaBlock(d, heads, ff, eps, base) for _ in range(layers))
        self.norm = RMSNorm(d, eps)

    def forward(self, x, start=0, caches=None):
        """x: input embeddings (b, n, d); returns logits (b, n, vocab)."""
        pos = torch.arange(start, start + x.shape[1])
        for i, blk in enumerate(self.blocks):
            x = blk(x, pos, caches[i] if caches is not None else None)
        return self.norm(x) @ self.embd.weight.t()

    def add_lora(self, r, alpha, targets=("q", "k", "v", "o", "gate", "up", "down")):
        for blk in self.blocks:
            for t in targets:
                setattr(blk, t, LoRALinear(getattr(blk, t), r, alpha))


class VLM(nn.Module):
    """Vision tower (frozen after pretraining), projector, decoder."""

    def __init__(self, vit, depth, llm):
        super().__init__()
        self.vit, self.depth, self.llm = vit, depth, llm
        self.proj = Projector(vit.d, llm.d)

    def image_embeddings(self, px=None, feats=None):
        if feats is None:
            feats = self.vit.features(px, self.depth)
        return self.proj(feats)

    def sequence(self, pre, img, post):
        """Embeddings of pre tokens, image, post tokens (batch 1 lists)."""
        e = self.llm.embd
        parts = [e(torch.tensor(pre))[None]]
        if img is not None:
            parts.append(img)
        parts.append(e(torch.tensor(post))[None])
        return torch.cat(parts, 1)

    @torch.no_grad()
    def greedy(self, pre, img, post, max_new, eos):
        caches = [dict() for _ in self.llm.blocks]
        x = self.sequence(pre, img, post)
        logits = self.llm(x, 0, caches)
        n, out = x.shape[1], []
        for _ in range(max_new):
            t = int(logits[0, -1].argmax())
            out.append(t)
            if t == eos:
                break
            logits = self.llm(self.llm.embd(torch.tensor([[t]])), n, caches)
            n += 1
        return out
