#!/bin/sh
# run_net.sh - build the network face's libFuzzer harnesses and run them:
# fuzz_recv (dsscan, DCMTK's parser and the guard's PDU checks) and
# fuzz_find (a C-FIND identifier to SQL on SQLite); see README.md.
#   tests/fuzz/run_net.sh [SECONDS [HARNESS]]
# SECONDS (default 60) per harness, one after the other, one job each;
# 0 builds the harnesses and stops there.  HARNESS: recv, find or both
# (the default).  FUZZ_MAXLEN sets the largest input (default 8192 bytes).
# Builds into ${FUZZ_OUT:-/tmp/radscribe-fuzz-net}, writes seeds there
# (seeds-recv, seeds-find: small data sets, identifiers and PDU streams
# made here, the tests/data fixtures' headers and those of
# $SHARED_DATA/dicom-samples) and a dictionary (net.dict), and runs from
# work-HARNESS (new inputs), tests/fuzz/corpus-HARNESS and the seeds.
# Crashes are left as recv-crash-*, find-oom-*... in that directory.
# Needs clang and clang++ (14+), DCMTK 3.6.7, zlib and SQLite
# (pkg-config); the seeds want /usr/bin/python3 (pydicom for the fixtures).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
which=${2:-both}
out=${FUZZ_OUT:-/tmp/radscribe-fuzz-net}
cc=${CLANG:-clang}
cxx=${CLANGXX:-clang++}
maxlen=${FUZZ_MAXLEN:-8192}
shared=${SHARED_DATA:-$top/../shared/data}
san="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
defs="-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$top/src"
dcmtk_cflags=$(pkg-config --cflags dcmtk)
libs="$(pkg-config --libs dcmtk) $(pkg-config --libs zlib 2>/dev/null || echo -lz)"
sqlite_cflags=$(pkg-config --cflags sqlite3)
sqlite_libs=$(pkg-config --libs sqlite3)
o=$out/obj
mkdir -p "$o"

# The project's sources, compiled directly (no configure, no config.h).
sh "$top/sql/embed.sh" "$top"/sql/[0-9]*.sql > "$o/migrations.c"
for f in core/log core/xmem store/db store/qr_query store/qr_schema; do
	$cc $san -std=c11 $defs $sqlite_cflags -c "$top/src/$f.c" \
	    -o "$o/${f#*/}.o"
done
$cc $san -std=c11 $defs $sqlite_cflags -c "$o/migrations.c" -o "$o/migrations.o"
$cxx $san -std=c++17 -pthread $defs $dcmtk_cflags \
	-c "$top/src/dicom/dsscan.cc" -o "$o/dsscan.o"
# guard.cc and scp_qr.cc are compiled inside the harnesses (see there).
$cxx $san -std=c++17 -pthread $defs $dcmtk_cflags \
	"$top/tests/fuzz/fuzz_recv.cc" "$o/dsscan.o" "$o/log.o" \
	$libs -o "$out/fuzz_recv"
$cxx $san -std=c++17 -pthread $defs $dcmtk_cflags $sqlite_cflags \
	"$top/tests/fuzz/fuzz_find.cc" "$o/dsscan.o" "$o/log.o" "$o/xmem.o" \
	"$o/db.o" "$o/qr_query.o" "$o/qr_schema.o" "$o/migrations.o" \
	$libs $sqlite_libs -o "$out/fuzz_find"
[ "$secs" = 0 ] && exit 0

# Seeds and the dictionary.
mkdir -p "$out/seeds-recv" "$out/seeds-find" "$out/fixtures"
if [ -x "${PYDICOM_PYTHON:-/usr/bin/python3}" ] &&
    "${PYDICOM_PYTHON:-/usr/bin/python3}" -c 'import pydicom, numpy' 2>/dev/null; then
	PYDICOM_PYTHON=${PYDICOM_PYTHON:-/usr/bin/python3} \
	    sh "$top/tests/data/mkbad.sh" "$out/fixtures" >/dev/null 2>&1 ||
	    echo "run_net.sh: tests/data/mkbad.sh failed; no fixture seeds" >&2
fi
/usr/bin/python3 - "$out" "$maxlen" "$shared/dicom-samples" "$out/fixtures" \
    /usr/share/libdcmtk17/private.dic <<'EOF'
import glob, os, struct, sys, zlib
out, maxlen, samples, fixtures, privdic = sys.argv[1:6]
maxlen = int(maxlen)
sr, sf = out + "/seeds-recv", out + "/seeds-find"
UNDEF = 0xffffffff
LONG = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC",
        b"UN", b"UR", b"UT", b"UV"}

def seed(d, name, data):
    if len(data) <= maxlen:
        with open("%s/%s" % (d, name), "wb") as fp:
            fp.write(data)

# -- a tiny DICOM codec: elements as (tag, vr, value); value is bytes, or a
# list of items (each a list of elements) for SQ; None length = undefined.
def enc(elems, explicit, undef=False):
    b = b""
    for tag, vr, val in sorted(elems, key=lambda e: e[0]):
        g, e = tag >> 16, tag & 0xffff
        if vr == b"SQ":
            body = b""
            for it in val:
                ib = enc(it, explicit, undef)
                if undef:
                    body += struct.pack("<HHI", 0xfffe, 0xe000, UNDEF) + ib + \
                        struct.pack("<HHI", 0xfffe, 0xe00d, 0)
                else:
                    body += struct.pack("<HHI", 0xfffe, 0xe000, len(ib)) + ib
            n = UNDEF if undef else len(body)
            if undef:
                body += struct.pack("<HHI", 0xfffe, 0xe0dd, 0)
        else:
            body = val + (b" " if len(val) % 2 and vr not in (b"UI", b"OB")
                          else b"\0" if len(val) % 2 else b"")
            n = len(body)
        if not explicit:
            b += struct.pack("<HHI", g, e, n) + body
        elif vr in LONG:
            b += struct.pack("<HH2sHI", g, e, vr, 0, n) + body
        else:
            b += struct.pack("<HH2sH", g, e, vr, n) + body
    return b

def defl(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()

def dec(b, explicit, until=0x7fe00010):
    """top-level elements of a data set, up to tag until (raw values)."""
    out, p = [], 0
    while p + 8 <= len(b):
        g, e = struct.unpack_from("<HH", b, p)
        tag = g << 16 | e
        if tag >= until:
            break
        if explicit:
            vr = b[p + 4:p + 6]
            if vr in LONG:
                n = struct.unpack_from("<I", b, p + 8)[0]
                h = 12
            else:
                n = struct.unpack_from("<H", b, p + 6)[0]
                h = 8
        else:
            vr, n, h = None, struct.unpack_from("<I", b, p + 4)[0], 8
        if n == UNDEF:
            # skip an undefined-length value: find its delimiter by nesting
            q, depth = p + h, 1
            while q + 8 <= len(b) and depth:
                gg, ee, ll = struct.unpack_from("<HHI", b, q)
                if (gg, ee) == (0xfffe, 0xe0dd):
                    depth -= 1
                    q += 8
                elif ll == UNDEF:
                    depth += 1
                    q += 8 if gg == 0xfffe or not explicit else 12
                else:
                    q += (8 if gg == 0xfffe or not explicit else
                          (12 if b[q + 4:q + 6] in LONG else 8)) + \
                        (0 if gg == 0xfffe and ee == 0xe000 else ll)
            out.append((tag, vr, b[p:q], True))
            p = q
            continue
        out.append((tag, vr, b[p:p + h + n], False))
        p += h + n
    return out

def header(path):
    """(transfer syntax, raw data set up to the pixel data) of a file."""
    b = open(path, "rb").read()
    if b[128:132] != b"DICM":
        return None
    p, ts = 132, None
    while p + 8 <= len(b) and struct.unpack_from("<H", b, p)[0] == 2:
        g, e = struct.unpack_from("<HH", b, p)
        vr = b[p + 4:p + 6]
        if vr in LONG:
            n, h = struct.unpack_from("<I", b, p + 8)[0], 12
        else:
            n, h = struct.unpack_from("<H", b, p + 6)[0], 8
        if e == 0x0010:
            ts = b[p + h:p + h + n].rstrip(b"\0 ").decode()
        p += h + n
    ds = b[p:]
    if ts == "1.2.840.10008.1.2.1.99":
        return None
    explicit = ts != "1.2.840.10008.1.2"
    els = dec(ds, explicit)
    return ts, explicit, b"".join(e[2] for e in els)

def to_implicit(b):
    """an explicit VR data set (flat elements only) in implicit VR."""
    out = b""
    for tag, vr, raw, undef in dec(b, True):
        if undef or vr == b"SQ":
            continue
        h = 12 if vr in LONG else 8
        out += struct.pack("<HHI", tag >> 16, tag & 0xffff, len(raw) - h) + raw[h:]
    return out

E = lambda t, vr, v: (t, vr, v if isinstance(v, (bytes, list)) else v.encode("latin-1"))

# -- data sets for fuzz_recv: each in explicit, implicit and deflated form
base = [E(0x00080005, b"CS", "ISO_IR 100"), E(0x00080016, b"UI", "1.2.840.10008.5.1.4.1.1.1.1"),
        E(0x00080018, b"UI", "1.2.3.4"), E(0x00080060, b"CS", "DX"),
        E(0x00100010, b"PN", "DOE^JANE"), E(0x00100020, b"LO", "P1"),
        E(0x00200013, b"IS", "1"), E(0x00280010, b"US", struct.pack("<H", 2)),
        E(0x00280011, b"US", struct.pack("<H", 2))]
def nest(n, leaf):
    e = leaf
    for _ in range(n):
        e = [E(0x00081115, b"SQ", [e])]
    return e
sets = {
    "flat": base,
    "seq": base + [E(0x00081140, b"SQ", [[E(0x00081150, b"UI", "1.2"),
                                          E(0x00081155, b"UI", "1.3")]] * 2)],
    "empty-seq": base + [E(0x00081140, b"SQ", []), E(0x00400275, b"SQ", [[]])],
    "nest10": base + nest(10, [E(0x00081150, b"UI", "1.2")]),
    "nest63": nest(63, [E(0x00081150, b"UI", "1.2")]),
    "nest64": nest(64, []),
    "nest65": nest(65, []),
    "vrs": base + [E(0x00181164, b"DS", "0.1\\0.1"), E(0x00080020, b"DA", "20240115"),
                   E(0x00080030, b"TM", "103012.5"), E(0x00181050, b"DS", "1"),
                   E(0x00080100, b"SH", "X"), E(0x00081030, b"LO", "x" * 64),
                   E(0x00204000, b"LT", "lt"), E(0x00321060, b"LO", ""),
                   E(0x00280100, b"US", struct.pack("<H", 16)),
                   E(0x00189219, b"SV", struct.pack("<q", -1)),
                   E(0x00660040, b"OL", struct.pack("<I", 1)),
                   E(0x00720115, b"UV", struct.pack("<Q", 1)),
                   E(0x00080119, b"UC", "uc"), E(0x00080120, b"UR", "http://x"),
                   E(0x00400440, b"UT", "ut"), E(0x00189089, b"FD", struct.pack("<d", 1)),
                   E(0x00186052, b"UL", struct.pack("<I", 1)),
                   E(0x00209165, b"AT", struct.pack("<HH", 0x10, 0x10))],
    "private": base + [E(0x00090010, b"LO", "DCMTK_ANONYMIZER"),
                       E(0x00091000, b"SQ", [[E(0x00090010, b"LO", "DCMTK_ANONYMIZER"),
                                              E(0x00091010, b"LO", "x")]]),
                       E(0x00290010, b"LO", "SIEMENS CSA HEADER"),
                       E(0x00291010, b"OB", b"\1\2\3\4")],
    "grouplen": [E(0x00080000, b"UL", struct.pack("<I", 20))] + base,
}
for name, els in sets.items():
    for undef in (False, True):
        x = enc(els, True, undef)
        i = enc(els, False, undef)
        sfx = "-undef" if undef else ""
        seed(sr, "ex-%s%s" % (name, sfx), x)
        seed(sr, "im-%s%s" % (name, sfx), i)
        seed(sr, "df-%s%s" % (name, sfx), defl(x))
# structures DCMTK reads in its own ways
pix = struct.pack("<HH2sHI", 0x7fe0, 0x0010, b"OB", 0, UNDEF) + \
    struct.pack("<HHI", 0xfffe, 0xe000, 0) + struct.pack("<HHI", 0xfffe, 0xe000, 4) + \
    b"\xff\xd8\xff\xd9" + struct.pack("<HHI", 0xfffe, 0xe0dd, 0)
seed(sr, "ex-encapsulated", enc(base, True) + pix)
seed(sr, "ex-pixel-un", enc(base, True) + struct.pack("<HH2sHI", 0x7fe0, 0x0010, b"UN", 0, UNDEF)
     + struct.pack("<HHI", 0xfffe, 0xe000, UNDEF) + enc(base[:2], False)
     + struct.pack("<HHI", 0xfffe, 0xe00d, 0) + struct.pack("<HHI", 0xfffe, 0xe0dd, 0))
un_sq = struct.pack("<HH2sHI", 0x0008, 0x1115, b"UN", 0, UNDEF) + \
    struct.pack("<HHI", 0xfffe, 0xe000, UNDEF) + enc(base[:3], False) + \
    struct.pack("<HHI", 0xfffe, 0xe00d, 0) + struct.pack("<HHI", 0xfffe, 0xe0dd, 0)
seed(sr, "ex-un-undef", enc(base, True) + un_sq)
seed(sr, "ex-future-vr", enc(base[:3], True) + struct.pack("<HH2sHI", 0x0011, 0x1010,
     b"ZZ", 0, 4) + b"abcd" + enc(base[3:], True))
seed(sr, "ex-stray-delimiters", struct.pack("<HHI", 0xfffe, 0xe00d, 0) + enc(base, True)
     + struct.pack("<HHI", 0xfffe, 0xe0dd, 0))
seed(sr, "im-private-sq", enc(sets["private"][:-2], False))
seed(sr, "ex-trailing-stub", enc(base, True) + b"\x08\x00")

# -- identifiers for fuzz_find (implicit and explicit VR), also for fuzz_recv
def ident(level, *els, cs=None):
    l = [E(0x00080052, b"CS", level)] + list(els)
    if cs:
        l.append(E(0x00080005, b"CS", cs))
    return l
S = lambda t, v, vr=b"LO": E(t, vr, v)
idents = {
    "study": ident("STUDY", S(0x0020000d, "", b"UI"), S(0x00080020, "20240101-20251231", b"DA"),
                   S(0x00100010, "DOE*", b"PN"), S(0x00080061, "SR\\DX", b"CS"),
                   S(0x00201208, "", b"IS"), S(0x00201206, "", b"IS")),
    "study-time": ident("STUDY", S(0x00080030, "10-11", b"TM"), S(0x00080050, "A[1]*", b"SH")),
    "study-uids": ident("STUDY", S(0x0020000d, "1.2\\1.1\\ 1.3 ", b"UI")),
    "patient": ident("PATIENT", S(0x00100020, "P?"), S(0x00100010, ""), S(0x00201200, "", b"IS"),
                     S(0x00201202, "", b"IS"), S(0x00201204, "", b"IS"),
                     S(0x00100030, "-19991231", b"DA"), S(0x00100040, "O", b"CS")),
    "series": ident("SERIES", S(0x0020000d, "1.1", b"UI"), S(0x0020000e, "", b"UI"),
                    S(0x00080060, "SR", b"CS"), S(0x00200011, "+00012", b"IS"),
                    S(0x00080021, "20000101", b"DA"), S(0x00080031, "0000-2359", b"TM"),
                    S(0x00209165, "", b"IS")),
    "image": ident("IMAGE", S(0x0020000d, "1.3", b"UI"), S(0x0020000e, "8.4", b"UI"),
                   S(0x00080018, "", b"UI"), S(0x00080016, "", b"UI"), S(0x00200013, "3", b"IS"),
                   S(0x00080023, "", b"DA"), S(0x00080033, "0930-", b"TM"),
                   S(0x0040a491, "COMPLETE", b"CS"), S(0x0040a493, "", b"CS"),
                   S(0x0040a496, "", b"CS"), S(0x00080056, "", b"CS")),
    "image-patient": ident("IMAGE", S(0x00100020, "P1"), S(0x0020000d, "1.1", b"UI"),
                           S(0x0020000e, "8.1", b"UI"), S(0x00080018, "9.1\\9.2", b"UI")),
    "latin1": ident("STUDY", S(0x00100010, "M\xfcller*", b"PN"), S(0x00081030, "Th\xf6rax", b"LO"),
                    cs="ISO_IR 100"),
    "utf8": ident("STUDY", E(0x00100010, b"PN", "M\u00fcller^J\u00f6rg".encode()), cs="ISO_IR 192"),
    "japanese": ident("STUDY", E(0x00100010, b"PN", b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"),
                      cs="\\ISO 2022 IR 87"),
    "gb18030": ident("STUDY", E(0x00100010, b"PN", b"Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab"),
                     cs="GB18030"),
    "badcs": ident("STUDY", S(0x00100010, "X"), cs="ISO_IR 999"),
    "seq-key": ident("STUDY", S(0x0020000d, "", b"UI"),
                     E(0x00081110, b"SQ", [[E(0x00081150, b"UI", "")]]),
                     S(0x00080056, "", b"CS"), S(0x00080054, "X", b"AE")),
    "private": ident("STUDY", S(0x00090010, "ACME"), S(0x00091001, "x"), S(0x00100010, "*")),
    "universal": ident("IMAGE", S(0x0020000d, "1.1", b"UI"), S(0x0020000e, "8.1", b"UI"),
                       *[S(t, "") for t in (0x00100010, 0x00100020, 0x00100021, 0x00100030,
                                            0x00080020, 0x00080030, 0x00080050, 0x00200010,
                                            0x00081030, 0x00080090, 0x00101010, 0x00080060,
                                            0x00200011, 0x0008103e, 0x00080021, 0x00080031,
                                            0x00080018, 0x00080016, 0x00200013, 0x00080012,
                                            0x00080013)]),
    "bad-date": ident("STUDY", S(0x00080020, "2024-01-15", b"DA")),
    "bad-time": ident("STUDY", S(0x00080030, "1030.5", b"TM")),
    "bad-level": ident("FRAME", S(0x0020000d, "1.1", b"UI")),
    "no-level": [S(0x0020000d, "1.1", b"UI")],
    "grouplen": [E(0x00080000, b"UL", struct.pack("<I", 18)),
                 E(0x00080052, b"CS", "STUDY"), S(0x0020000d, "", b"UI")],
}
for name, els in idents.items():
    idents[name] = b = enc(els, False)
    seed(sf, name, b)
    seed(sf, "ex-" + name, enc(els, True))
    seed(sr, "id-" + name, b)

# -- PDU streams for fuzz_recv's guard half: contexts 1 (explicit), 3
# (implicit), 5 (deflated), 7 (JPEG baseline)
def cmd(field, dstype, extra=b"", msgid=1):
    els = [(0x00000100, b"US", struct.pack("<H", field)),
           (0x00000110, b"US", struct.pack("<H", msgid)),
           (0x00000800, b"US", struct.pack("<H", dstype))]
    body = enc([(0x00000002, b"UI", b"1.2.840.10008.5.1.4.1.2.2.1\0")] + els, False) + extra
    return enc([(0x00000000, b"UL", struct.pack("<I", len(body)))], False) + body
def pdv(pc, mch, frag):
    return struct.pack(">IBB", len(frag) + 2, pc, mch) + frag
def pdata(*pdvs):
    body = b"".join(pdvs)
    return struct.pack(">BBI", 4, 0, len(body)) + body
rel = struct.pack(">BBI", 5, 0, 4) + b"\0\0\0\0"
abort = struct.pack(">BBI", 7, 0, 4) + b"\0\0\0\0"
echo = pdata(pdv(1, 3, cmd(0x0030, 0x0101)))
q = idents["study"]
qx = enc([E(0x00080052, b"CS", "STUDY"), S(0x0020000d, "", b"UI")], True)
streams = {
    "echo": echo + rel,
    "find-implicit": pdata(pdv(3, 3, cmd(0x0020, 0x0000))) + pdata(pdv(3, 2, q)) + rel,
    "find-explicit": pdata(pdv(1, 3, cmd(0x0020, 0x0000)), pdv(1, 2, qx)) + rel,
    "find-deflated": pdata(pdv(5, 3, cmd(0x0020, 0x0000)), pdv(5, 2, defl(qx))),
    "find-fragments": pdata(pdv(3, 1, cmd(0x0020, 0x0000)[:10]), pdv(3, 3, cmd(0x0020, 0x0000)[10:]))
        + pdata(pdv(3, 0, q[:8])) + pdata(pdv(3, 0, q[8:20]), pdv(3, 2, q[20:])) + echo,
    "find-cancel": pdata(pdv(3, 3, cmd(0x0020, 0x0000)), pdv(3, 2, q))
        + pdata(pdv(3, 3, cmd(0x0FFF, 0x0101))),
    "store": pdata(pdv(1, 3, cmd(0x0001, 0x0000)), pdv(1, 0, enc(base, True)[:16]))
        + pdata(pdv(1, 2, enc(base, True)[16:])) + rel,
    "store-jpeg": pdata(pdv(7, 3, cmd(0x0001, 0x0000)), pdv(7, 2, enc(base, True) + pix)),
    "store-deep": pdata(pdv(3, 3, cmd(0x0001, 0x0000)), pdv(3, 2, enc(nest(65, []), False))),
    "move": pdata(pdv(3, 3, cmd(0x0021, 0x0000, enc([(0x00000600, b"AE", b"DEST")], False))),
                  pdv(3, 2, idents["image-patient"])),
    "find-deep": pdata(pdv(3, 3, cmd(0x0020, 0x0000)), pdv(3, 2, enc(nest(65, []), False))),
    "find-no-context": pdata(pdv(9, 3, cmd(0x0020, 0x0000)), pdv(9, 2, q)),
    "command-not-flat": pdata(pdv(1, 3, enc([(0x00080052, b"CS", b"STUDY ")], False))),
    "abort": abort,
    "assoc-rq": struct.pack(">BBI", 1, 0, 4) + b"\0\1\0\0",
    "long-pdu": struct.pack(">BBI", 4, 0, 16400) + b"\0" * 64,
}
for name, b in streams.items():
    seed(sr, "pdu-" + name, b)

# -- the headers of the shared samples and of the tests/data fixtures
n = 0
for path in sorted(glob.glob(samples + "/*.dcm")) + sorted(glob.glob(fixtures + "/*.dcm")):
    try:
        h = header(path)
    except Exception:
        h = None
    if h is None:
        continue
    ts, explicit, ds = h
    base_name = os.path.basename(path)[:-4]
    if explicit:
        seed(sr, "hdr-ex-" + base_name, ds)
        seed(sr, "hdr-df-" + base_name, defl(ds))
        imp = to_implicit(ds)
    else:
        imp = ds
    seed(sr, "hdr-im-" + base_name, imp)
    # as an identifier: the header with a level (IMAGE, keys of a file)
    lv = enc([E(0x00080052, b"CS", "IMAGE")], False)
    seed(sf, "hdr-" + base_name, lv + imp)
    n += 1

# -- the dictionary: structure tokens, VRs, levels, keys, private creators
toks = [b"\xfe\xff\x00\xe0", b"\xfe\xff\x0d\xe0", b"\xfe\xff\xdd\xe0",
        b"\xff\xff\xff\xff", b"\xe0\x7f\x10\x00", b"\x04\x00", b"\x01\x00",
        b"\x08\x00\x52\x00", b"\x20\x00\x0d\x00", b"\x08\x00\x05\x00",
        b"\x10\x00\x10\x00", b"\x09\x00\x10\x00", b"\x09\x00\x00\x10",
        b"\x00\x00\x00\x01", b"\x00\x00\x00\x08", b"\x01\x01",
        b"STUDY", b"PATIENT", b"SERIES", b"IMAGE", b"ISO_IR 100",
        b"ISO_IR 192", b"ISO 2022 IR 87", b"GB18030", b"\x1b$B", b"\x1b(B",
        b"*", b"?", b"\\", b"-", b"^", b"="]
toks += [v for v in (b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW "
                     b"PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV OX ZZ").split()]
try:
    for line in open(privdic, encoding="latin-1"):
        f = line.split("\t")
        if len(f) > 1 and f[1] == "SQ" and '"' in f[0]:
            toks.append(f[0].split('"')[1].encode("latin-1"))
except OSError:
    pass
with open(out + "/net.dict", "w") as fp:
    for t in dict.fromkeys(toks):
        fp.write('"%s"\n' % "".join("\\x%02x" % c for c in t))
print("run_net.sh: %d recv seeds, %d find seeds (%d file headers)" % (
    len(os.listdir(sr)), len(os.listdir(sf)), n), file=sys.stderr)
EOF

cd "$out"
rc=0
for h in recv find; do
	[ "$which" = both ] || [ "$which" = "$h" ] || continue
	mkdir -p "work-$h"
	./fuzz_$h -max_total_time="$secs" -max_len="$maxlen" -timeout=30 \
	    -dict=net.dict -artifact_prefix="$out/$h-" -print_final_stats=1 \
	    "work-$h" "$top/tests/fuzz/corpus-$h" "seeds-$h" || rc=1
done
exit $rc
