#!/usr/bin/python3
"""Independent numpy twin of src/infer/image.c (radscribe's vision input),
used by the training recipe and by the tests.

Views (8-bit grey) are joined left to right with a 10-pixel black separator,
top-aligned on a canvas as tall as the tallest view; the result is scaled to
fit a SIZE x SIZE square keeping its aspect ratio with llama.cpp's bicubic
filter, centred on a canvas of RGB (122, 116, 104), and normalised as
(x / 255 - mean) / std.  The arithmetic mirrors llama.cpp's: float32
variables, float64 constants, round half away from zero.

usage: preprocess.py [--size N] [--mean a,b,c --std a,b,c --f32 OUT.f32]
                     OUT.rgb IMAGE...
OUT.rgb gets SIZE*SIZE*3 bytes (RGB interleaved); --f32 writes the
normalised planar CHW float32 tensor.
"""
import argparse
import sys

import numpy as np
from PIL import Image

SEPARATOR = 10
PAD = (122, 116, 104)
F = np.float32


def join(views):
    h = max(v.shape[0] for v in views)
    w = sum(v.shape[1] for v in views) + SEPARATOR * (len(views) - 1)
    out = np.zeros((h, w), np.uint8)
    x = 0
    for v in views:
        out[:v.shape[0], x:x + v.shape[1]] = v
        x += v.shape[1] + SEPARATOR
    return out


def _coef(d0, d2, d3):
    # float64 constants times float32 values, stored to float32, as in C
    d0, d2, d3 = (a.astype(np.float64) for a in (d0, d2, d3))
    a1 = (-1.0 / 3 * d0 + d2 - 1.0 / 6 * d3).astype(F)
    a2 = (1.0 / 2 * d0 + 1.0 / 2 * d2).astype(F)
    a3 = (-1.0 / 6 * d0 - 1.0 / 2 * d2 + 1.0 / 6 * d3).astype(F)
    return a1, a2, a3


def _cubic(a0, a1, a2, a3, t):
    return ((a0 + a1 * t) + (a2 * t) * t) + ((a3 * t) * t) * t


def bicubic(src, tw, th):
    """llama.cpp's bicubic_resize on one channel (uint8 2-D array)."""
    ny, nx = src.shape
    tx = F(nx) / F(tw)
    ty = F(ny) / F(th)
    jf = np.arange(tw, dtype=F)
    i_f = np.arange(th, dtype=F)
    x = (tx * jf).astype(np.int64)
    y = (ty * i_f).astype(np.int64)
    dx = (tx * jf - x.astype(F)).astype(F)
    dy = (ty * i_f - y.astype(F)).astype(F)
    s = src.astype(F)

    def px(yy, xx):
        return s[np.clip(yy, 0, ny - 1)[:, None], np.clip(xx, 0, nx - 1)[None, :]]

    C = []
    for jj in range(4):
        yy = y - 1 + jj
        p0 = px(yy, x)
        a1, a2, a3 = _coef(px(yy, x - 1) - p0, px(yy, x + 1) - p0, px(yy, x + 2) - p0)
        C.append(_cubic(p0, a1, a2, a3, dx[None, :]).astype(F))
    d0, d2, d3 = C[0] - C[1], C[2] - C[1], C[3] - C[1]
    a1, a2, a3 = _coef(d0, d2, d3)
    cc = _cubic(C[1], a1, a2, a3, dy[:, None]).astype(F).astype(np.float64)
    r = np.sign(cc) * np.floor(np.abs(cc) + 0.5)    # roundf
    return np.clip(r, 0, 255).astype(np.uint8)


def resize_pad(img, size):
    h, w = img.shape
    sw = F(size) / F(w)
    sh = F(size) / F(h)
    if sw < sh:
        nw, nh = size, min(int(np.ceil(F(h) * sw)), size)
    else:
        nh, nw = size, min(int(np.ceil(F(w) * sh)), size)
    out = np.empty((size, size, 3), np.uint8)
    out[:, :] = PAD
    r = bicubic(img, nw, nh)
    px, py = (size - nw) // 2, (size - nh) // 2
    out[py:py + nh, px:px + nw, :] = r[:, :, None]
    return out


def normalize(rgb, mean, std):
    x = rgb.astype(F) / F(255.0)
    x = (x - np.array(mean, F)) / np.array(std, F)
    return np.ascontiguousarray(x.transpose(2, 0, 1)).astype(F)


def load(path):
    im = Image.open(path)
    if im.mode not in ("L", "I;16", "I"):
        raise SystemExit(f"{path}: only grey images are compared ({im.mode})")
    a = np.asarray(im)
    if a.dtype != np.uint8:     # 16-bit grey: scale like the C reader
        a = ((a.astype(np.int64) * 255 + 32767) // 65535).astype(np.uint8)
    return a


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=336)
    ap.add_argument("--mean")
    ap.add_argument("--std")
    ap.add_argument("--f32")
    ap.add_argument("out")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args(argv)
    rgb = resize_pad(join([load(p) for p in a.images]), a.size)
    with open(a.out, "wb") as f:
        f.write(rgb.tobytes())
    if a.f32:
        mean = [float(v) for v in a.mean.split(",")]
        std = [float(v) for v in a.std.split(",")]
        with open(a.f32, "wb") as f:
            f.write(normalize(rgb, mean, std).tobytes())


if __name__ == "__main__":
    main(sys.argv[1:])
