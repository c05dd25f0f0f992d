#!/bin/bash
# Start-up recovery: ACTIVE jobs go back to INCOMING (attempts kept), stray
# partial files in spool/tmp are removed, a spool file with no database row
# (a crash between rename and commit) is indexed, and an unreadable one is
# reported in the events table and left in place.
. "$(dirname "$0")/lib.sh"

tap_plan 8
need "$RADSCRIBED" "$RADSCRIBE" storescu echoscu dcmdump sqlite3
need_pydicom

write_conf recovery
mkimages "$T/img" 3 --size 128 > /dev/null
set -- "$T"/img/*.dcm
sent1=$1 sent2=$2 orphan=$3
start_daemon || tap_bail_rest "radscribed did not start"
storescu -aec "$AE" "$HOST" "$PORT" "$sent1" "$sent2" > "$T/send.log" 2>&1
job_made() { [ "$(infer_jobs)" -ge 1 ]; }
wait_until 10 job_made || tap_bail_rest "no infer job after settle_time"
stop_daemon 10

# What a crash would leave behind.
sql "UPDATE jobs SET state = 'ACTIVE', attempts = 2;"
echo partial > "$SPOOL/tmp/4242.7.part"
ouid=$(sop_uid "$orphan")
cp "$orphan" "$SPOOL/objects/00/$ouid.dcm"
head -c 4000 /dev/urandom > "$SPOOL/objects/01/1.2.3.4.5.dcm"

start_daemon || tap_bail_rest "radscribed did not restart"

left=$(find "$SPOOL/tmp" -type f | wc -l)
tap_is "stray partial files in spool/tmp are removed" "$left" 0
# The worker claims it again at once: attempts go on from 2, and it ends.
finished() { sql "SELECT state FROM jobs WHERE stage = 'infer';" | grep -qE '^(DONE|FAILED)$'; }
wait_until 60 finished
if grep -q "recovery: 1 ACTIVE jobs back to INCOMING" "$DLOG" &&
   [ "$(sql "SELECT attempts FROM jobs WHERE stage = 'infer';")" = 3 ] && finished; then
    tap_ok "the ACTIVE job is back to INCOMING, claimed again (attempt 3) and finished"
else
    tap_fail "the ACTIVE job is back to INCOMING, claimed again (attempt 3) and finished" \
        "$(sql "SELECT state || '/' || attempts || '/' || coalesce(last_error, '') FROM jobs;")"
fi
tap_is "the orphan spool file is indexed at its path" \
    "$(sql "SELECT path FROM instances WHERE sop_instance_uid = '$ouid';")" \
    "$SPOOL/objects/00/$ouid.dcm"
tap_is "its study is recorded" \
    "$(sql "SELECT count(*) FROM studies s JOIN instances i ON i.study_id = s.id
            WHERE i.sop_instance_uid = '$ouid' AND s.study_uid = '$(study_uid "$orphan")';")" 1
tap_is "the unreadable spool file is reported in events" \
    "$(sql "SELECT count(*) FROM events WHERE kind = 'spool-unreadable'
            AND detail = '$SPOOL/objects/01/1.2.3.4.5.dcm';")" 1
if [ -f "$SPOOL/objects/01/1.2.3.4.5.dcm" ]; then
    tap_ok "the unreadable file is left in place for the admin"
else
    tap_fail "the unreadable file is left in place for the admin"
fi
tap_is "instances after recovery: the 2 sent and the orphan" \
    "$(sql "SELECT count(*) FROM instances;")" 3

# A second start finds nothing more to index.
stop_daemon 10
start_daemon || tap_bail_rest "radscribed did not restart a second time"
tap_is "a second start adds no rows" "$(sql "SELECT count(*) FROM instances;")" 3
stop_daemon 10
tap_done
