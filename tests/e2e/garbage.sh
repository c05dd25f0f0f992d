#!/bin/bash
# Garbage and malformed PDUs on the port: the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

tap_plan 13
need "$RADSCRIBED" storescu echoscu sqlite3
need_pydicom

write_conf garbage "max_pdu = 16384" "acse_timeout = 3"
start_daemon || tap_bail_rest "radscribed did not start"
pid0=$DPID

served() { alive && echo_ok >/dev/null 2>&1; }

# 1: random bytes
SEED=1 $DUL garbage "$HOST" "$PORT" 4096 > "$T/g1.log" 2>&1
tap_check "4 KiB of random bytes, then C-ECHO works" served

# 2: a megabyte of random bytes, 5 connections at once
gp=
for s in 2 3 4 5 6; do
    SEED=$s $DUL garbage "$HOST" "$PORT" 1048576 > "$T/g$s.log" 2>&1 &
    gp="$gp $!"
done
for p in $gp; do wait "$p"; done
tap_check "5 parallel connections with 1 MiB of random bytes each, then C-ECHO works" served

# 3: HTTP request, TLS ClientHello-ish bytes
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/http.bin"
printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' > "$T/tls.bin"
head -c 400 /dev/zero >> "$T/tls.bin"
"$PY" - "$HOST" "$PORT" "$T/http.bin" "$T/tls.bin" <<'EOF'
import socket, sys
for f in sys.argv[3:]:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    s.sendall(open(f, "rb").read())
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
EOF
tap_check "an HTTP request and a TLS hello, then C-ECHO works" served

# 4: A-ASSOCIATE-RQ with length 0xFFFFFFF0
$DUL hugepdu "$HOST" "$PORT" > "$T/huge.log" 2>&1
tap_check "A-ASSOCIATE-RQ announcing a 4 GiB PDU, then C-ECHO works" served

# 5: malformed A-ASSOCIATE-RQ variants (bad item lengths, short PDU,
# unknown PDU type, empty presentation context, P-DATA before association)
$DUL badrq "$HOST" "$PORT" > "$T/badrq.log" 2>&1
tap_check "malformed A-ASSOCIATE-RQ PDUs, then C-ECHO works" served

# 6-7: P-DATA-TF longer than the max PDU the daemon announced
out=$($DUL bigpdata "$HOST" "$PORT" "$AE" BIGPDATA 2>&1)
rc=$?
case $out in
    *"peer max PDU 16384"*) tap_ok "the daemon announces max_pdu = 16384 in its A-ASSOCIATE-AC" ;;
    *) tap_fail "the daemon announces max_pdu = 16384 in its A-ASSOCIATE-AC" "$out" ;;
esac
if [ $rc -eq 0 ] && grep -qE 'peer answered PDU type 0x07|peer closed' <<<"$out" && served; then
    tap_ok "P-DATA PDU 4x longer than max_pdu: association aborted, daemon keeps serving"
else
    tap_fail "P-DATA PDU 4x longer than max_pdu: association aborted, daemon keeps serving" "$out"
fi

# 8: a connection that sends nothing is dropped after acse_timeout (3 s)
out=$($DUL idle "$HOST" "$PORT" 12 2>&1)
t=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' <<<"$out")
if [ -n "$t" ] && "$PY" -c "import sys; sys.exit(0 if 2.0 <= float('$t') <= 9.0 else 1)"; then
    tap_ok "idle connection closed by the daemon after about acse_timeout ($t s)"
else
    tap_fail "idle connection closed by the daemon after about acse_timeout" "$out"
fi

# 9: 40 connections opened and dropped at once (no data)
"$PY" - "$HOST" "$PORT" <<'EOF'
import socket, sys
socks = []
for _ in range(40):
    try:
        socks.append(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5))
    except OSError:
        pass
for s in socks:
    s.close()
EOF
tap_check "40 connections opened and closed without data, then C-ECHO works" wait_until 10 served

# 10: A-ASSOCIATE-RQ then an immediate reset (the daemon's A-ASSOCIATE-AC
# or -RJ goes to a dead socket: EPIPE/ECONNRESET, never a fatal SIGPIPE)
"$PY" - "$HOST" "$PORT" "$AE" "$E2E_DIR" <<'EOF'
import socket, struct, sys, time
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[4])
from dulclient import assoc_rq, VERIFICATION, IMPLICIT_LE
host, port, ae = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(20):
    called = ae if i % 2 == 0 else "WRONGAE"
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(assoc_rq(called, "RESETTER", [(1, VERIFICATION, [IMPLICIT_LE])]))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
time.sleep(0.5)
EOF
tap_check "20 A-ASSOCIATE-RQs reset right after sending, then C-ECHO works" wait_until 10 served

# 11: a real store still works after all this
mkimages "$T/img" 1 > /dev/null
storescu -v -aec "$AE" "$HOST" "$PORT" "$T/img/img0000.dcm" > "$T/store.log" 2>&1
rc=$?
u=$(sop_uid "$T/img/img0000.dcm")
if [ $rc -eq 0 ] && [ "$(acked_files "$T/store.log" | wc -l)" = 1 ] &&
   [ "$(sql "SELECT count(*) FROM instances WHERE sop_instance_uid='$u';")" = 1 ]; then
    tap_ok "a C-STORE after the garbage succeeds and is indexed"
else
    tap_fail "a C-STORE after the garbage succeeds and is indexed" "$(tail -n 5 "$T/store.log")"
fi

# 12-13: same process all along, clean SIGTERM
tap_is "the daemon is the same process as at start" "$DPID" "$pid0"
stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0

tap_done
