#!/bin/bash
# Study-to-archive latency (issue 5): radscribed with the default model (no
# model keys) and a local Orthanc as the archive, on loopback.  N two-view
# chest studies (PA + lateral) of each mode below are sent one after the
# other, one study of every mode in turn; for each, the time from the last
# instance acknowledged (radscribed's "stored" log line) to the archive's
# success response (the sender's "accepted" log line), minus settle_time.
# Prints every study, and the median and the worst per mode.
#
# Modes (MODES, default all five):
#   small      tests/data/mkstudy.sh as it is: 256x256, 8 bits, Explicit VR
#              Little Endian (the figure measured since 2026-11-28)
#   explicit   real-size views: the same two images upscaled to 2000x2128
#              (columns x rows, the Canon DX sample in shared/data), 12 bits
#              stored in 16, Gaussian noise (sigma 40) added so that they
#              compress like a real radiograph (JPEG 2000 lossless about
#              7.8 bits/pixel; the Canon file 7.7); Explicit VR LE
#   jpegls     those views, JPEG-LS lossless (dcmcjpls)
#   j2k        those views, JPEG 2000 lossless (gdcmconv --j2k)
#   j2k-lossy  those views, JPEG 2000 lossy, ratio 10 (gdcmconv --j2k
#              --lossy -r 10)
# Each view is encoded once; every study sent is a copy with fresh Study,
# Series and SOP Instance UIDs.  Studies are sent with dcmsend, which
# proposes each file's own transfer syntax (-dn: never decompressed); the
# transfer syntax radscribed stored is checked against it.
#
# Decode time: the worker logs no decode time, so each file sent is also
# decoded afterwards, with the daemons idle, by tests/tools/greydump (the
# worker's pixel path: read, decode, to 8 bits), timed per view as wall
# time of the whole process (start-up and the PGM write included, nothing
# subtracted).  "worker read" is the time between the worker's "drafting"
# and "view 2" log lines (millisecond stamps): the study's instances looked
# up, both headers read, both views decoded.
#
# A benchmark, not a test: exits 0 unless something failed to run.
#
# Environment: N (studies per mode, default 10), MODES, SETTLE (settle_time,
# default 1), THREADS (radscribed threads, default 2), RADSCRIBED, GREYDUMP
# (default tests/tools/greydump next to RADSCRIBED's build; skipped when
# absent), KEEP=1 keeps the temp dir.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-10}
MODES=${MODES:-small explicit jpegls j2k j2k-lossy}
SETTLE=${SETTLE:-1}
THREADS=${THREADS:-2}
RADSCRIBED=${RADSCRIBED:-$top/src/radscribed}
GREYDUMP=${GREYDUMP:-$(dirname "$RADSCRIBED")/../tests/tools/greydump}
py=/usr/bin/python3
export SHARED_DATA=${SHARED_DATA:-$top/../shared/data}
T=$(mktemp -d "${TMPDIR:-/tmp}/rs-latency.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
freeport() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
die() { echo "latency: $*" >&2; exit 1; }
for m in $MODES; do
	case $m in
	small|explicit) ;;
	jpegls) command -v dcmcjpls > /dev/null || die "jpegls needs dcmcjpls (DCMTK)" ;;
	j2k|j2k-lossy) command -v gdcmconv > /dev/null || die "$m needs gdcmconv (libgdcm-tools)" ;;
	*) die "unknown mode $m (small explicit jpegls j2k j2k-lossy)" ;;
	esac
done

# The helper: real-size views from a small study, and fresh-UID copies.
cat > "$T/views.py" <<'PY'
import os, sys, warnings
import numpy as np, pydicom
from pydicom.uid import generate_uid
warnings.simplefilter("ignore")

def resize(a, rows, cols):          # bilinear, pixel centres aligned
    a = a.astype(np.float32)
    def axis(n, m):
        x = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
        x0 = np.floor(x).astype(int)
        return x0, np.minimum(x0 + 1, n - 1), (x - x0).astype(np.float32)
    y0, y1, fy = axis(a.shape[0], rows)
    a = a[y0] * (1 - fy)[:, None] + a[y1] * fy[:, None]
    x0, x1, fx = axis(a.shape[1], cols)
    return a[:, x0] * (1 - fx) + a[:, x1] * fx

if sys.argv[1] == "big":            # big SRCDIR OUTDIR
    for seed, v in enumerate(("frontal", "lateral")):
        ds = pydicom.dcmread(os.path.join(sys.argv[2], v + ".dcm"))
        a = resize(ds.pixel_array, 2128, 2000) * 16 + 8
        a += np.random.default_rng(seed).normal(0, 40, a.shape)
        a = np.clip(np.rint(a), 0, 4095).astype(np.uint16)
        ds.Rows, ds.Columns = a.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelData = a.tobytes()
        ds["PixelData"].VR = "OW"
        if "WindowCenter" in ds:
            ds.WindowCenter, ds.WindowWidth = "2048", "4096"
        ds.ImagerPixelSpacing = ["0.175", "0.175"]
        ds.save_as(os.path.join(sys.argv[3], v + ".dcm"), write_like_original=False)
elif sys.argv[1] == "copies":       # copies SRCDIR OUTDIR N: OUTDIR/K/{frontal,lateral}.dcm
    for k in range(1, int(sys.argv[4]) + 1):
        d = os.path.join(sys.argv[3], str(k))
        os.makedirs(d)
        study = generate_uid()
        for v in ("frontal", "lateral"):
            ds = pydicom.dcmread(os.path.join(sys.argv[2], v + ".dcm"))
            ds.StudyInstanceUID = study
            ds.SeriesInstanceUID = generate_uid()
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.save_as(os.path.join(d, v + ".dcm"), write_like_original=False)
PY

echo "preparing $N studies per mode: $MODES"
for k in $(seq "$N"); do
	case " $MODES " in *" small "*)
		"$top/tests/data/mkstudy.sh" "$T/send/small/$k" > /dev/null || die "mkstudy failed" ;;
	esac
done
big=
for m in $MODES; do [ "$m" != small ] && big=1; done
if [ -n "$big" ]; then
	"$top/tests/data/mkstudy.sh" "$T/tpl" > /dev/null || die "mkstudy failed"
	mkdir -p "$T/enc/explicit"
	$py "$T/views.py" big "$T/tpl" "$T/enc/explicit" || die "real-size views failed"
	for m in $MODES; do
		[ "$m" = small ] && continue
		mkdir -p "$T/enc/$m"
		for v in frontal lateral; do
			i=$T/enc/explicit/$v.dcm o=$T/enc/$m/$v.dcm
			case $m in
			jpegls) dcmcjpls "$i" "$o" ;;
			j2k) gdcmconv --j2k "$i" "$o" ;;
			j2k-lossy) gdcmconv --j2k --lossy -r 10 "$i" "$o" > /dev/null ;;
			esac || die "encoding $m failed"
		done
		$py "$T/views.py" copies "$T/enc/$m" "$T/send/$m" "$N" || die "copies failed"
	done
fi

oport=$(freeport) ohttp=$(freeport) port=$(freeport)
mkdir -p "$T/orthanc"
cat > "$T/orthanc/config.json" <<JSON
{ "Name": "rs-latency", "StorageDirectory": "$T/orthanc", "IndexDirectory": "$T/orthanc",
  "DicomAet": "ARCHIVE", "DicomPort": $oport, "HttpPort": $ohttp, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "Plugins": [] }
JSON
/usr/sbin/Orthanc "$T/orthanc/config.json" > "$T/orthanc.log" 2>&1 &
pids="$pids $!"
for i in $(seq 150); do echoscu -aec ARCHIVE 127.0.0.1 "$oport" 2>/dev/null && break; sleep 0.2; done
echoscu -aec ARCHIVE 127.0.0.1 "$oport" 2>/dev/null || die "Orthanc did not start"

cat > "$T/rs.conf" <<CONF
ae_title = RADSCRIBE
listen = 127.0.0.1:$port
spool_dir = $T/spool
database = $T/rs.db
settle_time = $SETTLE
threads = $THREADS
log_level = info
archive = pacs ARCHIVE 127.0.0.1 $oport
CONF
"$RADSCRIBED" -d -f "$T/rs.conf" > "$T/rs.log" 2>&1 &
pids="$pids $!"
for i in $(seq 150); do echoscu -aec RADSCRIBE 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.2; done
echoscu -aec RADSCRIBE 127.0.0.1 "$port" 2>/dev/null || die "radscribed did not start: $(tail -n 5 "$T/rs.log")"

echo "radscribed: $(grep -m1 'OpenBLAS kernels' "$T/rs.log" | sed 's/.*info: //'); $(grep -m1 'findings model' "$T/rs.log" | sed 's/.*info: //')"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); threads $THREADS; settle_time $SETTLE s; load $(cut -d' ' -f1-3 /proc/loadavg)"
for k in $(seq "$N"); do
	for m in $MODES; do
		d=$T/send/$m/$k
		u=$(dcmdump -q +P 0020,000d "$d/frontal.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p')
		dcmsend -dn -aec RADSCRIBE 127.0.0.1 "$port" "$d/frontal.dcm" "$d/lateral.dcm" \
			> "$T/dcmsend.log" 2>&1 || die "dcmsend failed: $(tail -n 5 "$T/dcmsend.log")"
		for i in $(seq 600); do
			grep -q "study=$u .*accepted" "$T/rs.log" && break
			sleep 0.1
		done
		grep -q "study=$u .*accepted" "$T/rs.log" || die "$m study $k not delivered: $(grep -v dcmtk "$T/rs.log" | tail -n 5)"
		echo "$m $k $u" >> "$T/studies"
	done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) after sending"
$py - "$T" "$SETTLE" "$GREYDUMP" "$SHARED_DATA" <<'PY'
import datetime, os, sqlite3, statistics, subprocess, sys, time, warnings
import pydicom
warnings.simplefilter("ignore")
T, settle, greydump, shared = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
log = open(os.path.join(T, "rs.log")).read().splitlines()
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(T, "rs.db"), uri=True)
def ts(line):
    return datetime.datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
TS = {"1.2.840.10008.1.2.1": "Explicit VR LE", "1.2.840.10008.1.2.4.80": "JPEG-LS lossless",
      "1.2.840.10008.1.2.4.90": "JPEG 2000 lossless", "1.2.840.10008.1.2.4.91": "JPEG 2000 lossy"}
modes, studies, bad = [], {}, 0
for line in open(os.path.join(T, "studies")):
    m, k, u = line.split()
    if m not in modes:
        modes.append(m)
    studies.setdefault(m, []).append((k, u))
def med(x):
    return statistics.median(x) if x else float("nan")
def describe(path):
    ds = pydicom.dcmread(path)
    ts_uid = str(ds.file_meta.TransferSyntaxUID)
    return ts_uid, "%s, %dx%d, %d bits, %.2f bits/pixel" % (
        TS.get(ts_uid, ts_uid), ds.Columns, ds.Rows, ds.BitsStored,
        len(ds.PixelData) * 8 / (ds.Rows * ds.Columns))
desc, res = {}, {}
for m in modes:
    ts_uid, desc[m] = describe(os.path.join(T, "send", m, "1", "frontal.dcm"))
    lat, drafted, read = [], [], []
    for k, u in studies[m]:
        stored = [ts(l) for l in log if "stored sop=" in l and "study=" + u + " " in l]
        acc = [ts(l) for l in log if "study=" + u + " " in l and "accepted" in l]
        draft = [l for l in log if "study=" + u + ": drafted in" in l]
        t0 = [ts(l) for l in log if "study=" + u + ": drafting" in l]
        t2 = [ts(l) for l in log if "study=" + u + " view 2:" in l]
        for f in ("frontal", "lateral"):
            sop = str(pydicom.dcmread(os.path.join(T, "send", m, k, f + ".dcm"),
                                      stop_before_pixels=True).SOPInstanceUID)
            got = db.execute("SELECT transfer_syntax FROM instances WHERE sop_instance_uid = ?",
                             (sop,)).fetchone()
            if got is None or got[0] != ts_uid:
                print("%s study %s %s: stored as %s, sent as %s" % (m, k, f, got, ts_uid))
                bad += 1
        lat.append(acc[0] - max(stored) - settle)
        ms = int(draft[0].split(": drafted in ", 1)[1].split()[0]) if draft else None
        if ms is not None:
            drafted.append(ms)
        if t0 and t2:
            read.append((t2[0] - t0[0]) * 1000)
        print("%-9s study ...%s: %.2f s after settling (drafted in %s ms, worker read %s ms)"
              % (m, u[-12:], lat[-1], ms if ms is not None else "?",
                 "%.0f" % read[-1] if t0 and t2 else "?"))
    res[m] = (lat, drafted, read)
print()
for m in modes:
    lat, drafted, read = res[m]
    print("%s (%s): latency minus settle_time over %d studies: median %.2f s, worst %.2f s "
          "(target <= 5 s); drafted in median %.0f ms; worker read of both views median %.0f ms"
          % (m, desc[m], len(lat), med(lat), max(lat), med(drafted), med(read)))
print()
if not os.access(greydump, os.X_OK):
    print("decode: %s not built (make tests/tools/greydump); not measured" % greydump)
    sys.exit(1 if bad else 0)
def dump(path, out):
    t = time.perf_counter()
    r = subprocess.run([greydump, path, out], stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit("latency: greydump %s: %s" % (path, r.stderr.strip()))
    return (time.perf_counter() - t) * 1000
print("decode per view, greydump FILE OUT.pgm wall time (start-up, read, decode, 8 bits, "
      "PGM write), daemons idle; load %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
ref = {}
for m in modes:
    t = []
    for k, _ in studies[m]:
        for f in ("frontal", "lateral"):
            t.append(dump(os.path.join(T, "send", m, k, f + ".dcm"), os.path.join(T, "g.pgm")))
    dump(os.path.join(T, "send", m, "1", "frontal.dcm"), os.path.join(T, "g.pgm"))
    pgm = open(os.path.join(T, "g.pgm"), "rb").read()
    if m == "explicit":
        ref["px"] = pgm
    same = "" if m in ("small", "explicit") or "px" not in ref else \
        "; pixels %s the explicit view's" % ("identical to" if pgm == ref["px"] else "differ from")
    print("%-9s %3d views: median %4.0f ms, worst %4.0f ms%s" % (m, len(t), med(t), max(t), same))
canon = os.path.join(shared, "dicom-samples", "dx_chest_canon_mono1_12bit_j2k-lossless.dcm")
if os.path.exists(canon):
    t = [dump(canon, os.path.join(T, "g.pgm")) for _ in range(3)]
    print("reference: Canon DX chest (shared/data/dicom-samples; %s), 3 runs: median %.0f ms, "
          "worst %.0f ms" % (describe(canon)[1], med(t), max(t)))
sys.exit(1 if bad else 0)
PY
