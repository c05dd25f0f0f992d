#!/usr/bin/python3
"""torch_bench - the same model shapes run by Debian's PyTorch, for
tests/bench/engine_bench.sh: a LLaMA-style decoder (RMSNorm, RoPE, SwiGLU)
with a KV-cached greedy loop in float32, and a ViT of the encoder's shape.
Speed only: random weights.  Prints "prefill N tok/s", "decode N tok/s",
"encoder N ms".  Run with OMP_WAIT_POLICY=PASSIVE and 2 threads (tuned).

usage: torch_bench.py DIM LAYERS HEADS FF VOCAB PROMPT DECODE IMG PATCH VDIM VHEADS VFF VLAYERS
"""
import sys
import time

import torch

torch.manual_seed(0)
(dim, L, H, ff, V, NP, ND, img, patch, vd, vh, vff, vl) = (int(a) for a in sys.argv[1:14])
torch.set_num_threads(int(__import__("os").environ.get("THREADS", "2")))
hd = dim // H


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wq, self.wk, self.wv, self.wo = (torch.nn.Linear(dim, dim, bias=False) for _ in range(4))
        self.g, self.u = torch.nn.Linear(dim, ff, bias=False), torch.nn.Linear(dim, ff, bias=False)
        self.d = torch.nn.Linear(ff, dim, bias=False)
        self.n1, self.n2 = torch.ones(dim), torch.ones(dim)

    def forward(self, x, cache, pos, cos, sin):
        def rms(t, w):
            return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-5) * w

        def rope(t):
            t0, t1 = t[..., 0::2], t[..., 1::2]
            c, s = cos[pos:pos + t.shape[1]], sin[pos:pos + t.shape[1]]
            return torch.stack((t0 * c - t1 * s, t0 * s + t1 * c), -1).flatten(-2)

        n = x.shape[0]
        h = rms(x, self.n1)
        q = rope(self.wq(h).view(n, H, hd).transpose(0, 1))
        k = rope(self.wk(h).view(n, H, hd).transpose(0, 1))
        v = self.wv(h).view(n, H, hd).transpose(0, 1)
        if cache[0] is not None:
            k, v = torch.cat((cache[0], k), 1), torch.cat((cache[1], v), 1)
        cache[0], cache[1] = k, v
        s_ = q @ k.transpose(1, 2) / hd ** 0.5
        if n > 1:
            s_ = s_ + torch.full((n, k.shape[1]), float("-inf")).triu(k.shape[1] - n + 1)
        a = s_.softmax(-1) @ v
        x = x + self.wo(a.transpose(0, 1).reshape(n, dim))
        h = rms(x, self.n2)
        return x + self.d(torch.nn.functional.silu(self.g(h)) * self.u(h))


blocks = [Block() for _ in range(L)]
emb = torch.nn.Embedding(V, dim)
out = torch.nn.Linear(dim, V, bias=False)
theta = 10000.0 ** (-torch.arange(0, hd, 2).float() / hd)
ang = torch.arange(NP + ND + 8).float()[:, None] * theta[None]
cos, sin = ang.cos(), ang.sin()


def run():
    caches = [[None, None] for _ in blocks]
    with torch.no_grad():
        ids = torch.randint(3, V, (NP,))
        t0 = time.perf_counter()
        x = emb(ids)
        for b, c in zip(blocks, caches):
            x = b(x, c, 0, cos, sin)
        tok = out(x[-1]).argmax()
        t1 = time.perf_counter()
        for i in range(ND):
            x = emb(tok.view(1))
            for b, c in zip(blocks, caches):
                x = b(x, c, NP + i, cos, sin)
            tok = out(x[-1]).argmax()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1


vit = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
    vd, vh, vff, activation="gelu", batch_first=True, norm_first=True), vl)
pe = torch.nn.Conv2d(3, vd, patch, patch, bias=False)
pix = torch.randn(1, 3, img, img)
best = [1e9, 1e9, 1e9]
for _ in range(3):
    p, d = run()
    with torch.no_grad():
        t = time.perf_counter()
        vit(pe(pix).flatten(2).transpose(1, 2))
        e = time.perf_counter() - t
    best = [min(best[0], p), min(best[1], d), min(best[2], e)]
print("prefill %.0f tok/s" % (NP / best[0]))
print("decode %.1f tok/s" % (ND / best[1]))
print("encoder %.1f ms" % (best[2] * 1e3))
