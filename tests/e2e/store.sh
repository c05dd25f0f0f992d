#!/bin/bash
# Two-view chest studies sent by real peers (DCMTK storescu, GDCM gdcmscu,
# Odil, CTN send_image): stored byte-for-byte in dataset, indexed, one infer
# job per study after settle_time; a resend makes no duplicates.
. "$(dirname "$0")/lib.sh"

# per sender: 1 send, 2 DB rows, 3 datasets identical, 4 columns, 5 one job
SENDERS="storescu-dx storescu-cr gdcmscu odil ctn"
tap_plan $((5 * 5 + 2 + 11))
need "$RADSCRIBED" "$RADSCRIBE" storescu echoscu gdcmscu odil send_image \
    dcmdump dcmcjpeg sqlite3
need_pydicom

write_conf store
if ! start_daemon; then
    tap_bail_rest "radscribed did not start"
fi

DX=1.2.840.10008.5.1.4.1.1.1.1
CR=1.2.840.10008.5.1.4.1.1.1
JPEG_BASELINE=1.2.840.10008.1.2.4.50

declare -A STUDY
total_inst=0

# send_with SENDER DIR: send DIR/frontal.dcm and DIR/lateral.dcm
send_with() {
    local who=$1 d=$2 rc
    case $who in
        storescu-*)
            # -xy: also propose JPEG baseline (storescu proposes only
            # uncompressed transfer syntaxes by default)
            storescu -v -xy -aet "SCU_${who#storescu-}" -aec "$AE" "$HOST" "$PORT" \
                "$d/frontal.dcm" "$d/lateral.dcm" > "$d/send.log" 2>&1
            rc=$?
            # both files must have been acknowledged with Success
            [ $rc -eq 0 ] && [ "$(acked_files "$d/send.log" | wc -l)" -eq 2 ]
            ;;
        gdcmscu)
            # gdcmscu 3.0.21 aborts (SIGABRT, "ProtocolStream as nullptr is
            # invalid") while releasing the association, after the stores,
            # with any SCP (DCMTK storescp too), so its exit status is not
            # used; its -V log must show no error and the DB check decides.
            gdcmscu -V --store --aetitle GDCMSCU --call "$AE" -H "$HOST" -p "$PORT" \
                -i "$d/frontal.dcm" -i "$d/lateral.dcm" > "$d/send.log" 2>&1
            ! grep -qi 'error' "$d/send.log"
            ;;
        odil)
            odil store -v info "$HOST" "$PORT" ODILSCU "$AE" \
                "$d/frontal.dcm" "$d/lateral.dcm" > "$d/send.log" 2>&1
            ;;
        ctn)
            send_image -a CTNSCU -c "$AE" -r "$HOST" "$PORT" \
                "$d/frontal.dcm" "$d/lateral.dcm" > "$d/send.log" 2>&1
            ;;
    esac
}

calling_of() {
    case $1 in
        storescu-dx) echo SCU_dx ;; storescu-cr) echo SCU_cr ;;
        gdcmscu) echo GDCMSCU ;; odil) echo ODILSCU ;; ctn) echo CTNSCU ;;
    esac
}

for who in $SENDERS; do
    d=$T/$who
    modality=DX
    jpeg=frontal
    [ "$who" = storescu-cr ] && modality=CR
    # CTN send_image and odil store propose only uncompressed transfer
    # syntaxes and cannot transcode, so they get an uncompressed study
    # (odil with a JPEG file: see the separate check below)
    case $who in ctn|odil) jpeg=none ;; esac
    if ! mkstudy "$d" --modality "$modality" --mono1 lateral --jpeg "$jpeg" >/dev/null; then
        tap_bail_rest "fixture generation failed"
    fi
    suid=$(study_uid "$d/frontal.dcm")
    STUDY[$who]=$suid
    f_uid=$(sop_uid "$d/frontal.dcm")
    l_uid=$(sop_uid "$d/lateral.dcm")

    if send_with "$who" "$d"; then
        tap_ok "$who: sent the two-view $modality study (frontal ${jpeg/none/uncompressed}, lateral MONOCHROME1)"
    else
        tap_fail "$who: sent the two-view $modality study" "$(tail -n 15 "$d/send.log")"
    fi

    # 2: study row and both instances, under that study
    n=$(sql "SELECT count(*) FROM instances i JOIN studies s ON s.id=i.study_id
             WHERE s.study_uid='$suid' AND i.sop_instance_uid IN ('$f_uid','$l_uid');")
    ns=$(sql "SELECT count(*) FROM studies WHERE study_uid='$suid';")
    if [ "$n" = 2 ] && [ "$ns" = 1 ]; then
        tap_ok "$who: study and its 2 instances are in the database"
    else
        tap_fail "$who: study and its 2 instances are in the database" \
            "studies rows: $ns, instances rows: $n"
    fi

    # 3: stored files hold the same data set as the sent files
    bad=
    for v in frontal lateral; do
        uid=$(sop_uid "$d/$v.dcm")
        p=$(instance_path "$uid") || { bad="$bad $v:no-row"; continue; }
        case $p in
            "$SPOOL"/objects/??/"$uid".dcm) ;;
            *) bad="$bad $v:unexpected-path:$p" ;;
        esac
        same_dataset "$d/$v.dcm" "$p" > "$d/$v.diff" 2>&1 || bad="$bad $v:differs"
        # the file's transfer syntax matches its pixel data: it decodes
        dcmj2pnm -q "$p" "$d/$v.stored.pnm" 2>>"$d/$v.diff" || bad="$bad $v:does-not-decode"
        [ "$(dcm_attr "$p" TransferSyntaxUID)" = \
          "$(sql "SELECT transfer_syntax FROM instances WHERE sop_instance_uid='$uid';")" ] ||
            bad="$bad $v:meta-ts-differs-from-row"
    done
    if [ -z "$bad" ]; then
        tap_ok "$who: stored files (objects/XX/UID.dcm) have the data sets that were sent and decode"
    else
        tap_fail "$who: stored files (objects/XX/UID.dcm) have the data sets that were sent and decode" \
            "problems:$bad" "$(cat "$d"/*.diff 2>/dev/null | head -n 12)"
    fi

    # 4: indexed columns: SOP class, transfer syntax of the JPEG view,
    # series, calling AE, size
    want_class=$DX
    [ "$modality" = CR ] && want_class=$CR
    row=$(sql "SELECT sop_class_uid, transfer_syntax, series_uid, calling_ae, size
               FROM instances WHERE sop_instance_uid='$f_uid';")
    want_ts=$(dcm_attr "$d/frontal.dcm" TransferSyntaxUID)
    if [ "$jpeg" = none ]; then
        # an uncompressed file may go as implicit or explicit VR LE
        got_ts=$(sql "SELECT transfer_syntax FROM instances WHERE sop_instance_uid='$f_uid';")
        case $got_ts in 1.2.840.10008.1.2|1.2.840.10008.1.2.1) want_ts=$got_ts ;; esac
    fi
    f_series=$(dcm_attr "$d/frontal.dcm" SeriesInstanceUID)
    p=$(instance_path "$f_uid" 2>/dev/null)
    fsize=$(stat -c %s "$p" 2>/dev/null)
    want_row="$want_class|$want_ts|$f_series|$(calling_of "$who")|$fsize"
    if [ "$row" = "$want_row" ] && { [ "$jpeg" = none ] || [ "$want_ts" = "$JPEG_BASELINE" ]; }; then
        tap_ok "$who: instances row has SOP class, transfer syntax, series, calling AE and file size"
    else
        tap_fail "$who: instances row has SOP class, transfer syntax, series, calling AE and file size" \
            "got:  $row" "want: $want_row"
    fi
    total_inst=$((total_inst + 2))
done

# 5: after settle_time, exactly one infer job per study (all five)
sleep 1
for who in $SENDERS; do
    suid=${STUDY[$who]}
    wait_until 15 has_job "$suid"
    # (the worker may have claimed or finished it since)
    jobs=$(sql "SELECT stage FROM jobs j JOIN studies s ON s.id=j.study_id
                WHERE s.study_uid='$suid' AND stage = 'infer';" | tr '\n' ' ')
    if [ "$jobs" = "infer " ]; then
        tap_ok "$who: study settled into exactly one infer job"
    else
        tap_fail "$who: study settled into exactly one infer job" "jobs: '$jobs'"
    fi
done

# status --json agrees with the database
js=$(status_json 2>"$T/status.err")
rc=$?
got=$(printf '%s' "$js" | json_get '"%s %s %s" % (j["instances"], j["studies"],
      sum(x["count"] for x in j["jobs"] if x["stage"]=="infer"))' 2>&1)
if [ $rc -eq 0 ] && [ "$got" = "$total_inst 5 5" ]; then
    tap_ok "radscribe status --json: $total_inst instances, 5 studies, 5 infer jobs"
else
    tap_fail "radscribe status --json: $total_inst instances, 5 studies, 5 infer jobs" \
        "exit $rc" "got: $got" "json: $js" "$(cat "$T/status.err")"
fi
dbcounts="$(sql 'SELECT count(*) FROM instances;') $(sql 'SELECT count(*) FROM studies;') $(sql "SELECT count(*) FROM jobs WHERE stage='infer';")"
tap_is "database totals: $total_inst instances, 5 studies, 5 infer jobs" "$dbcounts" "$total_inst 5 5"

# resend the storescu DX study (same UIDs) and the odil one: no duplicates
d=$T/storescu-dx
suid=${STUDY[storescu-dx]}
storescu -v -xy -aet SCU_dx -aec "$AE" "$HOST" "$PORT" "$d/frontal.dcm" "$d/lateral.dcm" > "$d/resend.log" 2>&1
rc=$?
n=$(acked_files "$d/resend.log" | wc -l)
if [ $rc -eq 0 ] && [ "$n" -eq 2 ]; then
    tap_ok "resend: storescu sends the same study again, both acknowledged"
else
    tap_fail "resend: storescu sends the same study again, both acknowledged" "$(tail -n 10 "$d/resend.log")"
fi
odil store "$HOST" "$PORT" ODILSCU "$AE" "$T/odil/frontal.dcm" "$T/odil/lateral.dcm" > "$T/odil/resend.log" 2>&1
tap_check "resend: odil sends its study again" test $? -eq 0
sleep 2.5   # > settle_time: a second job would have appeared by now
counts="$(sql 'SELECT count(*) FROM instances;') $(sql 'SELECT count(*) FROM studies;') $(sql "SELECT count(*) FROM jobs WHERE stage='infer';")"
tap_is "resend: still $total_inst instances, 5 studies, 5 infer jobs (no duplicate rows)" "$counts" "$total_inst 5 5"
dups=$(sql "SELECT count(*) FROM (SELECT sop_instance_uid FROM instances GROUP BY 1 HAVING count(*)>1);")
jobs=$(job_count "$suid")
tap_is "resend: no duplicate instance rows, still one infer job for the study" "$dups $jobs" "0 1"
bad=
for v in frontal lateral; do
    p=$(instance_path "$(sop_uid "$d/$v.dcm")") && same_dataset "$d/$v.dcm" "$p" >/dev/null || bad="$bad $v"
done
nfiles=$(find "$SPOOL/objects" -name "*.dcm" -type f | wc -l)
if [ -z "$bad" ] && [ "$nfiles" -eq "$total_inst" ]; then
    tap_ok "resend: stored files still match and the spool holds exactly $total_inst objects"
else
    tap_fail "resend: stored files still match and the spool holds exactly $total_inst objects" \
        "differing:$bad" "objects in spool: $nfiles"
fi

# A SOP Instance UID stays with its study and patient: a resend that moves
# it to another study, or names another patient, is refused (0xA900) and
# changes nothing on disk or in the index; an events row records it.
fsop=$(sop_uid "$d/frontal.dcm")
p0=$(instance_path "$fsop")
h0=$(sha256sum < "$p0")
row0=$(sql "SELECT study_id, path, size, patient_id FROM instances WHERE sop_instance_uid='$fsop';")
"$PY" - "$d/frontal.dcm" "$d/moved.dcm" "$d/otherpat.dcm" <<'PYEOF'
import sys, pydicom
from pydicom.uid import generate_uid
ds = pydicom.dcmread(sys.argv[1])
ds.StudyInstanceUID = generate_uid()
ds.PatientID = "INTRUDER-1"
ds.PatientName = "Other^Patient"
ds.save_as(sys.argv[2])
ds = pydicom.dcmread(sys.argv[1])
ds.PatientID = "INTRUDER-2"
ds.save_as(sys.argv[3])
PYEOF
for v in moved otherpat; do
    storescu -v -xy -aet SCU_dx -aec "$AE" "$HOST" "$PORT" "$d/$v.dcm" > "$d/$v.log" 2>&1
done
if grep -q "Received Store Response (Error: DataSetDoesNotMatchSOPClass" "$d/moved.log" &&
   grep -q "Received Store Response (Error: DataSetDoesNotMatchSOPClass" "$d/otherpat.log"; then
    tap_ok "resend under another study, or with another Patient ID: refused with 0xA900"
else
    tap_fail "resend under another study, or with another Patient ID: refused with 0xA900" \
        "$(grep -h 'Store Response' "$d/moved.log" "$d/otherpat.log")"
fi
row1=$(sql "SELECT study_id, path, size, patient_id FROM instances WHERE sop_instance_uid='$fsop';")
h1=$(sha256sum < "$(instance_path "$fsop")")
nst=$(sql "SELECT count(*) FROM studies;")
if [ "$row1" = "$row0" ] && [ "$h1" = "$h0" ] && [ "$nst" = 5 ]; then
    tap_ok "... the stored file, its index row and the studies are unchanged"
else
    tap_fail "... the stored file, its index row and the studies are unchanged" \
        "row before: $row0" "row after:  $row1" "hash same: $([ "$h1" = "$h0" ] && echo yes || echo no)" "studies: $nst"
fi
tap_is "... and each refusal is an events row" \
    "$(sql "SELECT count(*) FROM events WHERE kind='sop-conflict' AND detail LIKE '%$fsop%';")" 2

# odil store (Odil 0.12) proposes only Explicit/Implicit VR Little Endian
# and sends a JPEG file unchanged: encapsulated pixel data over an Explicit
# VR LE context.  The daemon must not keep that as a file whose transfer
# syntax says "uncompressed" (no reader can decode it): it either refuses the
# instance or stores something that decodes.
mkstudy "$T/odil-jpeg" --jpeg frontal > /dev/null
f=$T/odil-jpeg/frontal.dcm
odil store "$HOST" "$PORT" ODILSCU "$AE" "$f" > "$T/odil-jpeg/send.log" 2>&1
p=$(instance_path "$(sop_uid "$f")")
if [ -z "$p" ] || dcmj2pnm -q "$p" "$T/odil-jpeg/stored.pnm" > "$T/odil-jpeg/decode.log" 2>&1; then
    tap_ok "odil sends JPEG data over an Explicit VR LE context: not stored as an undecodable file"
else
    tap_fail "odil sends JPEG data over an Explicit VR LE context: not stored as an undecodable file" \
        "stored as $p, transfer syntax $(dcm_attr "$p" TransferSyntaxUID)" \
        "$(dcmdump "$p" 2>&1 | grep -E '\(7fe0,0010\)')" "$(head -n 3 "$T/odil-jpeg/decode.log")"
fi

tap_check "daemon still answers C-ECHO" echo_ok
stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0

tap_done
