#!/bin/bash
# kill -9 of the daemon while storescu sends 100 images, then restart:
# every instance that storescu saw acknowledged (Success) is indexed and its
# file readable and unchanged.  Three rounds, killed at different points.
. "$(dirname "$0")/lib.sh"

N=100
# round:acks-before-kill:extra-delay (s).  A 100-image batch takes about a
# second on loopback (less on a quiet machine), so the kill points are set
# by progress, not by time, and leave a margin for the 10 ms polling.
ROUNDS="1:3:0 2:35:0.01 3:60:0"
tap_plan $((3 * 5 + 2))
need "$RADSCRIBED" "$RADSCRIBE" storescu echoscu dcmdump sqlite3
need_pydicom

write_conf kill9 "shutdown_timeout = 5"
start_daemon || tap_bail_rest "radscribed did not start"

total=0
for r in $ROUNDS; do
    IFS=: read -r round k delay <<<"$r"
    d=$T/round$round
    mkimages "$d" "$N" --per-study "$N" --size 384 --prefix "r${round}_" > /dev/null ||
        tap_bail_rest "fixture generation failed"
    storescu -v -aec "$AE" "$HOST" "$PORT" "$d"/*.dcm > "$d/send.log" 2>&1 &
    S=$!
    # poll the storescu log every 10 ms (grep is cheap enough); the log
    # may not exist yet on a loaded machine: that counts as 0, and must not
    # end the wait (it once did, killing the daemon before storescu began)
    i=0
    acks() { local n; n=$(grep -c 'Received Store Response (Success)' "$d/send.log" 2>/dev/null); echo "${n:-0}"; }
    while [ $i -lt 3000 ] && [ "$(acks)" -lt "$k" ]; do
        sleep 0.01
        i=$((i + 1))
    done
    sleep "$delay"
    kill9_daemon
    wait "$S"
    src=$?
    acked=$(acked_files "$d/send.log" | wc -l)
    if [ "$acked" -ge "$k" ] && [ "$acked" -lt "$N" ] && [ "$src" -ne 0 ] && start_daemon; then
        tap_ok "round $round: killed -9 after $acked of $N acknowledged; storescu failed; restart OK"
    else
        tap_fail "round $round: killed -9 mid-transfer, storescu failed, restart OK" \
            "acknowledged $acked (wanted $k..$((N - 1))), storescu exit $src" "$(tail -n 5 "$d/send.log")"
        # never send to a daemon that is not listening yet
        { alive && wait_ready; } || start_daemon || tap_bail_rest "radscribed did not restart"
    fi

    bad=
    for f in $(acked_files "$d/send.log"); do
        u=$(sop_uid "$f")
        p=$(instance_path "$u") || { bad="$bad $(basename "$f"):no-row"; continue; }
        dcmdump -q "$p" >/dev/null 2>&1 || { bad="$bad $(basename "$f"):unreadable"; continue; }
        same_dataset "$f" "$p" >/dev/null 2>&1 || bad="$bad $(basename "$f"):differs"
    done
    if [ -z "$bad" ]; then
        tap_ok "round $round: all $acked acknowledged instances indexed, files readable and unchanged"
    else
        tap_fail "round $round: all $acked acknowledged instances indexed, files readable and unchanged" \
            "problems:$(echo "$bad" | cut -c1-400)"
    fi

    orphans=0
    while IFS='|' read -r u p; do
        case $p in /*) ;; *) p=$SPOOL/$p ;; esac
        dcmdump -q "$p" >/dev/null 2>&1 || orphans=$((orphans + 1))
    done < <(sql "SELECT sop_instance_uid, path FROM instances;")
    integ=$(sql "PRAGMA integrity_check;")
    if [ "$orphans" = 0 ] && [ "$integ" = ok ]; then
        tap_ok "round $round: every instance row has a readable file; SQLite integrity_check ok"
    else
        tap_fail "round $round: every instance row has a readable file; SQLite integrity_check ok" \
            "rows without a readable file: $orphans" "integrity_check: $integ"
    fi
    left=$(find "$SPOOL/tmp" -type f 2>/dev/null | wc -l)
    tap_diag "round $round: $left partial file(s) in spool tmp/ after restart"

    # the sender retries the whole batch: everything goes in, once
    storescu -v -aec "$AE" "$HOST" "$PORT" "$d"/*.dcm > "$d/resend.log" 2>&1
    rc=$?
    n=$(acked_files "$d/resend.log" | wc -l)
    tap_is "round $round: resending all $N after restart: storescu exit 0, $N Success" "$rc $n" "0 $N"
    total=$((total + N))
    got=$(sql "SELECT count(*) FROM instances;")
    dups=$(sql "SELECT count(*) FROM (SELECT sop_instance_uid FROM instances GROUP BY 1 HAVING count(*) > 1);")
    tap_is "round $round: database holds $total instances, no duplicates" "$got $dups" "$total 0"
done

sleep 1
wait_until 15 at_least 3 infer_jobs
nj=$(sql "SELECT count(*) FROM jobs WHERE stage='infer';")
tap_is "the 3 studies settle into 3 infer jobs" "$nj" 3
stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0
tap_done
