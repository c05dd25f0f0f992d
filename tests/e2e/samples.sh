#!/bin/bash
# Every real CR/DX file in shared/data/dicom-samples: the accepted transfer
# syntaxes are received and indexed unchanged; JPEG 2000 is refused at
# association negotiation and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

J2K_RE='^1\.2\.840\.10008\.1\.2\.4\.(90|91|92|93)$'
SRC=$SHARED_DATA/dicom-samples
nfiles=$(ls "$SRC"/*.dcm 2>/dev/null | wc -l)
# per file: one check; plus: count of J2K files, raw J2K proposal, DB total,
# echo afterwards, jobs
tap_plan $((nfiles + 6))
[ "$nfiles" -ge 1 ] || tap_bail_rest "no DICOM files in $SRC"
need "$RADSCRIBED" storescu echoscu dcmdump sqlite3

copy_shared dicom-samples "$T/in"
write_conf samples
start_daemon || tap_bail_rest "radscribed did not start"

# storescu association profile that proposes JPEG 2000 only (storescu
# cannot transcode JPEG 2000, so this is the only way such a file goes out)
cat > "$T/j2k.cfg" <<'EOF'
[[TransferSyntaxes]]
[J2K]
TransferSyntax1 = JPEG2000LosslessOnly
TransferSyntax2 = JPEG2000
[[PresentationContexts]]
[J2KContexts]
PresentationContext1 = ComputedRadiographyImageStorage\J2K
PresentationContext2 = DigitalXRayImageStorageForPresentation\J2K
PresentationContext3 = DigitalXRayImageStorageForProcessing\J2K
PresentationContext4 = SecondaryCaptureImageStorage\J2K
[[Profiles]]
[J2KOnly]
PresentationContexts = J2KContexts
EOF

accepted=0
refused=0
for f in "$T"/in/dicom-samples/*.dcm; do
    name=$(basename "$f")
    ts=$(dcm_attr "$f" TransferSyntaxUID)
    uid=$(sop_uid "$f")
    log=$T/$name.log
    if [[ $ts =~ $J2K_RE ]]; then
        storescu -v -xf "$T/j2k.cfg" J2KOnly -aet SAMPLES -aec "$AE" "$HOST" "$PORT" "$f" > "$log" 2>&1
    else
        # storescu proposes only uncompressed transfer syntaxes unless told:
        # propose the one the file has, so it goes out unchanged
        case $ts in
            1.2.840.10008.1.2.4.50) opt=-xy ;;   # JPEG baseline
            1.2.840.10008.1.2.4.51) opt=-xx ;;   # JPEG extended (12 bit)
            1.2.840.10008.1.2.4.70) opt=-xs ;;   # JPEG lossless SV1
            1.2.840.10008.1.2.4.80) opt=-xt ;;   # JPEG-LS lossless
            1.2.840.10008.1.2.4.81) opt=-xu ;;   # JPEG-LS near-lossless
            1.2.840.10008.1.2.5) opt=-xr ;;      # RLE
            1.2.840.10008.1.2.1.99) opt=-xd ;;   # deflated
            *) opt=-x= ;;
        esac
        storescu -v "$opt" -aet SAMPLES -aec "$AE" "$HOST" "$PORT" "$f" > "$log" 2>&1
    fi
    rc=$?
    inrow=$(sql "SELECT transfer_syntax FROM instances WHERE sop_instance_uid='$uid';")
    if [[ $ts =~ $J2K_RE ]]; then
        refused=$((refused + 1))
        if [ $rc -ne 0 ] && [ -z "$inrow" ] &&
           ! grep -q 'Received Store Response (Success)' "$log" &&
           grep -qi 'No Acceptable Presentation Contexts' "$log"; then
            tap_ok "$name ($ts): refused at negotiation (no acceptable presentation context), not stored"
        else
            tap_fail "$name ($ts): refused at negotiation (no acceptable presentation context), not stored" "storescu exit $rc, row ts '$inrow'" \
                "$(tail -n 8 "$log")"
        fi
    else
        accepted=$((accepted + 1))
        p=$(instance_path "$uid" 2>/dev/null)
        if [ $rc -eq 0 ] && [ "$(acked_files "$log" | wc -l)" -eq 1 ] &&
           [ "$inrow" = "$ts" ] && [ -n "$p" ] && same_dataset "$f" "$p" > "$T/$name.diff" 2>&1; then
            tap_ok "$name ($ts): received in its own transfer syntax and indexed, data set unchanged"
        else
            tap_fail "$name ($ts): received and indexed, data set unchanged" \
                "storescu exit $rc, row ts '$inrow', path '$p'" \
                "$(tail -n 6 "$log")" "$(head -n 6 "$T/$name.diff" 2>/dev/null)"
        fi
    fi
done

if [ "$refused" -ge 1 ] && [ "$accepted" -ge 1 ]; then
    tap_ok "the samples cover accepted ($accepted) and JPEG 2000 ($refused) files"
else
    tap_fail "the samples cover accepted ($accepted) and JPEG 2000 ($refused) files"
fi

# negotiation itself: a JPEG 2000-only context gets result 4
# (transfer-syntaxes-not-supported); the same class with JPEG-LS is accepted
r1=$($DUL propose "$HOST" "$PORT" "$AE" RAWJ2K 1.2.840.10008.5.1.4.1.1.1 \
     1.2.840.10008.1.2.4.90,1.2.840.10008.1.2.4.91 2>&1)
r2=$($DUL propose "$HOST" "$PORT" "$AE" RAWJLS 1.2.840.10008.5.1.4.1.1.1 \
     1.2.840.10008.1.2.4.80 2>&1)
if [ "${r1%% ts*}" = "result 4" ] && [ "$r2" = "result 0 ts 1.2.840.10008.1.2.4.80" ]; then
    tap_ok "raw negotiation: JPEG 2000-only context refused (4), JPEG-LS lossless accepted"
else
    tap_fail "raw negotiation: JPEG 2000-only context refused (4), JPEG-LS lossless accepted" \
        "j2k: $r1" "jpeg-ls: $r2"
fi

n=$(sql "SELECT count(*) FROM instances;")
tap_is "database holds exactly the $accepted accepted files" "$n" "$accepted"
nobj=$(find "$SPOOL/objects" -type f -name '*.dcm' | wc -l)
tap_is "spool holds exactly $accepted objects" "$nobj" "$accepted"
tap_check "daemon keeps serving (C-ECHO) after the refusals" echo_ok

# the samples are different studies: each settles into one infer job
sleep 1
nstudies=$(sql "SELECT count(*) FROM studies;")
wait_until 15 at_least "$nstudies" infer_jobs
nj=$(sql "SELECT count(*) FROM jobs WHERE stage='infer';")
multi=$(sql "SELECT count(*) FROM (SELECT study_id FROM jobs WHERE stage='infer' GROUP BY 1 HAVING count(*)>1);")
if [ "$nstudies" -ge 1 ] && [ "$nj" = "$nstudies" ] && [ "$multi" = 0 ]; then
    tap_ok "each of the $nstudies studies has one infer job"
else
    tap_fail "each of the $nstudies studies has one infer job" "jobs $nj, studies with >1 job $multi"
fi

stop_daemon
tap_done
