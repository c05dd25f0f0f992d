#!/bin/bash
# SIGTERM exits 0 (idle, and while a sender is mid-study, keeping every
# acknowledged instance); SIGHUP reloads the allow-list; data survive a
# restart.
. "$(dirname "$0")/lib.sh"

tap_plan 12
need "$RADSCRIBED" "$RADSCRIBE" storescu echoscu dcmdump sqlite3
need_pydicom

write_conf signals "allow = ECHOSCU" "allow = STORESCU" "shutdown_timeout = 10"
# An admin's OPENBLAS_CORETYPE is kept (no re-exec); the log names the kernels.
OPENBLAS_CORETYPE=Prescott start_daemon || tap_bail_rest "radscribed did not start"
if grep -q "OpenBLAS kernels: Prescott$" "$DLOG"; then
    tap_ok "admin-set OPENBLAS_CORETYPE is respected and logged"
else
    tap_fail "admin-set OPENBLAS_CORETYPE is respected and logged" "$(grep OpenBLAS "$DLOG")"
fi
stop_daemon 15 >/dev/null
start_daemon || tap_bail_rest "radscribed did not start"
k=$(sed -n 's/.*OpenBLAS kernels: \([A-Za-z0-9]*\).*/\1/p' "$DLOG" | tail -n 1)
case $k in
Prescott|Core2|Penryn|Nehalem|Atom|Sandybridge|Barcelona|Unknown|"")
    if grep -q avx2 /proc/cpuinfo; then
        tap_fail "start-up logs vector kernels on an AVX2 CPU" "kernels: '$k'"
    else
        tap_ok "start-up logs the OpenBLAS kernels ($k; CPU without AVX2)"
    fi ;;
*)  tap_ok "start-up logs vector OpenBLAS kernels ($k)" ;;
esac

# 1-2: idle SIGTERM
stop_daemon 15
tap_is "idle SIGTERM: radscribed exits 0" "$?" 0
if echoscu -to 2 -aec "$AE" "$HOST" "$PORT" >/dev/null 2>&1; then
    tap_fail "after exit the port is closed"
else
    tap_ok "after exit the port is closed"
fi

# 3-5: SIGTERM while storescu sends 60 images
mkimages "$T/img" 60 --size 256 > /dev/null
start_daemon || tap_bail_rest "radscribed did not restart"
storescu -v -aec "$AE" "$HOST" "$PORT" "$T"/img/*.dcm > "$T/send.log" 2>&1 &
S=$!
i=0
while [ $i -lt 2000 ] &&
      [ "$(grep -c 'Received Store Response (Success)' "$T/send.log" 2>/dev/null)" -lt 5 ]; do
    sleep 0.01
    i=$((i + 1))
done
at=$(grep -c 'Received Store Response (Success)' "$T/send.log")
t0=$(date +%s)
stop_daemon 30
rc=$?
t1=$(date +%s)
wait "$S"
src=$?
n=$(acked_files "$T/send.log" | wc -l)
# the in-flight association is allowed to finish (60 small images take
# about a second, far less than shutdown_timeout)
if [ $rc -eq 0 ] && [ $((t1 - t0)) -le 15 ] && [ $src -eq 0 ] && [ "$n" = 60 ]; then
    tap_ok "SIGTERM after $at of 60 acknowledged: the association finishes (60/60, storescu exit 0), daemon exits 0 in $((t1 - t0)) s"
else
    tap_fail "SIGTERM during a transfer: the association finishes, daemon exits 0 within shutdown_timeout" \
        "SIGTERM after $at acknowledged; daemon exit $rc after $((t1 - t0)) s; storescu exit $src, $n of 60 acknowledged" \
        "$(tail -n 4 "$T/send.log")"
fi
missing=0
for f in $(acked_files "$T/send.log"); do
    u=$(sop_uid "$f")
    p=$(instance_path "$u") && dcmdump -q "$p" >/dev/null 2>&1 || missing=$((missing + 1))
done
if [ "$n" -ge 5 ] && [ "$missing" = 0 ]; then
    tap_ok "all $n acknowledged instances are indexed and readable after the SIGTERM"
else
    tap_fail "all acknowledged instances are indexed and readable after the SIGTERM" \
        "acknowledged $n, missing or unreadable $missing"
fi
orphans=0
while IFS='|' read -r u p; do
    case $p in /*) ;; *) p=$SPOOL/$p ;; esac
    [ -f "$p" ] || orphans=$((orphans + 1))
done < <(sql "SELECT sop_instance_uid, path FROM instances;")
tap_is "no instance row without its file" "$orphans" 0

# 6: restart: the data are still there
before=$(sql "SELECT count(*) FROM instances;")
start_daemon || tap_bail_rest "radscribed did not restart"
got=$(status_json 2>&1 | json_get 'j["instances"]' 2>&1)
tap_is "restart: status --json still reports the $before stored instances" "$got" "$before"

# 7-9: SIGHUP reloads the allow-list
out=$(echoscu -to 5 -aet NEWCOMER -aec "$AE" "$HOST" "$PORT" 2>&1)
if [ $? -ne 0 ] && grep -qi 'Calling AE Title Not Recognized' <<<"$out"; then
    tap_ok "before SIGHUP: NEWCOMER is not allowed"
else
    tap_fail "before SIGHUP: NEWCOMER is not allowed" "$out"
fi
echo "allow = NEWCOMER" >> "$CONF"
sed -i 's/^allow = ECHOSCU$/# removed: allow = ECHOSCU/' "$CONF"
pid=$DPID
kill -HUP "$DPID"
if wait_until 5 echoscu -to 5 -aet NEWCOMER -aec "$AE" "$HOST" "$PORT"; then
    tap_ok "after SIGHUP: NEWCOMER is allowed"
else
    tap_fail "after SIGHUP: NEWCOMER is allowed" "$(echoscu -to 5 -aet NEWCOMER -aec "$AE" "$HOST" "$PORT" 2>&1)"
fi
out=$(echoscu -to 5 -aet ECHOSCU -aec "$AE" "$HOST" "$PORT" 2>&1)
if [ $? -ne 0 ] && grep -qi 'Calling AE Title Not Recognized' <<<"$out" && [ "$DPID" = "$pid" ] && alive; then
    tap_ok "after SIGHUP: ECHOSCU (removed) is rejected; same process"
else
    tap_fail "after SIGHUP: ECHOSCU (removed) is rejected; same process" "$out"
fi

stop_daemon 15
tap_is "final SIGTERM: radscribed exits 0" "$?" 0
tap_done
