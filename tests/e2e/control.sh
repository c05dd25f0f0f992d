#!/bin/bash
# The control socket and `radscribe status` / `reload`: what the running
# daemon reports (pid, version, models, disks), the database part with a
# known queue while it is stopped, reload through the socket (and a bad
# file refused), the wake and bad requests, a second daemon on the same
# spool refused, a stale socket after kill -9 replaced, a path that is not
# a socket refused, and a peer that is neither root nor the daemon's user
# refused (run as root: setpriv to nobody).
. "$(dirname "$0")/lib.sh"

tap_plan 14
need "$RADSCRIBED" "$RADSCRIBE" sqlite3 echoscu setpriv
need_pydicom
M=$top_srcdir/models
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")

# ctl REQUEST [SOCKET]: one raw request line, the reply on stdout
ctl() {
    "$PY" - "$1" "${2:-$SOCK}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[2])
s.sendall(sys.argv[1].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
EOF
}

write_conf ctl
SOCK=$SPOOL/control.sock
start_daemon || tap_bail_rest "radscribed did not start"

# 1-4: status with the daemon up
status_json > "$T/st.json"; rc=$?
got=$("$PY" - "$T/st.json" "$DPID" "$VERSION" "$M" "$SOCK" "$PORT" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1])); pid, ver, m, sock, port = sys.argv[2:]
d = j["daemon"]
ms = d["models"]
ok = d["running"] is True and d["pid"] == int(pid) and d["version"] == ver and j["version"] == ver
ok = ok and d["control_socket"] == sock and d["listen_port"] == int(port) and d["ae_title"] == "RADSCRIBE"
ok = ok and [x["section"] for x in ms] == ["findings", "impression"]
ok = ok and ms[0]["model"].endswith("/radscribe-cxr.gguf") and ms[0]["mmproj"].endswith("/mmproj-radscribe-cxr.gguf")
ok = ok and ms[0]["name"] == "radscribe-cxr" and ms[0]["shared"] is False and ms[1]["shared"] is True
ok = ok and ms[0]["prompt"] == "Write the findings." and d["drafting"] is None and d["uptime_s"] >= 0
print(ok)
EOF
)
tap_is "status --json: running, its pid, version, port and the default model for both sections" "$rc/$got" "0/True"
got=$("$PY" - "$T/st.json" "$SPOOL" "$(dirname "$DB")" <<'EOF'
import json, os, sys
j = json.load(open(sys.argv[1])); spool, dbdir = sys.argv[2:]
want = {"spool": spool, "reports": spool + "/reports", "database": dbdir}
ok = sorted(d["name"] for d in j["disks"]) == sorted(want)
for d in j["disks"]:
    v = os.statvfs(want[d["name"]])
    ok = ok and d["path"] == want[d["name"]] and d["size_bytes"] == v.f_blocks * v.f_frsize
    # free space moves while other tests write: within 1% of the size
    ok = ok and abs(d["free_bytes"] - v.f_bavail * v.f_frsize) <= d["size_bytes"] // 100
print(ok)
EOF
)
tap_is "status --json: free and total space of spool, report store and database, as statvfs says" "$got" True
got=$(json_get 'j["daemon"]["last_warning"]["message"]' < "$T/st.json")
tap_is "status --json: the last warning the daemon logged" "$got" "no archive configured: reports are kept, not sent"
out=$(rs status)
if grep -q "^daemon  *running, pid $DPID, radscribed $VERSION" <<<"$out" &&
   grep -q "^findings  *radscribe-cxr" <<<"$out" && grep -q "^spool  *$SPOOL " <<<"$out" &&
   grep -q "^oldest waiting  *none" <<<"$out"; then
    tap_ok "status: the daemon, its models, the disks and the queue for people"
else
    tap_fail "status: the daemon, its models, the disks and the queue for people" "$out"
fi

# 5-6: reload through the socket; a broken file is refused and changes nothing
cp "$CONF" "$T/ctl.conf.orig"
echo "allow = GOODAE" >> "$CONF"
out=$(rs reload 2>&1); a=$?
echoscu -aet BADAE -aec "$AE" "$HOST" "$PORT" > /dev/null 2>&1; b=$?
echoscu -aet GOODAE -aec "$AE" "$HOST" "$PORT" > /dev/null 2>&1; c=$?
tap_is "reload: exit 0, the new allow list applies at once (BADAE refused, GOODAE served)" \
    "$a/$([ $b != 0 ] && echo refused)/$c" "0/refused/0"
echo "beams = many" >> "$CONF"
out=$(rs reload 2>&1); a=$?
echoscu -aet GOODAE -aec "$AE" "$HOST" "$PORT" > /dev/null 2>&1; c=$?
if [ $a = 1 ] && grep -q "ctl.conf:[0-9]*: beams: not a number" <<<"$out" && [ $c = 0 ] && alive; then
    tap_ok "reload of a broken file: exit 1 with FILE:LINE, the running allow list is kept"
else
    tap_fail "reload of a broken file: exit 1 with FILE:LINE, the running allow list is kept" "rc=$a" "$out"
fi
cp "$T/ctl.conf.orig" "$CONF"

# 7: raw requests
w=$(ctl wake | json_get 'j["ok"]')
u=$(ctl bogus | json_get 'j["ok"], j["error"]')
g=$(ctl "$(head -c 5000 /dev/zero | tr '\0' x)" | json_get 'j["ok"]')
tap_is "control socket: wake ok; an unknown or over-long request gets an error reply" \
    "$w|$u|$g|$(alive && echo alive)" "True|(False, 'unknown request (status, wake or reload)')|False|alive"

# 8: a peer that is neither root nor the daemon's user
if [ "$(id -u)" = 0 ]; then
    D2=$(mktemp -d /tmp/rs-ctl.XXXXXX)
    chmod 755 "$D2"
    sed -i '/^control_socket/d' "$CONF"
    echo "control_socket = $D2/c.sock" >> "$CONF"
    stop_daemon
    start_daemon || tap_bail_rest "radscribed did not restart"
    chmod 666 "$D2/c.sock"	# an admin loosened the mode: credentials still count
    got=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '
import socket, json
s = socket.socket(socket.AF_UNIX); s.connect("'"$D2/c.sock"'"); s.sendall(b"status\n")
print(json.loads(s.makefile().read())["error"])')
    if [ "$got" = "permission denied" ] && grep -q "control: uid 65534 (pid [0-9]*) refused" "$DLOG"; then
        tap_ok "control socket: uid 65534 refused by its peer credentials, and logged"
    else
        tap_fail "control socket: uid 65534 refused by its peer credentials, and logged" "$got" "$(tail_log 5)"
    fi
    stop_daemon
    [ ! -e "$D2/c.sock" ] || tap_diag "socket left behind"
    rmdir "$D2"
    cp "$T/ctl.conf.orig" "$CONF"
    start_daemon || tap_bail_rest "radscribed did not restart"
else
    tap_fail "control socket: a peer other than root and the daemon's user is refused" "needs root to run a client as another user"
fi

# 9: a second daemon on the same spool stops before touching it
W=$T/second.conf
sed "s/^listen = .*/listen = $HOST:$(free_port)/" "$CONF" > "$W"
out=$("$RADSCRIBED" -d -f "$W" 2>&1); a=$?
if [ $a = 1 ] && grep -q "control socket $SOCK answers: another radscribed runs with this spool_dir" <<<"$out" &&
   [ "$(rs status --json | json_get 'j["daemon"]["pid"]')" = "$DPID" ]; then
    tap_ok "a second radscribed on the same spool exits 1; the first keeps its socket"
else
    tap_fail "a second radscribed on the same spool exits 1; the first keeps its socket" "rc=$a" "$out"
fi

# 10-11: stopped: the database part, with a known queue
stop_daemon
if [ ! -e "$SOCK" ]; then tap_ok "the socket is removed at a clean stop"; else tap_fail "the socket is removed at a clean stop"; fi
sql "INSERT INTO studies (study_uid, first_received_at, last_received_at, job_created_at)
       VALUES ('2.25.71', 1000, 1000, 1000), ('2.25.72', 2000, 2000, 2000),
              ('2.25.73', 500, 500, 500), ('2.25.74', 3000, 3000, 3000);
     INSERT INTO jobs (study_id, stage, state, attempts, last_error, created_at, updated_at)
       SELECT id, 'infer', CASE study_uid WHEN '2.25.71' THEN 'DEFERRED' WHEN '2.25.72' THEN 'INCOMING'
           WHEN '2.25.73' THEN 'DONE' ELSE 'FAILED' END,
         1, CASE study_uid WHEN '2.25.71' THEN 'database is locked'
           WHEN '2.25.74' THEN 'unreadable pixels' END,
         first_received_at, CASE study_uid WHEN '2.25.74' THEN 9000 ELSE 4000 END
       FROM studies WHERE study_uid LIKE '2.25.7_';"
got=$(status_json | json_get '(j["daemon"]["running"], "control.sock" in j["daemon"]["error"], j["oldest_waiting"]["study_uid"], j["oldest_waiting"]["state"], j["last_job_error"]["study_uid"], j["last_job_error"]["error"])')
tap_is "status --json, daemon stopped: not running, why; oldest waiting and newest error from the database" \
    "$got" "(False, True, '2.25.71', 'DEFERRED', '2.25.74', 'unreadable pixels')"
sql "DELETE FROM jobs; DELETE FROM studies;"

# 12: kill -9 leaves the socket; the next start replaces it
start_daemon || tap_bail_rest "radscribed did not start"
kill9_daemon
if [ -S "$SOCK" ] && start_daemon && [ "$(status_json | json_get 'j["daemon"]["pid"]')" = "$DPID" ]; then
    tap_ok "a socket left by kill -9 is replaced at the next start"
else
    tap_fail "a socket left by kill -9 is replaced at the next start" "$(tail_log 5)"
fi
stop_daemon

# 13-14: start-up refusals
echo "not a socket" > "$T/plain"
echo "control_socket = $T/plain" >> "$CONF"
out=$("$RADSCRIBED" -d -f "$CONF" 2>&1); a=$?
if [ $a = 1 ] && grep -q "control socket $T/plain: exists and is not a socket" <<<"$out" &&
   [ "$(cat "$T/plain")" = "not a socket" ]; then
    tap_ok "control_socket naming a plain file: start-up refused, the file untouched"
else
    tap_fail "control_socket naming a plain file: start-up refused, the file untouched" "rc=$a" "$out"
fi
cp "$T/ctl.conf.orig" "$CONF"
echo "control_socket = /tmp/$(printf 'x%.0s' $(seq 120)).sock" >> "$CONF"
out=$("$RADSCRIBED" -n -f "$CONF" 2>&1); a=$?
if [ $a = 1 ] && grep -q "longer than 107 bytes; set control_socket to a shorter path" <<<"$out"; then
    tap_ok "a control_socket path too long for a UNIX socket: refused by radscribed -n"
else
    tap_fail "a control_socket path too long for a UNIX socket: refused by radscribed -n" "rc=$a" "$out"
fi
tap_done
