#!/bin/bash
# Receive-throughput benchmark (issue 2).
#
# Sends N_LARGE chest-sized images (2048x2048, 16 bit, ~8 MB) and N_SMALL small ones (512x512)
# with `TCP_NODELAY=1 storescu`, one association per set, to three receivers in turn:
#   radscribed, DCMTK storescp (TCP_NODELAY=1) and Orthanc,
# on the same generated files, each run on a fresh, empty output directory, and prints files/s
# and the ratios radscribed/storescp and radscribed/Orthanc against the issue's targets.
# It is a benchmark, not a test: it exits 0 unless something failed to run (a receiver did not
# start, storescu failed, or a receiver did not store every file).
#
# Environment:
#   RADSCRIBED   daemon binary (default: <repo>/src/radscribed)
#   N_LARGE      number of 2048x2048 images (default 200)
#   N_SMALL      number of 512x512 images (default 200)
#   REPS         runs per receiver and set; the best run is reported, with the median (default 5)
#   RECEIVERS    subset/order of "storescp orthanc radscribed" (default all three)
#   PDU          if set, max PDU length given to all three receivers (storescp -pdu,
#                Orthanc MaximumPduLength, radscribed max_pdu); default: each receiver's own default
#   ORTHANC_NODELAY     1 (default): start Orthanc with TCP_NODELAY=1 in its environment, like
#                       storescp; 0: without (Debian's DCMTK 3.6.7 then leaves Nagle on, and Orthanc
#                       takes ~45 ms per small image)
#   RADSCRIBED_NODELAY  0 (default): start radscribed without TCP_NODELAY in its environment, as
#                       an init system would (the daemon has to disable Nagle itself); 1: with it
#   KEEP=1       keep the temp dir (logs) and print its path
#
# Only loopback (127.0.0.1) is used. Needs: dcmtk (storescu, storescp, echoscu), orthanc,
# /usr/bin/python3 with python3-pydicom and python3-numpy, curl, sqlite3.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RADSCRIBED=${RADSCRIBED:-$REPO/src/radscribed}
N_LARGE=${N_LARGE:-200}
N_SMALL=${N_SMALL:-200}
REPS=${REPS:-5}
RECEIVERS=${RECEIVERS:-"storescp orthanc radscribed"}
PDU=${PDU:-}
KEEP=${KEEP:-0}
ORTHANC_NODELAY=${ORTHANC_NODELAY:-1}
RADSCRIBED_NODELAY=${RADSCRIBED_NODELAY:-0}
PY=/usr/bin/python3
UTIL="$PY $HERE/recv_util.py"
ORTHANC_BIN=${ORTHANC_BIN:-/usr/sbin/Orthanc}

die() { echo "recv_bench: $*" >&2; exit 1; }

for t in storescu storescp echoscu curl sqlite3; do
    command -v "$t" >/dev/null || die "missing tool: $t"
done
$PY -c 'import pydicom, numpy' 2>/dev/null || die "$PY lacks pydicom/numpy (apt install python3-pydicom python3-numpy)"
for r in $RECEIVERS; do
    case $r in
    storescp) ;;
    orthanc) [ -x "$ORTHANC_BIN" ] || die "Orthanc not found at $ORTHANC_BIN" ;;
    radscribed) [ -x "$RADSCRIBED" ] || die "radscribed not found at $RADSCRIBED (build it, or set RADSCRIBED)" ;;
    *) die "unknown receiver: $r" ;;
    esac
done

W=$(mktemp -d "${TMPDIR:-/tmp}/recv_bench.XXXXXX") || die "mktemp failed"
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [ "$KEEP" = 1 ]; then echo "recv_bench: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

# nodelay_env 0|1: the `env` prefix that removes or sets TCP_NODELAY (DCMTK reads it at startup)
nodelay_env() {
    if [ "$1" = 1 ]; then echo "env TCP_NODELAY=1"; else echo "env -u TCP_NODELAY"; fi
}

# wait_echo AET PORT PID SECONDS: until echoscu succeeds (0), the server died (1) or timeout (1)
wait_echo() {
    local aet=$1 port=$2 pid=$3 lim=$4 i
    for i in $(seq $((lim * 10))); do
        kill -0 "$pid" 2>/dev/null || return 1
        if TCP_NODELAY=1 echoscu -q -to 5 -aec "$aet" 127.0.0.1 "$port" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

# stop_server: SIGTERM the server, wait for it (30 s), then SIGKILL
stop_server() {
    local pid=$SERVER_PID i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "recv_bench: pid $pid did not stop on SIGTERM within 30 s, killing" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    SERVER_PID=
}

# start_<receiver> DIR PORT: start it in the background (SERVER_PID), set AET
start_storescp() {
    local d=$1 port=$2
    mkdir -p "$d/out"
    AET=STORESCP
    env TCP_NODELAY=1 storescp ${PDU:+-pdu $PDU} -aet "$AET" -od "$d/out" "$port" >"$d/server.log" 2>&1 &
    SERVER_PID=$!
}

start_orthanc() {
    local d=$1 port=$2 hport
    hport=$($UTIL freeport)
    HTTP_PORT=$hport
    mkdir -p "$d/storage" "$d/index"
    AET=ORTHANC
    local pdu_line=
    [ -z "$PDU" ] || pdu_line="\"MaximumPduLength\" : $PDU,"
    cat >"$d/orthanc.json" <<EOF
{
  "Name" : "recv-bench",
  "StorageDirectory" : "$d/storage",
  "IndexDirectory" : "$d/index",
  "DicomAet" : "$AET",
  "DicomPort" : $port,
  "HttpPort" : $hport,
  "DicomCheckCalledAet" : false,
  "RemoteAccessAllowed" : false,
  "AuthenticationEnabled" : false,
  $pdu_line
  "Plugins" : [ ]
}
EOF
    $(nodelay_env "$ORTHANC_NODELAY") "$ORTHANC_BIN" "$d/orthanc.json" >"$d/server.log" 2>&1 &
    SERVER_PID=$!
}

start_radscribed() {
    local d=$1 port=$2
    mkdir -p "$d/spool"
    AET=RADSCRIBE
    cat >"$d/radscribed.conf" <<EOF
# recv_bench.sh
ae_title = $AET
listen = 127.0.0.1:$port
spool_dir = $d/spool
database = $d/radscribe.db
settle_time = 3600
log_level = warn
${PDU:+max_pdu = $PDU}
EOF
    "$RADSCRIBED" -n -f "$d/radscribed.conf" >"$d/effective.conf" 2>"$d/server.log" ||
        { cat "$d/server.log" >&2; die "radscribed -n rejected the benchmark config"; }
    $(nodelay_env "$RADSCRIBED_NODELAY") "$RADSCRIBED" -d -f "$d/radscribed.conf" >>"$d/server.log" 2>&1 &
    SERVER_PID=$!
}

# stored_count RECEIVER DIR: number of instances the receiver holds (server already stopped,
# except Orthanc, which is asked over HTTP before it is stopped)
stored_count() {
    local r=$1 d=$2
    case $r in
    storescp) find "$d/out" -type f | wc -l ;;
    orthanc) curl -s --max-time 10 "http://127.0.0.1:$HTTP_PORT/statistics" |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])' 2>/dev/null || echo 0 ;;
    radscribed)
        local files rows
        files=$(find "$d/spool/objects" -type f -name '*.dcm' 2>/dev/null | wc -l)
        rows=$(sqlite3 "$d/radscribe.db" 'select count(*) from instances' 2>/dev/null || echo 0)
        [ "$files" = "$rows" ] || echo "recv_bench: radscribed: $files object files but $rows instance rows" >&2
        echo "$rows" ;;
    esac
}

# run_one RECEIVER SET REP: sets RES_SECS and RES_CPU (receiver CPU seconds); fails on any error
run_one() {
    local r=$1 set=$2 rep=$3 d port t0 t1 c0 c1 n rc files
    d="$W/run/$r-$set-$rep"
    mkdir -p "$d"
    port=$($UTIL freeport)
    sync
    "start_$r" "$d" "$port"
    if ! wait_echo "$AET" "$port" "$SERVER_PID" 30; then
        echo "recv_bench: $r did not answer C-ECHO on 127.0.0.1:$port; log:" >&2
        tail -n 30 "$d/server.log" >&2
        stop_server
        return 1
    fi
    files=("$W/in/$set"/*.dcm)
    c0=$($UTIL cputicks "$SERVER_PID")
    t0=$(now)
    TCP_NODELAY=1 storescu -R -aec "$AET" 127.0.0.1 "$port" "${files[@]}" >"$d/storescu.log" 2>&1
    rc=$?
    t1=$(now)
    c1=$($UTIL cputicks "$SERVER_PID" 2>/dev/null || echo "$c0")
    if [ "$r" = orthanc ]; then n=$(stored_count "$r" "$d"); stop_server; else stop_server; n=$(stored_count "$r" "$d"); fi
    if [ $rc -ne 0 ]; then
        echo "recv_bench: storescu to $r failed (exit $rc):" >&2
        tail -n 20 "$d/storescu.log" >&2
        return 1
    fi
    if [ "$n" != "${#files[@]}" ]; then
        echo "recv_bench: $r stored $n of ${#files[@]} $set files" >&2
        tail -n 20 "$d/server.log" >&2
        return 1
    fi
    # free the space now (the logs stay if KEEP=1)
    [ "$KEEP" = 1 ] || rm -rf "$d/out" "$d/storage" "$d/spool"
    sync
    RES_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
    RES_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
}

# ---------------------------------------------------------------------------------------------
echo "== radscribe receive benchmark (issue 2) =="
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)," \
    "$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
fsdev=$(df --output=source "$W" | tail -n1)
journal=
if [ -r "/sys/fs/ext4/${fsdev##*/}/journal_task" ]; then
    [ "$(cat "/sys/fs/ext4/${fsdev##*/}/journal_task")" = "<none>" ] && journal=", no journal" || journal=", journal"
fi
echo "disk:      $(df -h --output=source,fstype,size "$W" | tail -n1 | tr -s ' ')$journal," \
    "write cache: $(cat "/sys/block/${fsdev##*/}/queue/write_cache" 2>/dev/null || echo '?')"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
echo "dcmtk:     $(storescu --version 2>&1 | sed -n 's/^\$dcmtk: \(.*\) \$$/\1/p' | head -n1)"
echo "orthanc:   $("$ORTHANC_BIN" --version 2>&1 | head -n1)"
if [ -x "$RADSCRIBED" ]; then
    echo "radscribed: $RADSCRIBED ($(stat -c '%y' "$RADSCRIBED" | cut -d. -f1))"
fi
echo "sets:      large ${N_LARGE} x 2048x2048, small ${N_SMALL} x 512x512; DX For Presentation," \
    "explicit VR LE, 16 bit (12 stored), 2 images per study; one association per set"
echo "env:       TCP_NODELAY=1 for storescu and storescp; Orthanc: $([ "$ORTHANC_NODELAY" = 1 ] && echo "TCP_NODELAY=1" || echo "without TCP_NODELAY");" \
    "radscribed: $([ "$RADSCRIBED_NODELAY" = 1 ] && echo "TCP_NODELAY=1" || echo "without TCP_NODELAY (as started by an init system)")"
echo "reps:      $REPS per receiver and set, best reported; max PDU: ${PDU:-receiver defaults (storescp 16384, Orthanc 16384, radscribed 65536)}"

read -r fs_mean fs_med fs_p99 fs_n <<<"$($UTIL fsync "$W" 1000 4096)" || die "fsync probe failed"
read -r _ fm_med _ fm_n <<<"$($UTIL fsync "$W" 50 524288)" || die "fsync probe failed"
read -r _ fl_med _ fl_n <<<"$($UTIL fsync "$W" 20 8388608)" || die "fsync probe failed"
echo "fsync:     4 KiB write + fsync: mean ${fs_mean} ms, median ${fs_med} ms, p99 ${fs_p99} ms (n=${fs_n});" \
    "new file + fsync, median: 512 KiB ${fm_med} ms (n=${fm_n}), 8 MiB ${fl_med} ms (n=${fl_n})"

mkdir -p "$W/in" "$W/run"
t0=$(now)
$UTIL gen "$W/in/large" "$N_LARGE" 2048 2048 1 || die "generating large images failed"
$UTIL gen "$W/in/small" "$N_SMALL" 512 512 2 || die "generating small images failed"
sync
MB_LARGE=$(du -sm "$W/in/large" | cut -f1)
MB_SMALL=$(du -sm "$W/in/small" | cut -f1)
echo "generated: large ${MB_LARGE} MB, small ${MB_SMALL} MB in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"

# storescu's own fixed cost (scanning the files before it connects): no listener on the port
for set in large small; do
    port=$($UTIL freeport)
    t0=$(now)
    TCP_NODELAY=1 storescu -R -aec NOBODY 127.0.0.1 "$port" "$W/in/$set"/*.dcm >/dev/null 2>&1
    echo "storescu:  $set set, scan + failed connect, no receiver: $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}') s"
done
echo

declare -A BEST ALL ONE
read -r -a order <<<"$RECEIVERS"
printf '%-11s %-6s %4s %9s %9s %8s %9s\n' receiver set rep seconds files/s MB/s cpu_s
for rep in $(seq "$REPS"); do
    # alternate the order between reps so drift (page cache, writeback) does not favour one receiver
    if [ $((rep % 2)) -eq 0 ]; then
        rev=(); for ((i = ${#order[@]} - 1; i >= 0; i--)); do rev+=("${order[i]}"); done; seq_r=("${rev[@]}")
    else
        seq_r=("${order[@]}")
    fi
    for r in "${seq_r[@]}"; do
        for set in large small; do
            run_one "$r" "$set" "$rep" || die "run $r/$set/$rep failed"
            secs=$RES_SECS cpu=$RES_CPU
            n=$([ "$set" = large ] && echo "$N_LARGE" || echo "$N_SMALL")
            mb=$([ "$set" = large ] && echo "$MB_LARGE" || echo "$MB_SMALL")
            fps=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.1f", n / s}')
            printf '%-11s %-6s %4s %9s %9s %8s %9s\n' "$r" "$set" "$rep" "$secs" "$fps" \
                "$(awk -v m="$mb" -v s="$secs" 'BEGIN {printf "%.0f", m / s}')" "$cpu"
            k="$r/$set"
            ALL[$k]="${ALL[$k]:-} $fps"
            ONE[$k/$rep]=$fps
            if [ -z "${BEST[$k]:-}" ] || awk -v a="$fps" -v b="${BEST[$k]}" 'BEGIN {exit !(a > b)}'; then
                BEST[$k]=$fps
            fi
        done
    done
done

echo
median() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "files/s, best of $REPS runs (median in parentheses):"
echo
echo "| receiver   | large: ${N_LARGE} x 2048x2048 | small: ${N_SMALL} x 512x512 |"
echo "|------------|---------------------:|--------------------:|"
for r in "${order[@]}"; do
    printf '| %-10s | %20s | %19s |\n' "$r" "${BEST[$r/large]} ($(median "${ALL[$r/large]}"))" \
        "${BEST[$r/small]} ($(median "${ALL[$r/small]}"))"
done

echo
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v x="$1" -v t="$2" 'BEGIN {print ((x >= t) ? "met" : "MISSED")}'; }
ahead() { awk -v x="$1" 'BEGIN {print ((x > 1) ? "met" : "MISSED")}'; }
# paired: the median over reps of (radscribed / other) within the same rep, which were run
# close together in time; less sensitive to slow drifts of the host than best-of
paired() {
    local other=$1 set=$2 rep l=
    for rep in $(seq "$REPS"); do l="$l $(ratio "${ONE[radscribed/$set/$rep]}" "${ONE[$other/$set/$rep]}")"; done
    median "$l" | awk '{printf "%.2f", $1}'
}
if [ -n "${BEST[radscribed/large]:-}" ]; then
    echo
    echo "Ratios of the best runs (targets: >= 0.80 / >= 0.50 of storescp, ahead of Orthanc);"
    echo "'paired' = median over reps of the ratio within one rep:"
    echo
    echo "| ratio                 | large | target        | paired | small | target        | paired |"
    echo "|-----------------------|------:|---------------|-------:|------:|---------------|-------:|"
    if [ -n "${BEST[storescp/large]:-}" ]; then
        rl=$(ratio "${BEST[radscribed/large]}" "${BEST[storescp/large]}")
        rs=$(ratio "${BEST[radscribed/small]}" "${BEST[storescp/small]}")
        printf '| %-21s | %5s | %-13s | %6s | %5s | %-13s | %6s |\n' "radscribed / storescp" \
            "$rl" ">= 0.80 $(verdict "$rl" 0.8)" "$(paired storescp large)" \
            "$rs" ">= 0.50 $(verdict "$rs" 0.5)" "$(paired storescp small)"
    fi
    if [ -n "${BEST[orthanc/large]:-}" ]; then
        rl=$(ratio "${BEST[radscribed/large]}" "${BEST[orthanc/large]}")
        rs=$(ratio "${BEST[radscribed/small]}" "${BEST[orthanc/small]}")
        printf '| %-21s | %5s | %-13s | %6s | %5s | %-13s | %6s |\n' "radscribed / Orthanc" \
            "$rl" "> 1 $(ahead "$rl")" "$(paired orthanc large)" \
            "$rs" "> 1 $(ahead "$rs")" "$(paired orthanc small)"
    fi
fi
exit 0
