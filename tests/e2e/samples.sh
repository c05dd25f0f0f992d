#!/bin/bash
# Every real CR/DX file in shared/data/dicom-samples (Konica, Philips,
# Canon, Fuji, Kodak and challenge conversions, in every transfer syntax
# radscribed accepts, JPEG 2000 included) sent with dcmsend, which proposes
# each file's own syntax as a modality does: each is stored unchanged, and
# each study then either drafts (a chest, or nothing says what it is) or
# ends FAILED because it is not a chest -- never "cannot decode".  A study
# that names no body part carries the body-part note in its report; with
# unknown_body_part = refuse it fails with that reason instead.  HTJ2K,
# which DCMTK 3.6.7 cannot parse, is refused at negotiation.
. "$(dirname "$0")/lib.sh"

SRC=$SHARED_DATA/dicom-samples
nfiles=$(ls "$SRC"/*.dcm 2>/dev/null | wc -l)
NOTE='The images did not state the body part examined'
# Expected outcome per study, from what its files say: a study drafts when
# one of its images names the chest or none names any body part.
"$PY" - "$SRC" > "$T/expect" <<'PY'
import glob, sys, pydicom
other = ("HIP", "PELVIS", "KNEE", "HAND", "FOOT", "SKULL", "EXTREMITY",
         "SHOULDER", "SPINE", "ABDOMEN")
studies = {}
for f in sorted(glob.glob(sys.argv[1] + "/*.dcm")):
    ds = pydicom.dcmread(f, stop_before_pixels=True)
    bp = str(ds.get("BodyPartExamined", "") or "").upper()
    desc = " ".join(str(ds.get(k, "") or "") for k in
                    ("SeriesDescription", "StudyDescription", "ProtocolName")).upper()
    if "CHEST" in bp or "THORAX" in bp or (not bp and "CHEST" in desc):
        kind = "chest"
    elif bp or any(o in desc for o in other):
        kind = "other"
    else:
        kind = "unknown"
    studies.setdefault(ds.StudyInstanceUID, []).append(kind)
for uid, kinds in studies.items():
    if "chest" in kinds:
        print(uid, "DONE", "labelled")
    elif "unknown" in kinds:
        print(uid, "DONE", "unknown")
    else:
        print(uid, "FAILED", "other")
PY
nstudies=$(wc -l < "$T/expect")
# per file: stored; per study: its outcome; then J2K count, raw J2K and
# HTJ2K negotiation, DB rows, spool files, echo, no "cannot decode",
# notes (2), refuse mode (2), daemon alive
tap_plan $((nfiles + nstudies + 13))
[ "$nfiles" -ge 1 ] && [ "$nstudies" -ge 1 ] || tap_bail_rest "no DICOM files in $SRC"
need "$RADSCRIBED" "$RADSCRIBE" dcmsend echoscu dcmdump dsrdump sqlite3

copy_shared dicom-samples "$T/in"
write_conf samples
start_daemon || tap_bail_rest "radscribed did not start"

j2k=0
for f in "$T"/in/dicom-samples/*.dcm; do
    name=$(basename "$f")
    ts=$(dcm_attr "$f" TransferSyntaxUID)
    uid=$(sop_uid "$f")
    log=$T/$name.log
    case $ts in 1.2.840.10008.1.2.4.9[01]) j2k=$((j2k + 1)) ;; esac
    # -dn: never decompress, so the file goes out in its own syntax or not at all
    dcmsend -v -dn -aet SAMPLES -aec "$AE" "$HOST" "$PORT" "$f" > "$log" 2>&1
    rc=$?
    inrow=$(sql "SELECT transfer_syntax FROM instances WHERE sop_instance_uid='$uid';")
    p=$(instance_path "$uid" 2>/dev/null)
    # dcmsend proposes both native little endian syntaxes for either, the
    # explicit one first, so an implicit file may arrive explicit
    want=$ts
    [ "$ts" = 1.2.840.10008.1.2 ] && [ "$inrow" = 1.2.840.10008.1.2.1 ] && want=$inrow
    if [ $rc -eq 0 ] && grep -q 'Received C-STORE Response (Success)' "$log" &&
       [ "$inrow" = "$want" ] && [ -n "$p" ] && same_dataset "$f" "$p" > "$T/$name.diff" 2>&1; then
        tap_ok "$name ($ts): sent by dcmsend in its own syntax, stored and indexed unchanged ($inrow)"
    else
        tap_fail "$name ($ts): sent by dcmsend in its own syntax, stored and indexed unchanged" \
            "dcmsend exit $rc, row ts '$inrow', path '$p'" \
            "$(tail -n 6 "$log")" "$(head -n 6 "$T/$name.diff" 2>/dev/null)"
    fi
done

if [ "$j2k" -ge 3 ]; then
    tap_ok "the samples include $j2k JPEG 2000 files (accepted like the others)"
else
    tap_fail "the samples include JPEG 2000 files" "found $j2k"
fi

# negotiation itself: a JPEG 2000-only context is accepted with the
# syntax the peer put first; an HTJ2K-only one gets result 4
# (transfer-syntaxes-not-supported)
r1=$($DUL propose "$HOST" "$PORT" "$AE" RAWJ2K 1.2.840.10008.5.1.4.1.1.1 \
     1.2.840.10008.1.2.4.91,1.2.840.10008.1.2.4.90 2>&1)
tap_is "raw negotiation: JPEG 2000-only context accepted in the peer's first syntax" \
    "$r1" "result 0 ts 1.2.840.10008.1.2.4.91"
r2=$($DUL propose "$HOST" "$PORT" "$AE" RAWHTJ 1.2.840.10008.5.1.4.1.1.1 \
     1.2.840.10008.1.2.4.201,1.2.840.10008.1.2.4.202,1.2.840.10008.1.2.4.203 2>&1)
tap_is "raw negotiation: HTJ2K-only context refused (4)" "${r2%% ts*}" "result 4"

n=$(sql "SELECT count(*) FROM instances;")
tap_is "database holds all $nfiles files" "$n" "$nfiles"
nobj=$(find "$SPOOL/objects" -type f -name '*.dcm' | wc -l)
tap_is "spool holds $nfiles objects" "$nobj" "$nfiles"
tap_check "daemon keeps serving (C-ECHO)" echo_ok

terminal() {
    [ "$(sql "SELECT count(*) FROM jobs WHERE stage='infer' AND state IN ('DONE','FAILED');")" = "$nstudies" ]
}
wait_until 180 terminal
while read -r suid want kind; do
    row=$(sql "SELECT j.state || '|' || coalesce(j.last_error,'') FROM jobs j JOIN studies s ON s.id=j.study_id
               WHERE s.study_uid='$suid' AND j.stage='infer';")
    state=${row%%|*} err=${row#*|}
    nrep=$(sql "SELECT count(*) FROM reports r JOIN studies s ON s.id=r.study_id WHERE s.study_uid='$suid';")
    files=$(sql "SELECT group_concat(substr(sop_instance_uid, -12), ' ') FROM instances i JOIN studies s ON s.id=i.study_id WHERE s.study_uid='$suid';")
    if [ "$want" = DONE ] && [ "$state" = DONE ] && [ "$nrep" -ge 1 ]; then
        tap_ok "study ...$suid ($kind): drafted"
    elif [ "$want" = FAILED ] && [ "$state" = FAILED ] && [ "$nrep" = 0 ] &&
         [[ $err == *"not a chest radiograph"* ]]; then
        tap_ok "study ...$suid ($kind): FAILED, not a chest radiograph"
    else
        tap_fail "study ...$suid ($kind): want $want" "state '$state', reports $nrep" \
            "last_error: $err" "instances: $files"
    fi
done < "$T/expect"

bad=$(sql "SELECT count(*) FROM jobs WHERE last_error LIKE '%cannot decode%';")
if [ "$bad" = 0 ] && ! grep -q 'cannot decode' "$DLOG"; then
    tap_ok "no study failed with \"cannot decode\""
else
    tap_fail "no study failed with \"cannot decode\"" "$bad jobs" "$(grep -m3 'cannot decode' "$DLOG")"
fi

# The body-part note: in the reports of studies that name no body part,
# and only there.
report_has_note() {
    local p
    p=$(sql "SELECT r.path FROM reports r JOIN studies s ON s.id=r.study_id WHERE s.study_uid='$1' LIMIT 1;")
    case $p in /*) ;; *) p=$SPOOL/$p ;; esac
    dsrdump +Pl "$p" 2>/dev/null | grep -q "$NOTE"
}
with=0 without=0 wrong=
while read -r suid want kind; do
    [ "$want" = DONE ] || continue
    if [ "$kind" = unknown ]; then
        report_has_note "$suid" && with=$((with + 1)) || wrong="$wrong $suid(no note)"
    else
        report_has_note "$suid" && wrong="$wrong $suid(note)" || without=$((without + 1))
    fi
done < "$T/expect"
if [ "$with" -ge 1 ] && [ -z "$wrong" ]; then
    tap_ok "$with report(s) of studies naming no body part carry the note"
else
    tap_fail "reports of studies naming no body part carry the note" "with $with; wrong:$wrong"
fi
if [ "$without" -ge 1 ] && [ -z "$wrong" ]; then
    tap_ok "$without report(s) of studies naming the chest carry no note"
else
    tap_fail "reports of studies naming the chest carry no note" "without $without; wrong:$wrong"
fi

# No patient name in a log line at info or above, even when a free-text
# attribute holds one: a hip study whose Series Description names the
# patient ends FAILED, and neither the log nor `radscribe status` shows it.
"$PY" - "$T/in/dicom-samples/cr_hip_fuji_mono2_10bit_rle.dcm" "$T/phi.dcm" <<'PYEOF'
import sys, pydicom
from pydicom.uid import generate_uid
ds = pydicom.dcmread(sys.argv[1])
for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
    setattr(ds, k, generate_uid())
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.PatientName = "Zyxwarble^Quentin"
ds.SeriesDescription = "KNEE Zyxwarble Quentin"
ds.BodyPartExamined = ""
ds.save_as(sys.argv[2])
PYEOF
phi_suid=$(study_uid "$T/phi.dcm")
dcmsend -dn -aet SAMPLES -aec "$AE" "$HOST" "$PORT" "$T/phi.dcm" > /dev/null 2>&1
phi_failed() {
    [ "$(sql "SELECT j.state FROM jobs j JOIN studies s ON s.id=j.study_id WHERE s.study_uid='$phi_suid' AND j.stage='infer';")" = FAILED ]
}
wait_until 60 phi_failed
st=$("$RADSCRIBE" -f "$CONF" status 2>&1; "$RADSCRIBE" -f "$CONF" list --state FAILED 2>&1)
leak=$(grep -E ' (info|warn|err|crit): ' "$DLOG" | grep -ci zyxwarble)
if phi_failed && [ "$leak" = 0 ] && ! grep -qi zyxwarble <<<"$st"; then
    tap_ok "a name in Series Description: study FAILED, no log line at info or above and no status output names it"
else
    tap_fail "a name in Series Description: no log line at info or above names it" \
        "failed: $(phi_failed && echo yes || echo no), log lines: $leak" \
        "$(grep -E ' (info|warn|err|crit): ' "$DLOG" | grep -i zyxwarble | head -n 3)" \
        "$(grep -i zyxwarble <<<"$st" | head -n 3)"
fi
stop_daemon

# unknown_body_part = refuse: the same unlabelled files end FAILED with
# a reason an admin can act on.
unk=$(awk '$3 == "unknown" { print $1 }' "$T/expect")
write_conf refuse "unknown_body_part = refuse"
start_daemon || tap_bail_rest "radscribed did not start (refuse)"
sent=0
for f in "$T"/in/dicom-samples/*.dcm; do
    grep -qx "$(study_uid "$f")" <<< "$unk" || continue
    dcmsend -dn -aet SAMPLES -aec "$AE" "$HOST" "$PORT" "$f" > /dev/null 2>&1 && sent=$((sent + 1))
done
nu=$(echo "$unk" | grep -c .)
failed_all() {
    [ "$(sql "SELECT count(*) FROM jobs WHERE stage='infer' AND state='FAILED' AND last_error LIKE '%body part unknown%';")" = "$nu" ]
}
wait_until 60 failed_all
tap_check "unknown_body_part = refuse: the $nu unlabelled studies ($sent files) end FAILED, \"body part unknown\"" failed_all
nrep=$(sql "SELECT count(*) FROM reports;")
tap_is "unknown_body_part = refuse: no report made" "$nrep" 0
tap_check "daemon still running" alive
stop_daemon
tap_done
