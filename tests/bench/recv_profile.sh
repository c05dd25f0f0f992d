#!/bin/bash
# Where does radscribed spend a C-STORE?  Companion to recv_bench.sh (issue 2).
#
# Sends one set of images to a fresh radscribed three times: plain (timed), under
# `strace -f -T` (the time of each fsync/fdatasync/write/rename/mkdir/openat, summed by target:
# object data, spool directories, SQLite WAL, ...) and under `perf record -g` (on-CPU profile,
# top symbols), and prints the three reports. strace inflates the wall time; read its numbers
# as shares, not as absolute costs.
#
#   tests/bench/recv_profile.sh [large|small]     (default small)
# Environment: RADSCRIBED (default <repo>/src/radscribed), N (default 200), KEEP=1.
# Only 127.0.0.1 is used. Needs dcmtk, strace, perf, /usr/bin/python3 with pydicom + numpy.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RADSCRIBED=${RADSCRIBED:-$REPO/src/radscribed}
SET=${1:-small}
N=${N:-200}
KEEP=${KEEP:-0}
PY=/usr/bin/python3
UTIL="$PY $HERE/recv_util.py"
case $SET in
large) DIM=2048 ;;
small) DIM=512 ;;
*) echo "usage: $0 [large|small]" >&2; exit 2 ;;
esac
[ -x "$RADSCRIBED" ] || { echo "recv_profile: no $RADSCRIBED" >&2; exit 1; }
for t in storescu echoscu strace perf sqlite3; do
    command -v "$t" >/dev/null || { echo "recv_profile: missing $t" >&2; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/recv_profile.XXXXXX") || exit 1
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    if [ "$KEEP" = 1 ]; then echo "recv_profile: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

$UTIL gen "$W/in" "$N" "$DIM" "$DIM" 7 || exit 1
PORT=$($UTIL freeport)
mkdir -p "$W/spool"
cat >"$W/radscribed.conf" <<EOF
ae_title = RADSCRIBE
listen = 127.0.0.1:$PORT
spool_dir = $W/spool
database = $W/radscribe.db
settle_time = 3600
log_level = warn
EOF
env -u TCP_NODELAY "$RADSCRIBED" -d -f "$W/radscribed.conf" 2>"$W/server.log" &
PID=$!
for _ in $(seq 100); do
    echoscu -q -aec RADSCRIBE 127.0.0.1 "$PORT" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || { cat "$W/server.log" >&2; exit 1; }
    sleep 0.1
done

# send LABEL [wrapper...]: empty spool and database first, so every pass starts alike
send() {
    local label=$1 t0 t1
    rm -rf "$W/spool/objects"/*
    sqlite3 "$W/radscribe.db" 'DELETE FROM instances; DELETE FROM studies;' || exit 1
    sync
    t0=$(date +%s.%N)
    TCP_NODELAY=1 storescu -R -aec RADSCRIBE 127.0.0.1 "$PORT" "$W/in"/*.dcm || { echo "storescu failed" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v n="$N" -v l="$label" \
        'BEGIN {printf "%-8s %d %s images: %.3f s, %.1f files/s, %.2f ms/file\n", l, n, "'"$SET"'", b - a, n / (b - a), (b - a) * 1000 / n}'
}

echo "== radscribed ($RADSCRIBED), $N x ${DIM}x${DIM}, one association =="
send plain
send plain

strace -f -T -y -e trace=fsync,fdatasync,write,pwrite64,rename,mkdir,openat -o "$W/strace.txt" -p "$PID" 2>/dev/null &
SP=$!
sleep 0.5
send strace
kill -INT "$SP"; wait "$SP" 2>/dev/null
echo
echo "-- syscalls by target (under strace) --"
$PY - "$W" "$N" <<'EOF'
import collections, re, sys
w, n = sys.argv[1], int(sys.argv[2])
acc = collections.defaultdict(lambda: [0, 0.0])
pat = re.compile(r'^\d+\s+(\w+)\((?:AT_FDCWD(?:<[^>]*>)?, "([^"]*)"|\d+<([^>]*)>|"([^"]*)")?.*?= (-?\d+).*<([\d.]+)>$')
for line in open(w + "/strace.txt"):
    m = pat.match(line.strip())
    if not m:
        continue
    call, atpath, fdpath, path, _, secs = m.groups()
    p = (fdpath or atpath or path or "").replace(w, "")
    if p.startswith("socket:") or p.startswith("TCP"):
        kind = "socket"
    elif p.endswith(".part"):
        kind = "spool tmp file"
    elif p.endswith("-wal"):
        kind = "sqlite WAL"
    elif p.endswith("-shm") or p.endswith(".db") or p.endswith("-journal"):
        kind = "sqlite db"
    elif re.search(r"/objects/[^/]+/[^/]+$", p):
        kind = "objects/XX/file"
    elif re.search(r"/objects/[^/]+$", p):
        kind = "objects/XX dir"
    elif p.endswith("/objects"):
        kind = "objects/ dir"
    elif p.endswith("/tmp"):
        kind = "spool tmp/ dir"
    else:
        kind = p or "?"
    a = acc[(call, kind)]
    a[0] += 1
    a[1] += float(secs)
print("%-10s %-18s %7s %9s %11s" % ("call", "target", "calls", "total ms", "ms per file"))
for (call, kind), (c, s) in sorted(acc.items(), key=lambda kv: -kv[1][1]):
    print("%-10s %-18s %7d %9.1f %11.3f" % (call, kind, c, s * 1e3, s * 1e3 / n))
EOF

perf record -F 999 -g -o "$W/perf.data" -p "$PID" >/dev/null 2>&1 &
PP=$!
sleep 0.5
send perf
kill -INT "$PP"; wait "$PP" 2>/dev/null
echo
echo "-- on-CPU profile (perf, inclusive, top entries) --"
perf report -i "$W/perf.data" --children --sort sym --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9]' | head -n 40
echo
echo "-- radscribed log lines during the runs: $(wc -l <"$W/server.log") (log_level = warn) --"
sort "$W/server.log" | sed -E 's/^[^ ]+ //' | sort | uniq -c | sort -rn | head -n 5
