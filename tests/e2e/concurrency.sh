#!/bin/bash
# 20 storescu processes at once, 10 distinct images each (one study per
# process): all 200 stored, indexed, readable; 20 infer jobs.
. "$(dirname "$0")/lib.sh"

NPROC=20
PER=10
TOTAL=$((NPROC * PER))
tap_plan 7
need "$RADSCRIBED" "$RADSCRIBE" storescu echoscu dcmdump sqlite3
need_pydicom

mkimages "$T/img" "$TOTAL" --per-study "$PER" --size 64 > /dev/null ||
    tap_bail_rest "fixture generation failed"
write_conf conc "max_associations = 24"
start_daemon || tap_bail_rest "radscribed did not start"

pids=
for k in $(seq 0 $((NPROC - 1))); do
    files=
    for i in $(seq 0 $((PER - 1))); do
        files="$files $(printf '%s/img/img%04d.dcm' "$T" $((k * PER + i)))"
    done
    storescu -v -aet "CONC$k" -aec "$AE" "$HOST" "$PORT" $files > "$T/s$k.log" 2>&1 &
    pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
acked=$(cat "$T"/s*.log | grep -c 'Received Store Response (Success)')
if [ "$fails" = 0 ] && [ "$acked" = "$TOTAL" ]; then
    tap_ok "$NPROC concurrent storescu processes all exit 0, $TOTAL Success responses"
else
    tap_fail "$NPROC concurrent storescu processes all exit 0, $TOTAL Success responses" \
        "failed processes: $fails, Success responses: $acked" \
        "$(grep -h -E '^[EF]:' "$T"/s*.log | sort | uniq -c | head -n 5)"
fi

n=$(sql "SELECT count(*) FROM instances;")
ns=$(sql "SELECT count(*) FROM studies;")
tap_is "database: $TOTAL instances in $NPROC studies" "$n $ns" "$TOTAL $NPROC"

# every sent SOP Instance UID has a row, with the right calling AE and study
"$PY" - "$T/img" > "$T/expected.txt" <<'EOF'
import glob, os, sys
import pydicom
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.dcm"))):
    ds = pydicom.dcmread(f, stop_before_pixels=True)
    k = int(os.path.basename(f)[3:7]) // 10
    print("%s|%s|CONC%d" % (ds.SOPInstanceUID, ds.StudyInstanceUID, k))
EOF
sql "SELECT i.sop_instance_uid || '|' || s.study_uid || '|' || i.calling_ae
     FROM instances i JOIN studies s ON s.id = i.study_id ORDER BY 1;" > "$T/got.txt"
sort "$T/expected.txt" > "$T/expected.sorted"
if cmp -s "$T/expected.sorted" "$T/got.txt"; then
    tap_ok "each instance row has the sent SOP Instance UID, its study and the sender's calling AE"
else
    tap_fail "each instance row has the sent SOP Instance UID, its study and the sender's calling AE" \
        "$(diff "$T/expected.sorted" "$T/got.txt" | head -n 6)"
fi

# every stored file exists, is readable and holds the data set that was sent
bad=0
for f in "$T"/img/*.dcm; do
    p=$(instance_path "$(sop_uid "$f")") && same_dataset "$f" "$p" >/dev/null 2>&1 || bad=$((bad + 1))
done
tap_is "all $TOTAL stored files hold the data sets that were sent" "$bad" 0

tmpleft=$(find "$SPOOL/tmp" -type f 2>/dev/null | wc -l)
tap_is "no partial files left in spool tmp/" "$tmpleft" 0

sleep 1
wait_until 20 at_least "$NPROC" infer_jobs
sleep 1.5
nj=$(sql "SELECT count(*) FROM jobs WHERE stage='infer';")
per=$(sql "SELECT count(DISTINCT study_id) FROM jobs WHERE stage='infer';")
tap_is "after settle_time: $NPROC infer jobs, one per study" "$nj $per" "$NPROC $NPROC"

stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0
tap_done
