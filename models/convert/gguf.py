# SPDX-License-Identifier: GPL-2.0-or-later
"""gguf - a small GGUF v3 writer and reader, numpy only.

Writes the layout llama.cpp reads (https://github.com/ggml-org/ggml,
docs/gguf.md): header, key/values, tensor infos, then tensor data aligned
to general.alignment (32 unless the caller sets that key).  Tensors come
from numpy arrays; an array of shape (rows, cols) is stored with
ne = [cols, rows], as llama.cpp's converter does (the last numpy axis is
GGML's ne[0], the row).

Quantisation follows ggml-quants.c's reference functions:
  Q8_0  quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d) (half away
        from zero), d stored as fp16.
  Q4_0  quantize_row_q4_0_ref: d = max/-8 where max is the element of
        largest magnitude (first one on ties, sign kept), q =
        min(15, (int8)(x/d + 8.5)), elements 0..15 in the low nibbles.
  Q4_K  quantize_row_q4_K_ref: make_qkx2_quants(32, 15, x, w, rmin=-1,
        rdelta=0.1, nstep=20, use_mad=false) per 32-element sub-block with
        weights av_x + |x|, 6-bit scales/mins packed as get_scale_min_k4
        reads them, then the values re-quantised against the stored
        scales.
All arithmetic is float32 like the C code, vectorised over blocks, with
sums accumulated left to right as the C loops do (np.cumsum), so the
output should match ggml's reference bit for bit unless its compiler
contracts a*b+c into an FMA (GCC does not in ISO C mode); the block layout
and the dequantisation are exact in any case.  tests/unit/test_gguf.c
checks the bytes against a C transcription of the ggml reference
functions (llama.cpp itself is not available here).  fp16 conversion is numpy's (round to
nearest even, as F16C); bf16 is GGML's (round to nearest even, NaN kept
quiet).

The reader (GGUFReader) parses a file and returns metadata and tensors
dequantised to float32, for tests.  Speed, one core: F16 ~340, Q4_0 ~150,
Q8_0 ~70, Q4_K ~2 million elements per second (Q4_K's 21-step search
dominates; fine for test models, slow for 7B).
"""

import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
DEFAULT_ALIGNMENT = 32

# Metadata value types.
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, \
    UINT64, INT64, FLOAT64 = range(13)

_SCALAR_FMT = {
    UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I",
    INT32: "<i", FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q",
    FLOAT64: "<d",
}
_NP_DTYPE = {
    UINT8: "<u1", INT8: "<i1", UINT16: "<u2", INT16: "<i2", UINT32: "<u4",
    INT32: "<i4", FLOAT32: "<f4", BOOL: "<u1", UINT64: "<u8", INT64: "<i8",
    FLOAT64: "<f8",
}

# Tensor types (GGML ids, as in src/infer/dtype.h).
F32, F16, Q4_0, Q8_0, Q4_K, BF16 = 0, 1, 2, 8, 12, 30
TYPE_NAMES = {F32: "F32", F16: "F16", Q4_0: "Q4_0", Q8_0: "Q8_0",
              Q4_K: "Q4_K", BF16: "BF16"}
TYPE_BY_NAME = {v.lower(): k for k, v in TYPE_NAMES.items()}
# (elements per block, bytes per block)
BLOCK = {F32: (1, 4), F16: (1, 2), BF16: (1, 2), Q8_0: (32, 34),
         Q4_0: (32, 18), Q4_K: (256, 144)}
QK_K = 256


# ------------------------------------------------------------ element types

def fp32_to_bf16(x):
    """GGML's ggml_compute_fp32_to_bf16: round to nearest even; NaN stays
    a quiet NaN.  Returns uint16."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    u = u.astype(np.uint64)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r = (u + (0x7FFF + ((u >> 16) & 1))) >> 16
    r = np.where(nan, (u >> 16) | 64, r)
    return (r & 0xFFFF).astype(np.uint16)


def bf16_to_fp32(h):
    return (np.asarray(h, dtype=np.uint16).astype(np.uint32) << 16) \
        .view(np.float32)


def _fp16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16)


def _nearest_int(x):
    # ggml's nearest_int: round half to even (the 12582912 trick).
    return np.rint(x).astype(np.int32)


def quantize_q8_0(x):
    """x: float32, size a multiple of 32.  Returns the raw blocks."""
    b = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.max(np.abs(b), axis=1)
    d = amax / np.float32(127)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, np.float32(1) / d, np.float32(0))
    v = (b * idv[:, None].astype(np.float32)).astype(np.float64)
    # roundf: half away from zero (exact in float64).
    q = (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int8)
    out = np.zeros(b.shape[0], dtype=[("d", "<f2"), ("qs", "i1", 32)])
    out["d"] = _fp16(d)
    out["qs"] = q
    return out.tobytes()


def dequantize_q8_0(raw, n):
    a = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "i1", 32)],
                      count=n // 32)
    return (a["d"].astype(np.float32)[:, None]
            * a["qs"].astype(np.float32)).reshape(-1)


def quantize_q4_0(x):
    b = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    idx = np.argmax(np.abs(b), axis=1)      # first maximum, as the C loop
    mx = b[np.arange(b.shape[0]), idx]
    mx = np.where(mx == 0, np.float32(0), mx)   # C keeps +0.0 for -0.0 blocks
    d = mx / np.float32(-8)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, np.float32(1) / d, np.float32(0))
    v = b * idv[:, None].astype(np.float32) + np.float32(8.5)
    q = np.minimum(15, np.trunc(v).astype(np.int32)).astype(np.uint8)
    out = np.zeros(b.shape[0], dtype=[("d", "<f2"), ("qs", "u1", 16)])
    out["d"] = _fp16(d)
    out["qs"] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def dequantize_q4_0(raw, n):
    a = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "u1", 16)],
                      count=n // 32)
    lo = (a["qs"] & 15).astype(np.float32) - 8
    hi = (a["qs"] >> 4).astype(np.float32) - 8
    d = a["d"].astype(np.float32)[:, None]
    return np.concatenate([lo * d, hi * d], axis=1).reshape(-1)


def _seqsum(a):
    """Row sums accumulated left to right in float32, as a C loop does
    (numpy's sum is pairwise, which rounds differently)."""
    return np.cumsum(a, axis=1, dtype=np.float32)[:, -1]


def _make_qkx2_quants(x, w, nmax, rmin, rdelta, nstep):
    """ggml's make_qkx2_quants with use_mad = false, over rows of x.
    Returns (scale, the_min, L) with the_min >= 0 (stored negated)."""
    f = np.float32
    x = x.astype(f)
    w = w.astype(f)
    mn = np.minimum(x.min(axis=1), f(0))
    mx = x.max(axis=1)
    sum_w = _seqsum(w)
    sum_x = _seqsum(w * x)
    flat = mx == mn
    rng = np.where(flat, f(1), mx - mn).astype(f)
    iscale = f(nmax) / rng
    scale = f(1) / iscale
    L = np.clip(_nearest_int(iscale[:, None] * (x - mn[:, None])), 0, nmax)
    diff = scale[:, None] * L.astype(f) + mn[:, None] - x
    best = _seqsum(w * (diff * diff))
    for s in range(nstep + 1):
        # ggml divides by max - min with min as updated by earlier steps.
        cur = np.where(flat, f(1), mx - mn).astype(f)
        isc = (f(rmin) + f(rdelta) * f(s) + f(nmax)) / cur
        La = np.clip(_nearest_int(isc[:, None] * (x - mn[:, None])), 0,
                     nmax)
        Laf = La.astype(f)
        sum_l = _seqsum(w * Laf)
        sum_l2 = _seqsum(w * Laf * Laf)
        sum_xl = _seqsum(w * Laf * x)
        D = sum_w * sum_l2 - sum_l * sum_l
        ok = D > 0
        Ds = np.where(ok, D, f(1))
        ts = (sum_w * sum_xl - sum_x * sum_l) / Ds
        tm = (sum_l2 * sum_x - sum_l * sum_xl) / Ds
        pos = tm > 0
        tm = np.where(pos, f(0), tm)
        with np.errstate(divide="ignore", invalid="ignore"):
            ts = np.where(pos, sum_xl / np.where(sum_l2 != 0, sum_l2, f(1)),
                          ts)
        diff = ts[:, None] * Laf + tm[:, None] - x
        mad = _seqsum(w * (diff * diff))
        better = ok & (mad < best) & ~flat
        L = np.where(better[:, None], La, L)
        best = np.where(better, mad, best)
        scale = np.where(better, ts, scale).astype(f)
        mn = np.where(better, tm, mn).astype(f)
    L = np.where(flat[:, None], 0, L)
    scale = np.where(flat, f(0), scale).astype(f)
    return scale, (-mn).astype(f), L.astype(np.uint8)


def _scale_min_k4(scales):
    """get_scale_min_k4 for all 8 sub-blocks: (sc, m), each (nb, 8)."""
    q = scales.astype(np.uint8)
    sc = np.empty((q.shape[0], 8), dtype=np.uint8)
    m = np.empty_like(sc)
    sc[:, :4] = q[:, 0:4] & 63
    m[:, :4] = q[:, 4:8] & 63
    sc[:, 4:] = (q[:, 8:12] & 0xF) | ((q[:, 0:4] >> 6) << 4)
    m[:, 4:] = (q[:, 8:12] >> 4) | ((q[:, 4:8] >> 6) << 4)
    return sc, m


Q4_K_DTYPE = [("d", "<f2"), ("dmin", "<f2"), ("scales", "u1", 12),
              ("qs", "u1", 128)]


def quantize_q4_k(x):
    f = np.float32
    b = np.asarray(x, dtype=f).reshape(-1, QK_K)
    nb = b.shape[0]
    sub = b.reshape(nb * 8, 32)
    av_x = np.sqrt(_seqsum(sub * sub) / f(32))
    w = av_x[:, None] + np.abs(sub)
    scales, mins, L0 = _make_qkx2_quants(sub, w, 15, -1.0, 0.1, 20)
    scales = scales.reshape(nb, 8)
    mins = mins.reshape(nb, 8)
    max_scale = np.maximum(scales.max(axis=1), f(0))
    max_min = np.maximum(mins.max(axis=1), f(0))
    with np.errstate(divide="ignore"):
        inv_s = np.where(max_scale > 0, f(63) / max_scale, f(0))
        inv_m = np.where(max_min > 0, f(63) / max_min, f(0))
    # uint8_t ls = nearest_int(...); ls = MIN(63, ls): wrap, then clamp.
    ls = np.minimum(63, _nearest_int(inv_s[:, None] * scales) & 0xFF) \
        .astype(np.uint8)
    lm = np.minimum(63, _nearest_int(inv_m[:, None] * mins) & 0xFF) \
        .astype(np.uint8)
    sc = np.zeros((nb, 12), dtype=np.uint8)
    sc[:, 0:4] = ls[:, 0:4]
    sc[:, 4:8] = lm[:, 0:4]
    sc[:, 8:12] = (ls[:, 4:8] & 0xF) | ((lm[:, 4:8] & 0xF) << 4)
    sc[:, 0:4] |= (ls[:, 4:8] >> 4) << 6
    sc[:, 4:8] |= (lm[:, 4:8] >> 4) << 6
    d = _fp16(max_scale / f(63))
    dmin = _fp16(max_min / f(63))
    s6, m6 = _scale_min_k4(sc)
    dd = d.astype(f)[:, None] * s6.astype(f)        # (nb, 8)
    dm = dmin.astype(f)[:, None] * m6.astype(f)
    xs = b.reshape(nb, 8, 32)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = _nearest_int((xs + dm[:, :, None]) / dd[:, :, None])
    L = np.clip(L, 0, 15)
    # Where d == 0 the C code keeps make_qkx2_quants' levels.
    L = np.where((dd == 0)[:, :, None], L0.reshape(nb, 8, 32), L) \
        .astype(np.uint8)
    # Sub-blocks 2j and 2j+1 share 32 bytes: low nibble, high nibble.
    L = L.reshape(nb, 4, 2, 32)
    qs = (L[:, :, 0, :] | (L[:, :, 1, :] << 4)).reshape(nb, 128)
    out = np.zeros(nb, dtype=Q4_K_DTYPE)
    out["d"] = d
    out["dmin"] = dmin
    out["scales"] = sc
    out["qs"] = qs
    return out.tobytes()


def dequantize_q4_k(raw, n):
    a = np.frombuffer(raw, dtype=Q4_K_DTYPE, count=n // QK_K)
    nb = a.shape[0]
    sc, m = _scale_min_k4(a["scales"])
    d = a["d"].astype(np.float32)[:, None] * sc.astype(np.float32)
    mn = a["dmin"].astype(np.float32)[:, None] * m.astype(np.float32)
    qs = a["qs"].reshape(nb, 4, 32)
    q = np.stack([qs & 15, qs >> 4], axis=2).reshape(nb, 8, 32)
    return (d[:, :, None] * q.astype(np.float32)
            - mn[:, :, None]).reshape(-1)


def encode(x, ttype):
    """Raw tensor bytes of x (float array, last axis a multiple of the
    block size) in ttype."""
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    if ttype == F32:
        return x.astype("<f4").tobytes()
    if ttype == F16:
        return _fp16(x).astype("<f2").tobytes()
    if ttype == BF16:
        return fp32_to_bf16(x).astype("<u2").tobytes()
    if ttype == Q8_0:
        return quantize_q8_0(x)
    if ttype == Q4_0:
        return quantize_q4_0(x)
    if ttype == Q4_K:
        return quantize_q4_k(x)
    raise ValueError("unsupported tensor type %r" % (ttype,))


def decode(raw, ttype, n):
    """n float32 values from raw tensor bytes of type ttype."""
    if ttype == F32:
        return np.frombuffer(raw, dtype="<f4", count=n).astype(np.float32)
    if ttype == F16:
        return np.frombuffer(raw, dtype="<f2", count=n).astype(np.float32)
    if ttype == BF16:
        return bf16_to_fp32(np.frombuffer(raw, dtype="<u2", count=n))
    if ttype == Q8_0:
        return dequantize_q8_0(raw, n)
    if ttype == Q4_0:
        return dequantize_q4_0(raw, n)
    if ttype == Q4_K:
        return dequantize_q4_k(raw, n)
    raise ValueError("unsupported tensor type %r" % (ttype,))


def nbytes(ttype, n):
    blck, size = BLOCK[ttype]
    return n // blck * size


# ------------------------------------------------------------------ writer

def _str(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return struct.pack("<Q", len(s)) + s


class GGUFWriter:
    """Collects key/values and tensors, then writes one GGUF v3 file.

        w = GGUFWriter("llama")          # sets general.architecture
        w.add_uint32("llama.block_count", 2)
        w.add_array("tokenizer.ggml.tokens", ["<s>", "a"], STRING)
        w.add_tensor("token_embd.weight", emb, F16)   # emb: (n_vocab, dim)
        w.write("model.gguf")

    Keys are written in insertion order; tensors too, each padded to the
    alignment.  add_tensor_raw stores already-encoded bytes (for tests
    that build odd files).  add_tensor_lazy takes a shape and a function
    that makes the array when write() gets to it, so a 7B-shaped file is
    written one tensor at a time instead of held in memory."""

    def __init__(self, arch=None, alignment=None):
        self.kv = []                    # (key, type, value, etype)
        self.tensors = []       # (name, ne, ttype, bytes or callable)
        self.alignment = DEFAULT_ALIGNMENT
        if alignment is not None:
            self.add_uint32("general.alignment", alignment)
        if arch is not None:
            self.add_string("general.architecture", arch)

    def add(self, key, vtype, value, etype=None):
        if any(k == key for k, _, _, _ in self.kv):
            raise ValueError("duplicate key %r" % key)
        if vtype == ARRAY and etype is None:
            raise ValueError("array %r needs an element type" % key)
        if key == "general.alignment":
            if vtype != UINT32 or value <= 0 or value & (value - 1):
                raise ValueError("general.alignment must be a uint32 power "
                                 "of two")
            self.alignment = value
        self.kv.append((key, vtype, value, etype))

    def add_uint8(self, k, v): self.add(k, UINT8, v)
    def add_int8(self, k, v): self.add(k, INT8, v)
    def add_uint16(self, k, v): self.add(k, UINT16, v)
    def add_int16(self, k, v): self.add(k, INT16, v)
    def add_uint32(self, k, v): self.add(k, UINT32, v)
    def add_int32(self, k, v): self.add(k, INT32, v)
    def add_uint64(self, k, v): self.add(k, UINT64, v)
    def add_int64(self, k, v): self.add(k, INT64, v)
    def add_float32(self, k, v): self.add(k, FLOAT32, v)
    def add_float64(self, k, v): self.add(k, FLOAT64, v)
    def add_bool(self, k, v): self.add(k, BOOL, bool(v))
    def add_string(self, k, v): self.add(k, STRING, v)

    def add_array(self, k, values, etype):
        """values: a list (or numpy array) of etype elements; etype any
        scalar type or STRING."""
        self.add(k, ARRAY, list(values) if etype == STRING else
                 np.asarray(values), etype)

    def add_tensor(self, name, array, ttype=F32):
        """array: numpy, 1 to 4 dims, last axis a multiple of the type's
        block size; stored with ne reversed from the numpy shape."""
        a = np.asarray(array, dtype=np.float32)
        if not 1 <= a.ndim <= 4:
            raise ValueError("%s: %d dimensions" % (name, a.ndim))
        if a.shape[-1] % BLOCK[ttype][0]:
            raise ValueError("%s: row length %d not a multiple of %d" %
                             (name, a.shape[-1], BLOCK[ttype][0]))
        self.add_tensor_raw(name, list(reversed(a.shape)), ttype,
                            encode(a, ttype))

    def add_tensor_raw(self, name, ne, ttype, data):
        if any(t[0] == name for t in self.tensors):
            raise ValueError("duplicate tensor %r" % name)
        self.tensors.append((name, list(ne), ttype, bytes(data)))

    def add_tensor_lazy(self, name, shape, ttype, make):
        """As add_tensor for make(), a numpy array of the given shape,
        called (once) only while writing."""
        shape = tuple(int(d) for d in shape)
        if not 1 <= len(shape) <= 4 or shape[-1] % BLOCK[ttype][0]:
            raise ValueError("%s: bad shape %r for %s" %
                             (name, shape, TYPE_NAMES[ttype]))
        if any(t[0] == name for t in self.tensors):
            raise ValueError("duplicate tensor %r" % name)

        def produce():
            a = np.asarray(make(), dtype=np.float32)
            if a.shape != shape:
                raise ValueError("%s: made shape %r, declared %r" %
                                 (name, a.shape, shape))
            return encode(a, ttype)
        self.tensors.append((name, list(reversed(shape)), ttype, produce))

    @staticmethod
    def _size(ne, ttype):
        return nbytes(ttype, int(np.prod(ne, dtype=np.int64)))

    def _data(self, t):
        data = t[3]() if callable(t[3]) else t[3]
        if not callable(t[3]) or len(data) == self._size(t[1], t[2]):
            return data
        raise ValueError("%s: %d bytes, expected %d" %
                         (t[0], len(data), self._size(t[1], t[2])))

    @staticmethod
    def _value(vtype, v, etype=None):
        if vtype == STRING:
            return _str(v)
        if vtype == ARRAY:
            out = struct.pack("<IQ", etype, len(v))
            if etype == STRING:
                return out + b"".join(_str(s) for s in v)
            if etype == ARRAY:
                raise ValueError("nested arrays are not supported")
            return out + np.asarray(v).astype(_NP_DTYPE[etype]).tobytes()
        return struct.pack(_SCALAR_FMT[vtype], v)

    def header(self):
        """(header bytes including padding, tensor offsets)."""
        out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION,
                                       len(self.tensors), len(self.kv))]
        for k, vt, v, et in self.kv:
            out.append(_str(k) + struct.pack("<I", vt) +
                       self._value(vt, v, et))
        offsets, off = [], 0
        for name, ne, tt, data in self.tensors:
            out.append(_str(name) + struct.pack("<I", len(ne)) +
                       struct.pack("<%dQ" % len(ne), *ne) +
                       struct.pack("<IQ", tt, off))
            offsets.append(off)
            off += self._size(ne, tt) if callable(data) else len(data)
            off += -off % self.alignment
        h = b"".join(out)
        return h + b"\0" * (-len(h) % self.alignment), offsets

    def _chunks(self):
        h, _ = self.header()
        yield h
        for t in self.tensors:
            data = self._data(t)
            yield data
            yield b"\0" * (-len(data) % self.alignment)

    def tobytes(self):
        return b"".join(self._chunks())

    def write(self, path):
        with open(path, "wb") as fp:
            for chunk in self._chunks():
                fp.write(chunk)


# ------------------------------------------------------------------ reader

class GGUFReader:
    """Parses a GGUF v2/v3 file (little-endian).  Attributes:
        version, alignment, data_offset
        kv: dict key -> (type, value, etype); arrays are lists (strings)
            or numpy arrays
        tensors: list of dict(name, ne, type, offset, raw)
    tensor(name) returns a float32 numpy array of shape reversed(ne)."""

    def __init__(self, path_or_bytes):
        if isinstance(path_or_bytes, (bytes, bytearray)):
            self.buf = bytes(path_or_bytes)
        else:
            with open(path_or_bytes, "rb") as fp:
                self.buf = fp.read()
        self.pos = 0
        self._parse()

    def _take(self, n):
        if self.pos + n > len(self.buf):
            raise ValueError("truncated at %d" % self.pos)
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def _u(self, fmt):
        sz = struct.calcsize(fmt)
        return struct.unpack(fmt, self._take(sz))[0]

    def _s(self):
        return self._take(self._u("<Q")).decode("utf-8",
                                                errors="surrogateescape")

    def _val(self, t):
        if t == STRING:
            return self._s(), None
        if t == ARRAY:
            et, n = self._u("<I"), self._u("<Q")
            if et == STRING:
                return [self._s() for _ in range(n)], et
            if et == ARRAY:
                raise ValueError("nested array")
            dt = np.dtype(_NP_DTYPE[et])
            a = np.frombuffer(self._take(n * dt.itemsize), dtype=dt)
            return (a.astype(bool) if et == BOOL else a), et
        return self._u(_SCALAR_FMT[t]), None

    def _parse(self):
        if self._take(4) != GGUF_MAGIC:
            raise ValueError("bad magic")
        self.version = self._u("<I")
        if self.version not in (2, 3):
            raise ValueError("unsupported version %d" % self.version)
        nt, nkv = self._u("<Q"), self._u("<Q")
        self.kv = {}
        for _ in range(nkv):
            k = self._s()
            t = self._u("<I")
            v, et = self._val(t)
            self.kv[k] = (t, v, et)
        self.alignment = self.kv.get("general.alignment",
                                     (UINT32, DEFAULT_ALIGNMENT))[1]
        self.tensors = []
        for _ in range(nt):
            name = self._s()
            nd = self._u("<I")
            ne = [self._u("<Q") for _ in range(nd)]
            tt, off = self._u("<I"), self._u("<Q")
            self.tensors.append(dict(name=name, ne=ne, type=tt, offset=off))
        self.data_offset = self.pos + (-self.pos % self.alignment)
        for t in self.tensors:
            n = int(np.prod(t["ne"]))
            start = self.data_offset + t["offset"]
            t["raw"] = self.buf[start:start + nbytes(t["type"], n)]

    def get(self, key, default=None):
        return self.kv[key][1] if key in self.kv else default

    def tensor(self, name):
        for t in self.tensors:
            if t["name"] == name:
                n = int(np.prod(t["ne"]))
                return decode(t["raw"], t["type"], n).reshape(
                    list(reversed(t["ne"])))
        raise KeyError(name)
