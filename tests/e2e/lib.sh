# Shared helpers for the radscribe end-to-end tests (bash, TAP output).
# Source it from a test script:   . "$(dirname "$0")/lib.sh"
#
# Environment (set by the Makefile; defaults let you run a script by hand):
#   RADSCRIBED   daemon binary          default $top_builddir/src/radscribed
#   RADSCRIBE    CLI binary             default $top_builddir/src/radscribe
#   SHARED_DATA  shared data folder     default $top_srcdir/../shared/data
#   top_srcdir, top_builddir            default: two levels above this file
#   KEEP_TMP=1   keep the temporary folder (its path is printed as a comment)
#
# Only loopback addresses are ever used.

set -u

E2E_DIR=$(CDPATH= cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(CDPATH= cd -- "$E2E_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${RADSCRIBED:=$top_builddir/src/radscribed}"
: "${RADSCRIBE:=$top_builddir/src/radscribe}"
: "${SHARED_DATA:=$top_srcdir/../shared/data}"
# Debian's python3 (with pydicom and numpy), not the first python3 on PATH.
: "${PY:=/usr/bin/python3}"
DATA_DIR=$top_srcdir/tests/data
SAMPLE_DIR=$top_srcdir/tests/sample
DUL="$PY $E2E_DIR/dulclient.py"
HOST=127.0.0.1
AE=RADSCRIBE
export SHARED_DATA

# ---------------------------------------------------------------- TAP ----
TAP_N=0
TAP_FAILED=0
TAP_PLANNED=0

tap_plan() { TAP_PLANNED=$1; echo "1..$1"; }

# tap_diag TEXT...: print as TAP comment lines
tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }

# tap_fail DESC [DIAG...]
tap_fail() {
    TAP_N=$((TAP_N + 1))
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    shift
    [ $# -gt 0 ] && tap_diag "$@"
    return 0
}

# tap_check DESC COMMAND...: ok when COMMAND exits 0; its output goes to diag
# on failure.
tap_check() {
    local desc=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        tap_ok "$desc"
    else
        tap_fail "$desc" "command: $*" "exit status $rc" "$(printf '%s\n' "$out" | tail -n 20)"
    fi
    return $rc
}

# tap_is DESC GOT WANT
tap_is() {
    if [ "$2" = "$3" ]; then
        tap_ok "$1"
    else
        tap_fail "$1" "got:  '$2'" "want: '$3'"
        return 1
    fi
}

# tap_skip_rest REASON: mark all remaining planned tests as failed (a missing
# precondition is a failure, not a skip), then finish.
tap_bail_rest() {
    local why=$1
    while [ "$TAP_N" -lt "$TAP_PLANNED" ]; do
        tap_fail "not run: $why"
    done
    tap_done
}

tap_done() {
    if [ "$TAP_N" -ne "$TAP_PLANNED" ]; then
        echo "# planned $TAP_PLANNED tests but ran $TAP_N"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
    if [ "$TAP_FAILED" -ne 0 ]; then
        tail_log
        exit 1
    fi
    exit 0
}

# --------------------------------------------------------------- tools ----
# need TOOL...: fail (not skip) every remaining test when a tool is missing.
need() {
    local t missing=
    for t in "$@"; do
        case $t in
            */*) [ -x "$t" ] || missing="$missing $t" ;;
            *) command -v "$t" >/dev/null 2>&1 || missing="$missing $t" ;;
        esac
    done
    if [ -n "$missing" ]; then
        echo "# missing tools:$missing"
        tap_bail_rest "missing tools:$missing"
    fi
}

need_pydicom() {
    if ! "$PY" -c 'import pydicom, numpy' 2>/dev/null; then
        echo "# $PY lacks pydicom/numpy (Debian python3-pydicom python3-numpy)"
        tap_bail_rest "pydicom/numpy missing"
    fi
}

# ------------------------------------------------------------ tempdir ----
T=$(mktemp -d "${TMPDIR:-/tmp}/rs-e2e.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
DAEMON_PIDS=
MOUNTS=
CLEANUP_HOOKS=

cleanup() {
    local p m
    for p in $DAEMON_PIDS; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done
    for m in $CLEANUP_HOOKS; do "$m"; done
    for m in $MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----------------------------------------------------------- fixtures ----
# copy_shared SUBPATH DEST: copy from the read-only shared data to DEST.
copy_shared() {
    mkdir -p "$2" && cp -r "$SHARED_DATA/$1" "$2/" && chmod -R u+w "$2"
}

mkstudy() { "$DATA_DIR/mkstudy.sh" "$@"; }
mkimages() { "$PY" "$DATA_DIR/mkdicom.py" images "$@"; }
mkbad() { "$PY" "$DATA_DIR/mkdicom.py" bad "$@"; }

# dcm_attr FILE KEYWORD: print the value of a top-level attribute
dcm_attr() {
    dcmdump -q -s -Un +L +P "$2" "$1" 2>/dev/null | head -n 1 |
        sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p'
}

# ------------------------------------------------------------- config ----
free_port() {
    "$PY" - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randint(20000, 60000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
}

# write_conf NAME [LINE...]: write $T/NAME.conf with test defaults and the
# extra "key = value" lines (replacing a default of the same key); sets
# CONF, PORT, SPOOL, DB.
write_conf() {
    local name=$1
    shift
    PORT=$(free_port)
    SPOOL=${SPOOL_OVERRIDE:-$T/$name.spool}
    DB=$T/$name.db
    CONF=$T/$name.conf
    mkdir -p "$SPOOL"
    {
        echo "# radscribe e2e test config ($name)"
        echo "ae_title = $AE"
        echo "listen = $HOST:$PORT"
        echo "spool_dir = $SPOOL"
        echo "database = $DB"
        echo "settle_time = 1"
        echo "max_associations = 24"
        echo "log_level = debug"
        echo "acse_timeout = 5"
        echo "dimse_timeout = 10"
        echo "shutdown_timeout = 5"
    } > "$CONF"
    # extra lines: a key that is already there (not allow/accept_sop_class)
    # replaces the default line, anything else is appended
    local l key
    for l in "$@"; do
        key=$(printf '%s' "$l" | sed -E 's/^[[:space:]]*([A-Za-z_]+).*/\1/')
        case $key in
            allow|accept_sop_class|allow_query|move_destination|archive) echo "$l" >> "$CONF" ;;
            *)
                if grep -q "^$key = " "$CONF"; then
                    local tmp=$CONF.tmp
                    awk -v k="$key" -v l="$l" '$1 == k && $2 == "=" { print l; next } { print }' \
                        "$CONF" > "$tmp" && mv "$tmp" "$CONF"
                else
                    echo "$l" >> "$CONF"
                fi
                ;;
        esac
    done
}

# ------------------------------------------------------------- daemon ----
DPID=
DLOG=

# start_daemon [CONF]: start radscribed -d in the background, wait until it
# answers C-ECHO.  Returns 1 if it died or never answered.  Scripts run in
# parallel: if another one took our port while our daemon was down, take a
# fresh port (PORT changes) and try again.
start_daemon() {
    local conf=${1:-$CONF} try
    DLOG=$T/daemon.$(basename "$conf" .conf).log
    for try in 1 2 3; do
        echo "=== start $(date +%T.%N)" >> "$DLOG"
        "$RADSCRIBED" -d -f "$conf" >> "$DLOG" 2>&1 &
        DPID=$!
        DAEMON_PIDS="$DAEMON_PIDS $DPID"
        wait_ready && return 0
        if ! kill -0 "$DPID" 2>/dev/null &&
           tail -n 5 "$DLOG" | grep -q "Address already in use"; then
            PORT=$(free_port)
            sed -i "s/^listen = .*/listen = $HOST:$PORT/" "$conf"
            continue
        fi
        return 1
    done
    return 1
}

# wait_ready [SECONDS]: wait until OUR daemon logged that it listens (another
# script's daemon may answer on a recycled port), then for its C-ECHO.
wait_ready() {
    # generous: it returns as soon as the daemon answers, and a loaded CI
    # machine can take many seconds to map the model
    local t=${1:-60} i=0 mark
    mark=$(grep -c '^=== start' "$DLOG")
    while [ $i -lt $((t * 5)) ]; do
        if ! kill -0 "$DPID" 2>/dev/null; then
            echo "# radscribed (pid $DPID) exited during start-up"
            return 1
        fi
        if awk -v m="$mark" '/^=== start/ { n++ } n == m && /listening on/ { f = 1 } END { exit !f }' "$DLOG" &&
           echoscu -to 2 -ta 2 -aec "$AE" "$HOST" "$PORT" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
        i=$((i + 1))
    done
    echo "# radscribed did not answer C-ECHO on port $PORT within ${t}s"
    return 1
}

alive() { kill -0 "$DPID" 2>/dev/null; }

# stop_daemon [TIMEOUT]: SIGTERM, wait; prints nothing, returns the exit
# status (or 124 when it had to be killed).
stop_daemon() {
    local t=${1:-20} i=0 rc
    [ -n "$DPID" ] || return 0
    kill -TERM "$DPID" 2>/dev/null
    while kill -0 "$DPID" 2>/dev/null && [ $i -lt $((t * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$DPID" 2>/dev/null; then
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
        rc=124
    else
        wait "$DPID"
        rc=$?
    fi
    DAEMON_PIDS=$(echo "$DAEMON_PIDS" | sed "s/\b$DPID\b//")
    DPID=
    return $rc
}

kill9_daemon() {
    kill -KILL "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    DAEMON_PIDS=$(echo "$DAEMON_PIDS" | sed "s/\b$DPID\b//")
    DPID=
}

tail_log() {
    local f rc
    if [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null; then
        wait "$DPID" 2>/dev/null
        rc=$?
        echo "# radscribed (pid $DPID) is no longer running: exit status $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))")"
    fi
    for f in "$T"/daemon.*.log; do
        [ -f "$f" ] || continue
        echo "# ---- last lines of $(basename "$f")"
        tail -n 25 "$f" | sed 's/^/#   /'
    done
}

# echo_ok [CALLING_AE]: C-ECHO succeeds
echo_ok() {
    echoscu -to 5 -ta 5 -aet "${1:-ECHOSCU}" -aec "$AE" "$HOST" "$PORT"
}

# ----------------------------------------------------------------- db ----
# sql QUERY: run a query on $DB (busy timeout 10 s), no header, | separated
sql() {
    sqlite3 -batch -noheader -cmd ".timeout 10000" "$DB" "$1"
}

# instance_path SOP_UID: absolute path of the stored file from instances.path
instance_path() {
    local p
    p=$(sql "SELECT path FROM instances WHERE sop_instance_uid='$1';")
    [ -n "$p" ] || return 1
    case $p in
        /*) echo "$p" ;;
        *) echo "$SPOOL/$p" ;;
    esac
}

# wait_until SECONDS COMMAND...: poll every 0.2 s until COMMAND succeeds
wait_until() {
    local t=$1 i=0
    shift
    while [ $i -lt $((t * 5)) ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
        i=$((i + 1))
    done
    "$@" >/dev/null 2>&1
}

# at_least N COMMAND...: COMMAND prints a number >= N (for wait_until: the
# command runs again on every poll)
at_least() {
    local n=$1 v
    shift
    v=$("$@" 2>/dev/null)
    [ -n "$v" ] && [ "$v" -ge "$n" ] 2>/dev/null
}

# infer_jobs: number of infer jobs
infer_jobs() { sql "SELECT count(*) FROM jobs WHERE stage='infer';"; }

# job_count STUDY_UID [STAGE]: number of jobs of that stage for the study
job_count() {
    sql "SELECT count(*) FROM jobs j JOIN studies s ON s.id=j.study_id
         WHERE s.study_uid='$1' AND j.stage='${2:-infer}';"
}
has_job() { [ "$(job_count "$1")" -ge 1 ]; }

# status_json: radscribe status --json, pretty-printed to stdout
status_json() { "$RADSCRIBE" -f "$CONF" status --json; }

# json_get EXPR: evaluate a python expression on the JSON read from stdin
# (bound to j), e.g.  status_json | json_get 'j["instances"]'
json_get() {
    "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# ----------------------------------------------------------- compare ----
# dataset_dump FILE: dcmdump of the data set only (no meta header, no
# comment lines), all values printed in full, normalised so that only the
# content counts: the "# length, VM name" comments, explicit vs undefined
# sequence/item lengths, "for re-encoding" notes and data set trailing
# padding (fffc,fffc), which DCMTK senders drop, are removed.
dataset_dump() {
    dcmdump -q +L "$1" 2>&1 | grep -v '^#' | grep -v -e '^(0002,' -e '^(fffc,fffc)' |
        sed -E -e 's/ +# +(u\/l|[0-9]+), [0-9]+ [A-Za-z0-9]+$//' \
               -e 's/ with (explicit|undefined) length / /' \
               -e 's/ for re-encod[a-z.]*//' -e 's/ +$//' |
        grep -v '^[[:space:]]*$'
}

# same_dataset SENT STORED: the two files hold the same data set
same_dataset() {
    local a b
    a=$(dataset_dump "$1") || return 1
    b=$(dataset_dump "$2") || return 1
    if [ "$a" = "$b" ] && [ -n "$a" ]; then
        return 0
    fi
    diff <(echo "$a") <(echo "$b") | head -n 10 | cut -c1-150
    return 1
}

# ---------------------------------------------------------- storescu ----
# acked_files LOG: files for which storescu -v logged a successful response
acked_files() {
    awk '/Sending file: /{ sub(/^.*Sending file: /, ""); cur=$0; next }
         /Received Store Response \(Success\)/{ if (cur != "") print cur; cur="" }' "$1"
}

# nacked LOG: number of files storescu -v logged as acknowledged
nacked() { acked_files "$1" | wc -l; }

# sop_uid FILE
# late_instance SRC DEST: SRC again with a new SOP Instance UID and
# Instance Number 9: a late instance of the same study and series.
late_instance() {
    "$PY" - "$1" "$2" <<'PYEOF'
import sys, pydicom
from pydicom.uid import generate_uid
ds = pydicom.dcmread(sys.argv[1])
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.InstanceNumber = 9
ds.save_as(sys.argv[2])
PYEOF
}
sop_uid() { dcm_attr "$1" SOPInstanceUID; }
study_uid() { dcm_attr "$1" StudyInstanceUID; }

# ---------------------------------------------------------------- cli ----
# rs ARGS: radscribe with the test's configuration
rs() { "$RADSCRIBE" -f "$CONF" "$@"; }

# dbq PYEXPR: evaluate a python expression with the database open as c
# (sqlite3 connection) and the JSON from stdin as j; prints the result
dbq() {
    "$PY" -c '
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[2])
raw = sys.stdin.read()
j = json.loads(raw) if raw.strip() else None
code = sys.argv[1].strip().split("\n")
exec("\n".join(code[:-1]))
print(eval(code[-1]))' "$1" "$DB"
}

# ------------------------------------------------------------ orthanc ----
# A private Orthanc (Debian package orthanc) as the archive, on loopback.
# Each one has a NAME; its files are in $T/orthanc.NAME: config.json, log,
# pid, storage/, index/, and "received": one SOP Instance UID per C-STORE
# it received, written by a Lua filter, so that a second copy of an
# instance shows although Orthanc keeps only one.  Orthanc has no bind
# address setting: its DICOM port listens on every interface, its HTTP
# port (RemoteAccessAllowed false) answers loopback only.  No plugins.
# REST calls go through $PY's urllib, so curl is not needed.
: "${ORTHANC:=/usr/sbin/Orthanc}"

# orthanc_config NAME [AET]: write the configuration with free DICOM and
# HTTP ports (kept across restarts) without starting it.  AET defaults to
# NAME in capitals.
orthanc_config() {
    local name=$1 aet=${2:-$(echo "$1" | tr '[:lower:]-' '[:upper:]_')}
    local d=$T/orthanc.$1
    mkdir -p "$d/storage" "$d/index"
    : > "$d/received"
    cat > "$d/count.lua" <<LUA
function ReceivedInstanceFilter(dicom, origin, info)
  local f = io.open("$d/received", "a")
  f:write((dicom.SOPInstanceUID or "?") .. "\n")
  f:close()
  return true
end
LUA
    cat > "$d/config.json" <<JSON
{
  "Name": "rs-e2e-$name",
  "StorageDirectory": "$d/storage",
  "IndexDirectory": "$d/index",
  "DicomAet": "$aet",
  "DicomPort": $(free_port),
  "HttpPort": $(free_port),
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": true,
  "Plugins": [],
  "LuaScripts": ["$d/count.lua"],
  "SaveJobs": false,
  "StorageCompression": false,
  "OrthancExplorerEnabled": false,
  "WebDavEnabled": false
}
JSON
}

# _orthanc_key NAME KEY: a value from its config.json
_orthanc_key() {
    "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$T/orthanc.$1/config.json" "$2"
}
orthanc_port() { _orthanc_key "$1" DicomPort; }
orthanc_http() { _orthanc_key "$1" HttpPort; }
orthanc_aet() { _orthanc_key "$1" DicomAet; }

# start_orthanc NAME [AET]: start it (configured first if it is not yet),
# wait until it answers REST and C-ECHO; 1 if it did not within 30 s.
start_orthanc() {
    local name=$1 d=$T/orthanc.$1 pid i http port aet
    [ -f "$d/config.json" ] || orthanc_config "$@"
    http=$(orthanc_http "$name") port=$(orthanc_port "$name")
    aet=$(orthanc_aet "$name")
    echo "=== start $(date +%T.%N)" >> "$d/log"
    "$ORTHANC" "$d/config.json" >> "$d/log" 2>&1 &
    pid=$!
    echo "$pid" > "$d/pid"
    DAEMON_PIDS="$DAEMON_PIDS $pid"
    for i in $(seq 150); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "# Orthanc $name exited during start-up:"
            tail -n 5 "$d/log" | sed 's/^/#   /'
            return 1
        fi
        if orthanc_rest "$name" /system >/dev/null 2>&1 &&
           echoscu -to 2 -ta 2 -aec "$aet" 127.0.0.1 "$port" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    echo "# Orthanc $name did not answer within 30 s"
    return 1
}

# stop_orthanc NAME: SIGTERM by its PID and wait (SIGKILL after 20 s).
stop_orthanc() {
    local d=$T/orthanc.$1 pid i=0
    [ -f "$d/pid" ] || return 0
    pid=$(cat "$d/pid")
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$d/pid"
    DAEMON_PIDS=$(echo "$DAEMON_PIDS" | sed "s/\b$pid\b//")
}

# orthanc_rest NAME PATH [POST_DATA]: GET (or POST) http://127.0.0.1:HTTP/PATH,
# the body to stdout; 1 on an HTTP error or no answer
orthanc_rest() {
    "$PY" - "http://127.0.0.1:$(orthanc_http "$1")/${2#/}" "$@" <<'PYEOF'
import sys, urllib.request
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
try:
    with urllib.request.urlopen(sys.argv[1], data=data, timeout=10) as r:
        sys.stdout.buffer.write(r.read())
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
PYEOF
}

# orthanc_count NAME [LEVEL]: how many instances (or patients, studies,
# series) it holds, from its REST API
orthanc_count() {
    orthanc_rest "$1" "/${2:-instances}" |
        "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# orthanc_received NAME [SOP_UID]: C-STOREs it received (of that instance)
orthanc_received() {
    local f=$T/orthanc.$1/received
    if [ $# -ge 2 ]; then
        grep -cxF "$2" "$f"
    else
        wc -l < "$f" | tr -d ' '
    fi
}

# orthanc_file NAME SOP_UID OUT: fetch the stored instance into OUT
orthanc_file() {
    local id
    id=$(orthanc_rest "$1" /tools/lookup "$2" |
        "$PY" -c 'import json,sys; print([x["ID"] for x in json.load(sys.stdin) if x["Type"] == "Instance"][0])') || return 1
    orthanc_rest "$1" "/instances/$id/file" > "$3"
}
