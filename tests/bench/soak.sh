#!/bin/bash
# Soak (issue 13): radscribed with the default model and a local Orthanc as
# the archive, fed for DURATION seconds by SENDERS senders that each stream
# two-view studies (tests/data/mkstudy.sh, fresh UIDs each time) with
# storescu, while HOSTILE hostile peers reconnect throughout: half-sent
# association requests held open, garbage bytes, deeply nested C-STORE data
# sets.  Every SAMPLE seconds it records radscribed's resident memory, open
# file descriptors and threads; at the end it waits for the queue to drain
# and checks that every study sent was drafted once and delivered once.
# Prints the samples, their first/last after warm-up and the totals.  A
# benchmark, not a test: exits 0 unless something failed to run or a study
# was lost or delivered twice.
#
# Environment: DURATION (default 1800), SENDERS (4), HOSTILE (2), SAMPLE
# (30), PAUSE (10 s between one sender's studies), SETTLE (settle_time, 2),
# RADSCRIBED, KEEP=1 keeps the temp dir.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${DURATION:-1800}
SENDERS=${SENDERS:-4}
HOSTILE=${HOSTILE:-2}
SAMPLE=${SAMPLE:-30}
PAUSE=${PAUSE:-10}	# between one sender's studies: about what drafting keeps up with
SETTLE=${SETTLE:-2}
RADSCRIBED=${RADSCRIBED:-$top/src/radscribed}
py=/usr/bin/python3
export SHARED_DATA=${SHARED_DATA:-$top/../shared/data}
T=$(mktemp -d "${TMPDIR:-/tmp}/rs-soak.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
freeport() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
die() { echo "soak: $*" >&2; exit 1; }

oport=$(freeport) ohttp=$(freeport) port=$(freeport)
mkdir -p "$T/orthanc"
cat > "$T/orthanc/config.json" <<JSON
{ "Name": "rs-soak", "StorageDirectory": "$T/orthanc", "IndexDirectory": "$T/orthanc",
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
max_associations = 16
log_level = info
archive = pacs ARCHIVE 127.0.0.1 $oport
CONF
mkdir -p "$T/spool"
"$RADSCRIBED" -d -f "$T/rs.conf" > "$T/rs.log" 2>&1 &
rpid=$!
pids="$pids $rpid"
for i in $(seq 300); do echoscu -aec RADSCRIBE 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.2; done
echoscu -aec RADSCRIBE 127.0.0.1 "$port" 2>/dev/null || die "radscribed did not start: $(tail -n 5 "$T/rs.log")"

end=$(( $(date +%s) + DURATION ))

# senders: one study after another until the end; each study's UID is kept
sender() {
	local n=$1 k=0 d u
	while [ "$(date +%s)" -lt "$end" ]; do
		k=$((k + 1))
		d=$T/s$n.$k
		"$top/tests/data/mkstudy.sh" "$d" > /dev/null 2>&1 || continue
		u=$(dcmdump -q +P 0020,000d "$d/frontal.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p')
		if storescu -aet "SENDER$n" -aec RADSCRIBE 127.0.0.1 "$port" \
		    "$d/frontal.dcm" "$d/lateral.dcm" > "$d.log" 2>&1; then
			echo "$u" >> "$T/sent.$n"
		else
			echo "$u" >> "$T/failed.$n"
		fi
		rm -rf "$d"
		sleep "$PAUSE"
	done
}

# hostile peers: cycle through three attacks until the end
cat > "$T/hostile.py" <<'PY'
import random, socket, struct, sys, time
host, port, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from dulclient import associate, command_set, send_message, read_message, uidb, IMPLICIT_LE
ITEM = struct.pack("<HHI", 0xfffe, 0xe000, 0xffffffff)
nest = (struct.pack("<HHI", 0x0008, 0x1115, 0xffffffff) + ITEM) * 200000
n = 0
while time.time() < end:
    n += 1
    try:
        k = n % 3
        if k == 0:        # half an association request, held
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(struct.pack(">BBI", 1, 0, 200000) + b"\0" * 65530)
            time.sleep(5)
            s.close()
        elif k == 1:      # garbage
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(random.randbytes(4096))
            s.close()
        else:             # a deeply nested C-STORE data set
            SC = "1.2.840.10008.5.1.4.1.1.7"
            s, mp, pcs = associate(host, port, "RADSCRIBE", "HOSTILE", [(1, SC, [IMPLICIT_LE])])
            if s is None:
                continue
            cmd = command_set([(0x0002, uidb(SC)), (0x0100, struct.pack("<H", 1)),
                               (0x0110, struct.pack("<H", 1)), (0x0700, struct.pack("<H", 0)),
                               (0x0800, struct.pack("<H", 0)), (0x1000, uidb("1.2.3.4.%d" % n))])
            send_message(s, 1, cmd, True, mp)
            send_message(s, 1, nest, False, mp)
            read_message(s)
            s.close()
    except Exception:
        time.sleep(0.2)
PY
workers=
for n in $(seq "$SENDERS"); do sender "$n" & workers="$workers $!"; done
for n in $(seq "$HOSTILE"); do
	$py "$T/hostile.py" 127.0.0.1 "$port" "$end" "$top/tests/e2e" > /dev/null 2>&1 &
	workers="$workers $!"
done
pids="$pids $workers"

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "duration ${DURATION}s, $SENDERS senders, $HOSTILE hostile peers, settle_time ${SETTLE}s"
printf '%8s %10s %6s %8s %8s %8s\n' "t(s)" "rss(KiB)" "fds" "threads" "reports" "sent"
start=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
	kill -0 "$rpid" 2>/dev/null || die "radscribed died: $(tail -n 5 "$T/rs.log")"
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$rpid/status)
	thr=$(sed -n 's/^Threads:[[:space:]]*//p' /proc/$rpid/status)
	fds=$(ls /proc/$rpid/fd | wc -l)
	reps=$(sqlite3 "$T/rs.db" "SELECT count(*) FROM reports;" 2>/dev/null)
	sent=$(cat "$T"/sent.* 2>/dev/null | wc -l)
	printf '%8d %10s %6s %8s %8s %8s\n' $(( $(date +%s) - start )) "$rss" "$fds" "$thr" "$reps" "$sent" | tee -a "$T/samples"
	sleep "$SAMPLE"
done
wait $workers

# drain: every study sent drafted and delivered
sort -u "$T"/sent.* > "$T/sent" 2>/dev/null
nsent=$(wc -l < "$T/sent")
drained() {
	[ "$(sqlite3 "$T/rs.db" "SELECT count(*) FROM jobs WHERE state NOT IN ('DONE','FAILED');")" = 0 ]
}
for i in $(seq 600); do drained && break; sleep 1; done
sqlite3 "$T/rs.db" "SELECT s.study_uid, count(DISTINCT r.id), count(d.accepted_at)
	FROM studies s LEFT JOIN reports r ON r.study_id = s.id
	LEFT JOIN deliveries d ON d.report_id = r.id GROUP BY s.id;" | tr '|' ' ' > "$T/per_study"
bad=$(awk 'NR == FNR { want[$1] = 1; next } ($1 in want) && ($2 != 1 || $3 != 1) { n++ } END { print n + 0 }' "$T/sent" "$T/per_study")
missing=$(awk 'NR == FNR { got[$1] = 1; next } !($1 in got) { n++ } END { print n + 0 }' "$T/per_study" "$T/sent")
failed=$(sqlite3 "$T/rs.db" "SELECT count(*) FROM jobs WHERE state = 'FAILED';")
echo "studies sent (acknowledged): $nsent; sender failures: $(cat "$T"/failed.* 2>/dev/null | wc -l)"
echo "not drafted and delivered exactly once: $bad; missing from the database: $missing; FAILED jobs: $failed"
echo "hostile: $(grep -c 'refused with 0xC000' "$T/rs.log") nested data sets refused, $(grep -c 'connection from .* dropped' "$T/rs.log") connections dropped"
awk -v w=$((SAMPLE * 4)) '$1 ~ /^[0-9]+$/ && $1 >= w { if (!f) { f = $0 } l = $0 }
	END { print "after warm-up, first: " f; print "after warm-up, last:  " l }' "$T/samples"
kill -0 "$rpid" 2>/dev/null || die "radscribed died at the end"
[ "$bad" = 0 ] && [ "$missing" = 0 ] || exit 1
exit 0
