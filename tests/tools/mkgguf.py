#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""mkgguf - deterministic GGUF test files for the reader's tests.

  mkgguf.py tensors OUT.gguf [--types f32,f16,bf16,q8_0,q4_0,q4_k]
            [--seed 1] [--alignment N] [--small] [--no-expect]
      Several tensors of each type (shapes multiples of the block sizes,
      1 to 4 dimensions) and metadata of every GGUF type (the values are
      fixed; tests/unit/test_gguf.c checks them).  Unless --no-expect,
      also writes OUT.gguf.f32: every tensor dequantised by
      models/convert/gguf.py, float32, concatenated in file order, and
      OUT.gguf.src: the values before encoding, in the same layout.
  mkgguf.py bad OUT.gguf --mode MODE
      A small file broken in one way; MODE is one of the names printed
      by `mkgguf.py modes`.
  mkgguf.py badall DIR
      Every bad mode as DIR/MODE.gguf, and DIR/modes.txt with one
      "MODE<TAB>words the error must contain" line per file.
  mkgguf.py samples DIR
      The small valid edge-case files kept in tests/data/gguf.
  mkgguf.py corrupt IN OUT --mode truncate --at N
      The first N bytes of IN.
  mkgguf.py modes
      The list of bad modes, one per line.
"""

import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "models", "convert"))
import gguf  # noqa: E402

SHAPES = {
    # tensor type -> numpy shapes (last axis a multiple of the block)
    gguf.F32: [(3, 64), (5,), (2, 3, 4, 8)],
    gguf.F16: [(4, 32), (2, 2, 16)],
    gguf.BF16: [(4, 32), (7,)],
    gguf.Q8_0: [(3, 64), (2, 2, 32)],
    gguf.Q4_0: [(3, 64), (32,)],
    gguf.Q4_K: [(2, 256), (2, 1, 512)],
}


def add_metadata(w, small):
    """Metadata of every type; test_gguf.c knows these values."""
    w.add_string("general.name", "mkgguf tensors")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", (1 << 40) + 1)
    w.add_int64("test.i64", -(1 << 40))
    w.add_float32("test.f32", 1.5)
    w.add_float64("test.f64", 0.1)
    w.add_bool("test.bool", True)
    w.add_bool("test.false", False)
    w.add_string("test.str", "h\u00e9llo, world")
    w.add_string("test.empty", "")
    w.add_array("test.arr.u8", [1, 2, 255], gguf.UINT8)
    w.add_array("test.arr.i16", [-32768, 0, 32767], gguf.INT16)
    w.add_array("test.arr.i32", [-7, 0, 7, 2147483647], gguf.INT32)
    w.add_array("test.arr.u64", [0, 1 << 63], gguf.UINT64)
    w.add_array("test.arr.f32", [0.5, -2.25, 1e-3], gguf.FLOAT32)
    w.add_array("test.arr.f64", [0.1, -1e300], gguf.FLOAT64)
    w.add_array("test.arr.bool", [True, False, True], gguf.BOOL)
    w.add_array("test.arr.str", ["a", "", "\u00fcn\u00ef"], gguf.STRING)
    w.add_array("test.arr.empty", [], gguf.INT32)
    n = 50 if small else 1000
    w.add_array("test.tokens", ["tok%d" % i for i in range(n)],
                gguf.STRING)


def cmd_tensors(a):
    types = [gguf.TYPE_BY_NAME[t.strip()] for t in a.types.split(",")]
    rng = np.random.default_rng(a.seed)
    w = gguf.GGUFWriter("test", alignment=a.alignment)
    add_metadata(w, a.small)
    decoded, source = [], []
    for t in types:
        shapes = SHAPES[t][:1] if a.small else SHAPES[t]
        for i, shape in enumerate(shapes):
            x = rng.standard_normal(shape).astype(np.float32)
            x *= np.float32(10.0 ** rng.integers(-2, 3))
            name = "%s.%d" % (gguf.TYPE_NAMES[t].lower(), i)
            w.add_tensor(name, x, t)
            decoded.append(gguf.decode(w.tensors[-1][3], t, x.size))
            source.append(x.reshape(-1))
    w.write(a.out)
    if not a.no_expect:
        with open(a.out + ".f32", "wb") as fp:
            for d in decoded:
                fp.write(d.astype("<f4").tobytes())
        with open(a.out + ".src", "wb") as fp:
            for x in source:
                fp.write(x.astype("<f4").tobytes())
    # Read back with the python reader as a self-check.
    r = gguf.GGUFReader(a.out)
    assert len(r.tensors) == len(decoded)
    for t, d in zip(r.tensors, decoded):
        assert np.array_equal(r.tensor(t["name"]).reshape(-1), d,
                              equal_nan=True)


# ------------------------------------------------------------- bad files

def S(s):
    return gguf._str(s)


def kv(key, vtype, value, etype=None):
    return S(key) + struct.pack("<I", vtype) + \
        gguf.GGUFWriter._value(vtype, value, etype)


def tinfo(name, ne, ttype, offset):
    return S(name) + struct.pack("<I", len(ne)) + \
        struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", ttype, offset)


def build(kvs, tis, data, magic=b"GGUF", version=3, n_t=None, n_kv=None,
          align=32):
    h = magic + struct.pack("<IQQ", version,
                            len(tis) if n_t is None else n_t,
                            len(kvs) if n_kv is None else n_kv)
    h += b"".join(kvs) + b"".join(tis)
    h += b"\0" * (-len(h) % align)
    return h + data


ARCH = kv("general.architecture", gguf.STRING, "test")
DATA = np.arange(64, dtype="<f4").tobytes()     # two f32 tensors of 32


def good(**over):
    """A valid file: two F32 tensors a (32) and b (32)."""
    kvs = over.pop("kvs", [ARCH, kv("test.u32", gguf.UINT32, 7)])
    tis = over.pop("tis", [tinfo("a", [32], gguf.F32, 0),
                           tinfo("b", [32], gguf.F32, 128)])
    return build(kvs, tis, over.pop("data", DATA), **over)


def be(v):
    return struct.pack(">I", v)


BAD = {
    # mode: (bytes, words the error message must contain)
    "bad-magic": (lambda: good(magic=b"GGUZ"), "bad magic"),
    "bad-version": (lambda: good(version=1), "unsupported version 1"),
    "version-99": (lambda: good(version=99), "unsupported version 99"),
    "big-endian": (lambda: b"GGUF" + be(3) + good()[8:], "big-endian"),
    "bad-offset": (lambda: good(tis=[tinfo("a", [32], gguf.F32, 0),
                                     tinfo("b", [32], gguf.F32, 4096)]),
                   "extends past the end"),
    "misaligned": (lambda: good(tis=[tinfo("a", [32], gguf.F32, 0),
                                     tinfo("b", [32], gguf.F32, 100)]),
                   "not aligned to 32"),
    "huge-count": (lambda: good(n_kv=1 << 60), "cannot fit"),
    "huge-tensors": (lambda: good(n_t=(1 << 64) - 1), "cannot fit"),
    "huge-array": (lambda: good(kvs=[ARCH, S("test.a") + struct.pack(
        "<IIQ", gguf.ARRAY, gguf.UINT32, 1 << 62)]), "truncated"),
    "huge-strarray": (lambda: good(kvs=[ARCH, S("test.a") + struct.pack(
        "<IIQ", gguf.ARRAY, gguf.STRING, 1 << 61)]), "truncated"),
    "bad-type": (lambda: good(tis=[tinfo("a", [32], 99, 0)]),
                 "unknown tensor type 99"),
    "unsupported-type": (lambda: good(tis=[tinfo("a", [32], 6, 0)]),
                         "unsupported tensor type 6 (Q5_0)"),
    "missing-key": (lambda: good(kvs=[kv("test.u32", gguf.UINT32, 7)]),
                    "missing key 'general.architecture'"),
    "arch-type": (lambda: good(kvs=[kv("general.architecture", gguf.UINT32,
                                       7)]),
                  "key 'general.architecture': type uint32, expected string"),
    "dup-key": (lambda: good(kvs=[ARCH, kv("test.u32", gguf.UINT32, 7),
                                  kv("test.u32", gguf.UINT32, 8)]),
                "duplicate key 'test.u32'"),
    "dup-tensor": (lambda: good(tis=[tinfo("a", [32], gguf.F32, 0),
                                     tinfo("a", [32], gguf.F32, 128)]),
                   "duplicate tensor name 'a'"),
    "string-overrun": (lambda: good(kvs=[ARCH, S("test.s") + struct.pack(
        "<IQ", gguf.STRING, 1 << 40) + b"abc"]), "truncated"),
    "key-overrun": (lambda: good(kvs=[ARCH, struct.pack("<Q", 1 << 63)]),
                    "truncated"),
    "nested-array": (lambda: good(kvs=[ARCH, S("test.a") + struct.pack(
        "<IIQ", gguf.ARRAY, gguf.ARRAY, 1) + struct.pack(
        "<IQI", gguf.UINT32, 1, 5)]), "nested arrays"),
    "bad-value-type": (lambda: good(kvs=[ARCH, S("test.x") + struct.pack(
        "<II", 13, 0)]), "unknown value type 13"),
    "bad-elem-type": (lambda: good(kvs=[ARCH, S("test.x") + struct.pack(
        "<IIQ", gguf.ARRAY, 77, 0)]), "unknown array element type 77"),
    "bad-bool": (lambda: good(kvs=[ARCH, S("test.b") + struct.pack(
        "<IB", gguf.BOOL, 2)]), "bool value 2"),
    "empty-key": (lambda: good(kvs=[ARCH, S("") + struct.pack(
        "<IB", gguf.UINT8, 2)]), "empty name"),
    "nul-key": (lambda: good(kvs=[ARCH, kv("a\0b", gguf.UINT8, 2)]),
                "NUL byte"),
    "bad-ndims": (lambda: good(tis=[tinfo("a", [1, 1, 1, 1, 32][::-1],
                                          gguf.F32, 0)]),
                  "5 dimensions"),
    "zero-ndims": (lambda: good(tis=[tinfo("a", [], gguf.F32, 0)]),
                   "0 dimensions"),
    "zero-dim": (lambda: good(tis=[tinfo("a", [32, 0], gguf.F32, 0)]),
                 "dimension 1 is 0"),
    "dim-overflow": (lambda: good(tis=[tinfo("a", [1 << 32, 1 << 32],
                                             gguf.F32, 0)]),
                     "overflows"),
    "too-large": (lambda: good(tis=[tinfo("a", [1 << 20, 1 << 20],
                                          gguf.F32, 0)]),
                  "larger than the file"),
    "bad-rowlen": (lambda: good(tis=[tinfo("a", [48], gguf.Q8_0, 0)]),
                   "row length 48 is not a multiple"),
    "bad-alignment": (lambda: good(kvs=[ARCH, kv("general.alignment",
                                                 gguf.UINT32, 48)]),
                      "not a power of two"),
    "alignment-type": (lambda: good(kvs=[ARCH, kv("general.alignment",
                                                  gguf.UINT64, 32)]),
                       "key 'general.alignment': type uint64, "
                       "expected uint32"),
    "no-data": (lambda: good(data=b""), "extends past the end"),
    "truncate": (lambda: good()[:-1], "extends past the end"),
    "empty": (lambda: b"", "truncated"),
}


def cmd_bad(a):
    with open(a.out, "wb") as fp:
        fp.write(BAD[a.mode][0]())


def cmd_badall(a):
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "modes.txt"), "w") as lst:
        for m in sorted(BAD):
            with open(os.path.join(a.dir, m + ".gguf"), "wb") as fp:
                fp.write(BAD[m][0]())
            lst.write("%s\t%s\n" % (m, BAD[m][1]))


def cmd_samples(a):
    os.makedirs(a.dir, exist_ok=True)

    def put(name, data):
        with open(os.path.join(a.dir, name), "wb") as fp:
            fp.write(data)
    # Only general.architecture, no tensors.
    put("minimal-notensors.gguf", gguf.GGUFWriter("test").tobytes())
    # Version 2, ending right after the keys: no tensors, so no padding.
    put("v2-unpadded.gguf", b"GGUF" + struct.pack("<IQQ", 2, 0, 1) + ARCH)
    # One Q4_K tensor, alignment 256: padding before the data section.
    w = gguf.GGUFWriter("test", alignment=256)
    w.add_tensor("q", np.linspace(-1, 1, 256, dtype=np.float32)
                 .reshape(1, 256), gguf.Q4_K)
    put("q4k-align256.gguf", w.tobytes())
    # Two tensors at the same offset: legal, the data is read-only.
    put("overlap.gguf", good(tis=[tinfo("a", [32], gguf.F32, 0),
                                  tinfo("b", [32], gguf.F32, 0)]))


def cmd_modes(a):
    for m in sorted(BAD):
        print("%s\t%s" % (m, BAD[m][1]))


def cmd_corrupt(a):
    if a.mode != "truncate":
        with open(a.out, "wb") as fp:
            fp.write(BAD[a.mode][0]())
        return
    with open(a.inp, "rb") as fp:
        b = fp.read()
    with open(a.out, "wb") as fp:
        fp.write(b[:a.at if a.at is not None else len(b) // 2])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tensors")
    t.add_argument("out")
    t.add_argument("--types", default="f32,f16,bf16,q8_0,q4_0,q4_k")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--alignment", type=int)
    t.add_argument("--small", action="store_true")
    t.add_argument("--no-expect", action="store_true")
    b = sub.add_parser("bad")
    b.add_argument("out")
    b.add_argument("--mode", required=True, choices=sorted(BAD))
    c = sub.add_parser("corrupt")
    c.add_argument("inp")
    c.add_argument("out")
    c.add_argument("--mode", required=True,
                   choices=["truncate"] + sorted(BAD))
    c.add_argument("--at", type=int)
    ba = sub.add_parser("badall")
    ba.add_argument("dir")
    sa = sub.add_parser("samples")
    sa.add_argument("dir")
    sub.add_parser("modes")
    a = p.parse_args()
    cmds = {"tensors": cmd_tensors, "bad": cmd_bad, "corrupt": cmd_corrupt,
            "badall": cmd_badall, "samples": cmd_samples, "modes": cmd_modes}
    cmds[a.cmd](a)


if __name__ == "__main__":
    main()
