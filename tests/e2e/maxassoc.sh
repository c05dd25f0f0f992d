#!/bin/bash
# max_associations = 2: two open associations, the third is rejected
# transient with local-limit-exceeded; a freed slot is usable again.
. "$(dirname "$0")/lib.sh"

tap_plan 8
need "$RADSCRIBED" echoscu

write_conf maxassoc "max_associations = 2" "acse_timeout = 30" "dimse_timeout = 60"
start_daemon || tap_bail_rest "radscribed did not start"
sleep 0.5   # let the start-up C-ECHO association finish on the daemon side

# two raw clients that associate (Verification) and then just wait
$DUL hold "$HOST" "$PORT" "$AE" HOLDER1 60 "$T/ready1" > "$T/h1.log" 2>&1 &
H1=$!
$DUL hold "$HOST" "$PORT" "$AE" HOLDER2 60 "$T/ready2" > "$T/h2.log" 2>&1 &
H2=$!
wait_until 10 test -e "$T/ready1" -a -e "$T/ready2"
if [ "$(cat "$T/h1.log")" = accepted ] && [ "$(cat "$T/h2.log")" = accepted ]; then
    tap_ok "two associations accepted and held open"
else
    tap_fail "two associations accepted and held open" "1: $(cat "$T/h1.log")" "2: $(cat "$T/h2.log")"
fi

out=$(echoscu -to 5 -ta 5 -aec "$AE" "$HOST" "$PORT" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qi 'Rejected Transient' <<<"$out" &&
   grep -qi 'Service Provider (Presentation' <<<"$out" &&
   grep -qi 'Local Limit Exceeded' <<<"$out"; then
    tap_ok "third association (echoscu): rejected-transient, service-provider (presentation), local-limit-exceeded"
else
    tap_fail "third association (echoscu): rejected-transient, service-provider (presentation), local-limit-exceeded" \
        "exit $rc" "$out"
fi

# the same through the raw client: result 2, source 3, reason 2
r=$($DUL hold "$HOST" "$PORT" "$AE" HOLDER3 1 2>&1)
tap_is "third association (raw): A-ASSOCIATE-RJ result 2 source 3 reason 2" "$r" "rejected 2 3 2"

# drop holder 1 without a release (TCP close): the slot comes back
kill "$H1" 2>/dev/null
wait "$H1" 2>/dev/null
tap_check "after one holder went away, C-ECHO is accepted again" wait_until 10 echo_ok

# with one holder left, one more association fits but not two
$DUL hold "$HOST" "$PORT" "$AE" HOLDER4 60 "$T/ready4" > "$T/h4.log" 2>&1 &
H4=$!
wait_until 10 test -e "$T/ready4"
r=$($DUL hold "$HOST" "$PORT" "$AE" HOLDER5 1 2>&1)
if [ "$(cat "$T/h4.log")" = accepted ] && [ "$r" = "rejected 2 3 2" ]; then
    tap_ok "slot reused: a new holder fits, the next one is rejected again"
else
    tap_fail "slot reused: a new holder fits, the next one is rejected again" "h4: $(cat "$T/h4.log")" "h5: $r"
fi

kill "$H2" "$H4" 2>/dev/null
wait "$H2" "$H4" 2>/dev/null
tap_check "all holders gone: C-ECHO works" wait_until 10 echo_ok

# released associations free their slot: many one after the other all work
n=0
for i in 1 2 3 4 5 6; do
    echo_ok >/dev/null 2>&1 && n=$((n + 1))
    sleep 0.3
done
tap_is "6 sequential C-ECHO associations (max_associations = 2) all accepted" "$n" 6
stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0

tap_done
