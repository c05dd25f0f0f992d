#!/bin/bash
# From study to report in the archive: radscribed with the default model (no
# model keys in its configuration) and a real Orthanc as the archive.  A
# two-view study becomes an SR in Orthanc whose text is the default model's;
# Orthanc down defers delivery, and once it is up exactly one copy arrives;
# kill -9 during a draft; a late instance makes a new draft naming the old;
# non-chest and unreadable studies end FAILED with a reason while the daemon
# keeps serving.
. "$(dirname "$0")/lib.sh"

tap_plan 17
need "$RADSCRIBED" "$RADSCRIBE" "$ORTHANC" storescu echoscu dcmdump dsrdump dciodvfy sqlite3
need_pydicom
M=$top_srcdir/models
[ -f "$M/radscribe-cxr.gguf" ] && [ -f "$M/mmproj-radscribe-cxr.gguf" ] ||
    tap_bail_rest "the default model is not in $M"

start_orthanc pacs || tap_bail_rest "Orthanc did not start"
write_conf pipeline "settle_time = 1" "send_retry_min = 1" "send_retry_max = 2" \
    "archive = pacs $(orthanc_aet pacs) 127.0.0.1 $(orthanc_port pacs)"
start_daemon || tap_bail_rest "radscribed did not start"

# sr_of STUDY_UID: SOP Instance UIDs of the SRs Orthanc holds in that study
sr_of() {
    orthanc_rest pacs /tools/find "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\",\"Modality\":\"SR\"},\"Expand\":true}" |
        "$PY" -c 'import json,sys; [print(i["MainDicomTags"]["SOPInstanceUID"]) for i in json.load(sys.stdin)]'
}
n_sr() { sr_of "$1" | wc -l; }
job_state() {
    sql "SELECT j.state FROM jobs j JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = '$2';"
}
state_is() { [ "$(job_state "$1" "$2")" = "$3" ]; }

# 1-5: a two-view study
mkstudy "$T/s1" > /dev/null
U1=$(study_uid "$T/s1/frontal.dcm")
t0=$(date +%s)
storescu -aec "$AE" "$HOST" "$PORT" "$T/s1/frontal.dcm" "$T/s1/lateral.dcm" > "$T/s1.log" 2>&1
if wait_until 120 at_least 1 n_sr "$U1"; then
    tap_ok "a two-view study becomes an SR in the archive's study ($(( $(date +%s) - t0 )) s)"
else
    tap_fail "a two-view study becomes an SR in the archive's study" "$(tail_log 15)"
fi
sop=$(sr_of "$U1" | head -n 1)
orthanc_file pacs "$sop" "$T/sr1.dcm"
out=$(dciodvfy "$T/sr1.dcm" 2>&1)
if [ -s "$T/sr1.dcm" ] && ! grep -q '^Error' <<<"$out"; then
    tap_ok "dciodvfy: no error on the SR the archive holds"
else
    tap_fail "dciodvfy: no error on the SR the archive holds" "$(grep '^Error' <<<"$out" | head -5)"
fi
# The same views through `radscribe infer` with the same model and prompts.
want_f=$("$RADSCRIBE" infer --model "$M/radscribe-cxr.gguf" --mmproj "$M/mmproj-radscribe-cxr.gguf" \
    --prompt "Write the findings." --max-tokens 128 "$T/s1/frontal.dcm" "$T/s1/lateral.dcm" 2>/dev/null)
want_i=$("$RADSCRIBE" infer --model "$M/radscribe-cxr.gguf" --mmproj "$M/mmproj-radscribe-cxr.gguf" \
    --prompt "Write the impression." --max-tokens 64 "$T/s1/frontal.dcm" "$T/s1/lateral.dcm" 2>/dev/null)
{ read -r got_f; read -r got_i; } < <("$PY" - "$T/sr1.dcm" <<'PYEOF'
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
found = {}
def walk(items):
    for it in items:
        if it.ValueType == "TEXT":
            found.setdefault(it.ConceptNameCodeSequence[0].CodeMeaning, it.TextValue)
        if "ContentSequence" in it:
            walk(it.ContentSequence)
walk(ds.ContentSequence)
print(json.dumps(found.get("Finding", "")))
print(json.dumps(found.get("Impression", "")))
PYEOF
)
tap_is "the SR's Finding is the default model's text for these views" "$got_f" \
    "$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$want_f")"
tap_is "the SR's Impression is the default model's text for these views" "$got_i" \
    "$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$want_i")"
flags=$(dcm_attr "$T/sr1.dcm" PreliminaryFlag)/$(dcm_attr "$T/sr1.dcm" VerificationFlag)/$(dcm_attr "$T/sr1.dcm" CompletionFlag)/$(dcm_attr "$T/sr1.dcm" StudyInstanceUID)
tap_is "PRELIMINARY, UNVERIFIED, COMPLETE, in the source study" "$flags" "PRELIMINARY/UNVERIFIED/COMPLETE/$U1"
send_done=$(status_json | json_get 'sum(r["count"] for r in j["jobs"] if r["stage"] == "send" and r["state"] == "DONE")')
tap_is "status --json counts the delivery under stage send, DONE" "$send_done" 1

# 6-7: the archive is down when the report is ready
stop_orthanc pacs
mkstudy "$T/s2" > /dev/null
U2=$(study_uid "$T/s2/frontal.dcm")
storescu -aec "$AE" "$HOST" "$PORT" "$T/s2"/*.dcm > "$T/s2.log" 2>&1
if wait_until 120 state_is "$U2" send DEFERRED; then
    tap_ok "archive down: the delivery is DEFERRED ($(sql "SELECT last_error FROM jobs WHERE stage='send' AND state='DEFERRED' LIMIT 1;"))"
else
    tap_fail "archive down: the delivery is DEFERRED" "send job: $(job_state "$U2" send)"
fi
start_orthanc pacs || tap_bail_rest "Orthanc did not restart"
if wait_until 60 state_is "$U2" send DONE && [ "$(n_sr "$U2")" = 1 ] &&
   [ "$(orthanc_received pacs "$(sr_of "$U2")")" = 1 ]; then
    tap_ok "archive back: delivered, exactly one copy received"
else
    tap_fail "archive back: delivered, exactly one copy received" \
        "send: $(job_state "$U2" send), SRs: $(n_sr "$U2")"
fi

# 8-9: kill -9 while a study is being drafted, then restart
mkstudy "$T/s3" > /dev/null
U3=$(study_uid "$T/s3/frontal.dcm")
storescu -aec "$AE" "$HOST" "$PORT" "$T/s3"/*.dcm > "$T/s3.log" 2>&1
wait_until 30 grep -q "study=$U3: drafting" "$DLOG"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
before=$(sql "SELECT count(*) FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = '$U3';")
start_daemon || tap_bail_rest "radscribed did not restart after kill -9"
if wait_until 120 state_is "$U3" send DONE; then
    tap_ok "kill -9 during the draft ($before report(s) then): drafted and delivered after restart"
else
    tap_fail "kill -9 during the draft: drafted and delivered after restart" \
        "infer: $(job_state "$U3" infer), send: $(job_state "$U3" send)"
fi
tap_is "... exactly once: one report, one copy in the archive" \
    "$(sql "SELECT count(*) FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = '$U3';")/$(n_sr "$U3")" "1/1"

# 10-11: a late instance: a new draft that names the first one
late_instance "$T/s1/frontal.dcm" "$T/late.dcm"
storescu -aec "$AE" "$HOST" "$PORT" "$T/late.dcm" > "$T/late.log" 2>&1
if wait_until 120 at_least 2 n_sr "$U1"; then
    tap_ok "a late instance: a second SR in the archive"
else
    tap_fail "a late instance: a second SR in the archive" "$(tail_log 10)"
fi
new=$(sr_of "$U1" | grep -vxF "$sop" | head -n 1)
orthanc_file pacs "$new" "$T/sr2.dcm"
pred=$("$PY" -c '
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
print(ds.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID)' "$T/sr2.dcm" 2>&1)
tap_is "the new SR names the first in its Predecessor Documents Sequence" "$pred" "$sop"

# 12-13: a study that is not a chest radiograph
copy_shared dicom-samples/cr_hip_fuji_mono2_10bit_rle.dcm "$T/hip"
UH=$(study_uid "$T/hip/cr_hip_fuji_mono2_10bit_rle.dcm")
storescu -xr -aec "$AE" "$HOST" "$PORT" "$T/hip/cr_hip_fuji_mono2_10bit_rle.dcm" > "$T/hip.log" 2>&1
if wait_until 60 state_is "$UH" infer FAILED &&
   status_json | json_get '[p["reason"] for p in j["problems"] if p["study_uid"] == "'"$UH"'"][0]' | grep -q "not a chest"; then
    tap_ok "a hip study: FAILED, status names the reason ($(sql "SELECT last_error FROM jobs WHERE state='FAILED' LIMIT 1;"))"
else
    tap_fail "a hip study: FAILED, status names the reason" "infer: $(job_state "$UH" infer)" "$(status_json)"
fi
# 14: unreadable pixels (pixel data cut short)
"$PY" - "$T/s1/frontal.dcm" "$T/cut.dcm" <<'PYEOF'
import sys, pydicom
from pydicom.uid import generate_uid
ds = pydicom.dcmread(sys.argv[1])
ds.StudyInstanceUID = generate_uid()
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.PixelData = ds.PixelData[: len(ds.PixelData) // 3]
ds.save_as(sys.argv[2])
PYEOF
UC=$(study_uid "$T/cut.dcm")
storescu -aec "$AE" "$HOST" "$PORT" "$T/cut.dcm" > "$T/cut.log" 2>&1
if wait_until 60 state_is "$UC" infer FAILED; then
    tap_ok "unreadable pixels: FAILED ($(sql "SELECT j.last_error FROM jobs j JOIN studies s ON s.id=j.study_id WHERE s.study_uid='$UC';"))"
else
    tap_fail "unreadable pixels: FAILED" "infer: $(job_state "$UC" infer)"
fi
tap_check "the daemon keeps serving (C-ECHO)" echo_ok
stop_daemon 15
tap_is "SIGTERM: radscribed exits 0" "$?" 0

# 17: redraft = ignore keeps the first report
echo "redraft = ignore" >> "$CONF"
start_daemon || tap_bail_rest "radscribed did not restart"
"$PY" - "$T/s2/frontal.dcm" "$T/late2.dcm" <<'PYEOF'
import sys, pydicom
from pydicom.uid import generate_uid
ds = pydicom.dcmread(sys.argv[1])
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.save_as(sys.argv[2])
PYEOF
storescu -aec "$AE" "$HOST" "$PORT" "$T/late2.dcm" > "$T/late2.log" 2>&1
sleep 4
tap_is "redraft = ignore: a late instance is stored and flagged, no new draft" \
    "$(n_sr "$U2")/$(job_state "$U2" infer)/$(sql "SELECT redraft FROM studies WHERE study_uid = '$U2';")" "1/DONE/1"
tap_done
