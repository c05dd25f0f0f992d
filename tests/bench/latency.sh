#!/bin/bash
# Study-to-archive latency (issue 5): radscribed with the default model (no
# model keys) and a local Orthanc as the archive, on loopback.  N two-view
# chest studies (tests/data/mkstudy.sh, PA + lateral) are sent one after the
# other; for each, the time from the last instance acknowledged (radscribed's
# "stored" log line) to the archive's success response (the sender's
# "accepted" log line), minus settle_time.  Prints every study, the median
# and the worst.  A benchmark, not a test: exits 0 unless something failed
# to run.
#
# Environment: N (default 10), SETTLE (settle_time, default 1), THREADS
# (radscribed threads, default 2), KEEP=1 keeps the temp dir.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-10}
SETTLE=${SETTLE:-1}
THREADS=${THREADS:-2}
RADSCRIBED=${RADSCRIBED:-$top/src/radscribed}
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
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); threads $THREADS; settle_time $SETTLE s"
for k in $(seq "$N"); do
	"$top/tests/data/mkstudy.sh" "$T/s$k" > /dev/null || die "mkstudy failed"
	u=$(dcmdump -q +P 0020,000d "$T/s$k/frontal.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p')
	storescu -aec RADSCRIBE 127.0.0.1 "$port" "$T/s$k/frontal.dcm" "$T/s$k/lateral.dcm" ||
		die "storescu failed"
	for i in $(seq 600); do
		grep -q "study=$u .*accepted" "$T/rs.log" && break
		sleep 0.1
	done
	grep -q "study=$u .*accepted" "$T/rs.log" || die "study $k not delivered: $(grep -v dcmtk "$T/rs.log" | tail -n 5)"
	echo "$u" >> "$T/studies"
done
$py - "$T/rs.log" "$T/studies" "$SETTLE" <<'PY'
import datetime, re, statistics, sys
log = open(sys.argv[1]).read().splitlines()
settle = float(sys.argv[3])
def ts(line):
    return datetime.datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
lat = []
for u in open(sys.argv[2]).read().split():
    stored = [ts(l) for l in log if "stored sop=" in l and "study=" + u + " " in l]
    acc = [ts(l) for l in log if "study=" + u + " " in l and "accepted" in l]
    draft = [l for l in log if "study=" + u + ": drafted in" in l]
    lat.append(acc[0] - max(stored) - settle)
    print("study ...%s: %.2f s after settling (drafted in %s)" % (u[-12:], lat[-1],
          draft[0].split(": drafted in ", 1)[1] if draft else "?"))
print("latency minus settle_time over %d studies: median %.2f s, worst %.2f s (target <= 5 s)"
      % (len(lat), statistics.median(lat), max(lat)))
PY
