#!/bin/sh
# run_j2k.sh - build the JPEG 2000 decoder's libFuzzer harness and run it.
#   tests/fuzz/run_j2k.sh [SECONDS [JOBS]]    (defaults: 60 seconds, 1 job)
# SECONDS 0 builds the harness and the seeds and stops there.
# FUZZ_MAXLEN sets the largest input (default 8192 bytes).
# Builds into ${FUZZ_OUT:-/tmp/radscribe-fuzz-j2k}, seeds a work corpus from
# tests/fuzz/corpus-j2k plus codestreams made here (opj_compress, gdcmconv
# --j2k, the JPEG 2000 samples in $SHARED_DATA/dicom-samples), and leaves
# crashes (crash-*, oom-*, timeout-*) in that directory.  Needs clang++
# (14+), DCMTK 3.6.7 and OpenJPEG (pkg-config); the seeds also want
# opj_compress, gdcmconv and /usr/bin/python3 with pydicom (each optional).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
jobs=${2:-1}
out=${FUZZ_OUT:-/tmp/radscribe-fuzz-j2k}
cc=${CLANG:-clang}
cxx=${CLANGXX:-clang++}
maxlen=${FUZZ_MAXLEN:-8192}
shared=${SHARED_DATA:-$top/../shared/data}
san="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
defs="-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$top/src"
mkdir -p "$out/work" "$out/seeds" "$out/img"
$cc $san -std=c11 $defs -c "$top/src/core/log.c" -o "$out/log.o"
$cxx $san -std=c++17 -pthread $defs $(pkg-config --cflags dcmtk libopenjp2) \
	"$top/tests/fuzz/fuzz_j2k.cc" "$top/src/dicom/j2k.cc" \
	"$top/src/dicom/pixels.cc" "$out/log.o" \
	$(pkg-config --libs dcmtk libopenjp2) -o "$out/fuzz_j2k"

# Seeds: the harness's 7 header bytes (see fuzz_j2k.cc) + codestream(s).
/usr/bin/python3 - "$out" "$maxlen" "$shared/dicom-samples" <<'EOF' || \
	echo "run_j2k.sh: some seeds were not made" >&2
import glob, os, random, shutil, struct, subprocess, sys
out, maxlen, samples = sys.argv[1], int(sys.argv[2]), sys.argv[3]
img, seeds = out + "/img", out + "/seeds"
rnd = random.Random(1)

def hdr(rows, cols, bits=8, spp=1, frames=1, signed=0, lossy=0, alt=0,
        per_frame=0, stored=None, frag=0):
    f = (bits == 16) | (spp == 3) << 1 | (frames - 1) << 2 | signed << 4 \
        | lossy << 5 | alt << 6 | per_frame << 7
    return struct.pack("<HHBBB", (rows - 1) % 512, (cols - 1) % 512, f,
                       bits - (stored or bits), frag)

def seed(name, head, cs):
    with open("%s/%s" % (seeds, name), "wb") as fp:
        fp.write((head + cs)[:maxlen])

def image(name, w, h, maxval, spp=1):
    px = []
    for y in range(h):
        for x in range(w):
            for c in range(spp):
                v = (x * 7 + y * 5 + c * 50 + rnd.randrange(4)) % (maxval + 1)
                px.append(v)
    fmt = ">%d%s" % (len(px), "B" if maxval < 256 else "H")
    path = "%s/%s.%s" % (img, name, "ppm" if spp == 3 else "pgm")
    with open(path, "wb") as fp:
        fp.write(b"P%d\n%d %d\n%d\n" % (6 if spp == 3 else 5, w, h, maxval))
        fp.write(struct.pack(fmt, *px))
    return path

def opj(src, name, *opts):
    dst = "%s/%s" % (img, name)
    if "-n" not in opts:
        opts += ("-n", "3")
    try:
        subprocess.run(["opj_compress", "-i", src, "-o", dst] + list(opts),
                       check=True, capture_output=True)
        return open(dst, "rb").read()
    except (OSError, subprocess.CalledProcessError):
        return None

# opj_compress: one image per bit depth and colour, many coding options.
g8 = image("g8", 16, 16, 255)
n8 = image("n8", 33, 17, 255)
g12 = image("g12", 40, 24, 4095)
g16 = image("g16", 20, 20, 65535)
rgb = image("rgb", 24, 16, 255, 3)
one = image("one", 1, 1, 255)
opts = {"plain": [], "irrev": ["-I"], "r20": ["-r", "20,5"],
        "tiles": ["-t", "8,8"], "rpcl": ["-p", "RPCL"],
        "sop": ["-SOP", "-EPH"], "plt": ["-PLT"], "tlm": ["-TLM", "-TP", "R"],
        "cblk": ["-b", "4,4", "-c", "[8,8],[8,8]"], "com": ["-C", "radscribe"],
        "off": ["-d", "3,5"], "sub": ["-s", "2,2"], "n1": ["-n", "1"],
        "pcrl": ["-p", "PCRL", "-t", "12,12", "-d", "1,1", "-T", "1,1"],
        "roi": ["-ROI", "c=0,U=3"], "q": ["-q", "30,40"],
        "cprl": ["-p", "CPRL", "-POC", "T0=0,0,2,1,1,CPRL"]}
made = {}
for iname, path, rows, cols, bits, stored in [
        ("g8", g8, 16, 16, 8, 8), ("n8", n8, 17, 33, 8, 8),
        ("g12", g12, 24, 40, 16, 12), ("g16", g16, 20, 20, 16, 16)]:
    for oname, o in opts.items():
        cs = opj(path, "%s-%s.j2k" % (iname, oname), *o)
        if cs is None:
            continue
        made[iname, oname] = cs
        lossy = oname in ("irrev", "r20", "q")
        seed("opj-%s-%s" % (iname, oname),
             hdr(rows, cols, bits, stored=stored, lossy=lossy,
                 per_frame=oname in ("tiles", "plt")), cs)
for oname in ("plain", "irrev", "tiles", "sop", "off"):
    cs = opj(rgb, "rgb-%s.j2k" % oname, *opts[oname])
    if cs is not None:
        seed("opj-rgb-" + oname, hdr(16, 24, spp=3, lossy=oname == "irrev",
                                     alt=1), cs)
        seed("opj-rgb-%s-rgb" % oname, hdr(16, 24, spp=3, per_frame=1), cs)
for iname, path, rows, cols, bits, spp in [("g8", g8, 16, 16, 8, 1),
                                           ("g12", g12, 24, 40, 16, 1),
                                           ("rgb", rgb, 16, 24, 8, 3)]:
    cs = opj(path, iname + ".jp2")
    if cs is not None:
        seed("opj-%s-jp2" % iname, hdr(rows, cols, bits, spp), cs)
cs = opj(one, "one.j2k")
if cs is not None:
    seed("opj-one", hdr(1, 1), cs)
# Signed 12-bit through opj_compress's raw input.
raw = img + "/s12.rawl"
with open(raw, "wb") as fp:
    for y in range(16):
        for x in range(16):
            fp.write(struct.pack("<h", (x - 8) * 100 + y * 7))
cs = opj(raw, "s12.j2k", "-F", "16,16,1,12,s")
if cs is not None:
    seed("opj-s12", hdr(16, 16, 16, signed=1, stored=12), cs)
# Several frames and fragments.
for k, fr in ((("g8", "plain"), 2), (("g8", "tiles"), 3), (("n8", "sop"), 2)):
    if k in made:
        rows, cols = {"g8": (16, 16), "n8": (17, 33)}[k[0]]
        seed("multi-%s-%s" % k, hdr(rows, cols, frames=fr), made[k] * fr)
        seed("multi-%s-%s-pf" % k, hdr(rows, cols, frames=fr, per_frame=1,
                                       frag=4), made[k] * fr)
if ("g16", "plain") in made:
    seed("frag-g16", hdr(20, 20, 16, frag=2), made["g16", "plain"])

# gdcmconv --j2k of small uncompressed DICOM images made with pydicom.
try:
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import generate_pixel_data_frame
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
except ImportError:
    pydicom = None

def first_frame(path):
    ds = pydicom.dcmread(path)
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    return ds, next(generate_pixel_data_frame(ds.PixelData, n))

if pydicom is not None and shutil.which("gdcmconv"):
    for name, rows, cols, bits, stored, signed, spp in [
            ("d8", 16, 16, 8, 8, 0, 1), ("d12s", 16, 16, 16, 12, 1, 1),
            ("d16", 9, 13, 16, 16, 0, 1), ("drgb", 16, 16, 8, 8, 0, 3),
            ("drgbl", 16, 16, 8, 8, 0, 3), ("d12l", 16, 16, 16, 12, 0, 1)]:
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, spp
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
        ds.PixelRepresentation = signed
        ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
        if spp == 3:
            ds.PlanarConfiguration = 0
        lim = 1 << (stored - signed)
        vals = [((i * 37) % lim) - (lim // 2 if signed else 0)
                for i in range(rows * cols * spp)]
        ds.PixelData = struct.pack("<%d%s" % (len(vals), {
            (8, 0): "B", (16, 0): "H", (16, 1): "h"}[bits, signed]), *vals)
        src, dst = "%s/%s.dcm" % (img, name), "%s/%s-j2k.dcm" % (img, name)
        ds.save_as(src, write_like_original=False)
        try:
            lossy = ["--lossy", "--irreversible", "-q", "40"] \
                if name[-1] == "l" else []
            subprocess.run(["gdcmconv", "--j2k"] + lossy + [src, dst],
                           check=True, capture_output=True)
            j, cs = first_frame(dst)
        except Exception:
            continue
        seed("gdcm-" + name, hdr(rows, cols, bits, spp, signed=signed,
                                 stored=stored, lossy=name[-1] == "l",
                                 alt=spp == 3 and
                                 j.PhotometricInterpretation != "RGB"), cs)

# The shared JPEG 2000 samples: real encoders' headers, cut to max_len.
if pydicom is not None:
    for path in sorted(glob.glob(samples + "/*j2k*.dcm")):
        try:
            ds, cs = first_frame(path)
        except Exception:
            continue
        seed("sample-" + os.path.basename(path)[:-4],
             hdr(ds.Rows, ds.Columns, ds.BitsAllocated,
                 stored=ds.BitsStored, signed=ds.PixelRepresentation,
                 lossy="91" == ds.file_meta.TransferSyntaxUID[-2:],
                 alt=ds.PhotometricInterpretation == "MONOCHROME1"), cs)
print("run_j2k.sh: %d seeds" % len(os.listdir(seeds)), file=sys.stderr)
EOF

[ "$secs" = 0 ] && exit 0
cd "$out"
./fuzz_j2k -max_total_time="$secs" -jobs="$jobs" -workers="$jobs" \
	-max_len="$maxlen" -timeout=30 -dict="$top/tests/fuzz/j2k.dict" \
	-print_final_stats=1 work "$top/tests/fuzz/corpus-j2k" seeds
