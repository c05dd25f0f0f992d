#!/bin/bash
# Query/Retrieve of the reports radscribed made: three studies (one
# patient name in ISO_IR 100, one in ISO_IR 192) and a late instance make
# four SRs; findscu finds them at every level with universal, single
# value, wildcard, date and time range and list-of-UID matching and in the
# requester's character set; movescu moves them to a storescp started here
# (sub-operation counts, pending then final status); getscu gets one on
# its own association; Orthanc, with radscribed as a DICOM modality,
# queries and retrieves through its REST API and ends up holding the SRs;
# odil finds the same studies.  Bad requests get their status (unknown
# level and missing unique key 0xA900, malformed date 0xC000, unknown move
# destination 0xA801), a C-CANCEL sent behind a C-FIND stops it (0xFE00),
# a calling AE title not in allow_query is rejected, and the daemon keeps
# serving.  With query_images = yes the received images are served too.
. "$(dirname "$0")/lib.sh"

tap_plan 42
need "$RADSCRIBED" "$ORTHANC" storescu findscu movescu getscu storescp \
    echoscu dcmdump odil sqlite3
need_pydicom
M=$top_srcdir/models
[ -f "$M/radscribe-cxr.gguf" ] && [ -f "$M/mmproj-radscribe-cxr.gguf" ] ||
    tap_bail_rest "the default model is not in $M"

# ------------------------------------------------------------ peers ----
# storescp: the C-MOVE destination MOVEDEST (one subdirectory per move)
MOVED=$T/moved
mkdir -p "$MOVED"
SCP_PORT=$(free_port)
storescp -aet MOVEDEST -od "$MOVED" "$SCP_PORT" > "$T/storescp.log" 2>&1 &
SCP_PID=$!
DAEMON_PIDS="$DAEMON_PIDS $SCP_PID"
orthanc_config pacs PACS
write_conf qr "settle_time = 1"
# repeatable keys that write_conf would collapse into one line
{
    for a in FINDSCU MOVESCU GETSCU ODILSCU RAWSCU PACS; do
        echo "allow_query = $a"
    done
    echo "move_destination = MOVEDEST $HOST $SCP_PORT"
    echo "move_destination = PACS 127.0.0.1 $(orthanc_port pacs)"
    echo "move_destination = DOWN 127.0.0.1 $(free_port)"
} >> "$CONF"
start_daemon || tap_bail_rest "radscribed did not start"
# radscribed as modality "rs" of Orthanc
"$PY" - "$T/orthanc.pacs/config.json" "$AE" "$HOST" "$PORT" <<'PYEOF'
import json, sys
p, ae, host, port = sys.argv[1:5]
c = json.load(open(p))
c["DicomModalities"] = {"rs": [ae, host, int(port)]}
json.dump(c, open(p, "w"), indent=1)
PYEOF
start_orthanc pacs || tap_bail_rest "Orthanc did not start"
wait_until 10 echoscu -aec MOVEDEST "$HOST" "$SCP_PORT" ||
    tap_bail_rest "storescp did not start"

# ---------------------------------------------------------- studies ----
# mkqrstudy DIR PATIENT_ID NAME CHARSET DATE TIME ACCESSION
mkqrstudy() {
    mkstudy "$1" --patient-id "$2" > /dev/null || return 1
    "$PY" - "$@" <<'PYEOF'
import glob, sys, pydicom
d, pid, name, cs, date, time, acc = sys.argv[1:8]
for f in sorted(glob.glob(d + "/*.dcm")):
    ds = pydicom.dcmread(f)
    ds.SpecificCharacterSet = cs
    ds.PatientName = name
    ds.PatientID = pid
    ds.StudyDate = date
    ds.StudyTime = time
    ds.AccessionNumber = acc
    ds.ReferringPhysicianName = "Ref^Erring"
    ds.save_as(f)
PYEOF
}
mkqrstudy "$T/s1" QR-P1 "Doe^John" "ISO_IR 100" 20240115 083000 QRACC1 &&
mkqrstudy "$T/s2" QR-P2 "Müller^Jürgen" "ISO_IR 100" 20240220 141500 QRACC2 &&
mkqrstudy "$T/s3" QR-P3 "Żółć^Łukasz" "ISO_IR 192" 20250310 230000 QRACC3 ||
    tap_bail_rest "cannot make the studies"
U1=$(study_uid "$T/s1/frontal.dcm")
U2=$(study_uid "$T/s2/frontal.dcm")
U3=$(study_uid "$T/s3/frontal.dcm")
n_index() { sql "SELECT count(*) FROM qr_index;"; }
for s in s1 s2 s3; do
    storescu -aet STORESCU -aec "$AE" "$HOST" "$PORT" "$T/$s"/*.dcm > "$T/$s.log" 2>&1
done
# 1: three reports, each indexed in the transaction that recorded it
if wait_until 300 at_least 3 n_index; then
    tap_ok "three studies: three reports in the query/retrieve index"
else
    tap_fail "three studies: three reports in the query/retrieve index" \
        "reports: $(sql "SELECT count(*) FROM reports;"), indexed: $(n_index)"
fi
# 2: a late instance in study 1 makes a second report there
late_instance "$T/s1/frontal.dcm" "$T/late.dcm"
storescu -aet STORESCU -aec "$AE" "$HOST" "$PORT" "$T/late.dcm" > "$T/late.log" 2>&1
if wait_until 300 at_least 4 n_index; then
    tap_ok "a late instance: a second report in study 1, indexed"
else
    tap_fail "a late instance: a second report in study 1, indexed" "indexed: $(n_index)"
fi
# the SRs radscribed holds, by study
srs_of() {
    sql "SELECT r.sop_instance_uid FROM reports r JOIN studies s ON s.id = r.study_id
         WHERE s.study_uid = '$1' ORDER BY r.id;"
}
SR1=$(srs_of "$U1" | tr '\n' ' ')
SR3=$(srs_of "$U3")

# ---------------------------------------------------------- C-FIND ----
# qfind NAME [findscu args...]: responses into $T/find.NAME (rsp*.dcm), log
# in $T/find.NAME/log; the calling AE title is FINDSCU unless -aet is given
qfind() {
    local d=$T/find.$1
    shift
    rm -rf "$d"
    mkdir -p "$d"
    findscu -v -X -od "$d" -aet FINDSCU -aec "$AE" "$@" "$HOST" "$PORT" > "$d/log" 2>&1
}
# got NAME KEYWORD...: per response (sorted), the keywords' values joined
# by "|", decoded by pydicom from the response's character set
got() {
    "$PY" - "$T/find.$1" "${@:2}" <<'PYEOF'
import glob, sys, pydicom
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/rsp*.dcm")):
    ds = pydicom.dcmread(f)
    vals = []
    for k in sys.argv[2:]:
        if k not in ds:
            vals.append("<absent>")
            continue
        v = ds[k].value
        if v is None:
            v = ""
        if isinstance(v, pydicom.multival.MultiValue):
            v = "\\".join(str(x) for x in v)
        vals.append(str(v))
    rows.append("|".join(vals))
print(" ".join(sorted(rows)))
PYEOF
}
# final NAME: the status text of the final response
final() { sed -n 's/^.*Received Final Find Response (\(.*\)).*$/\1/p' "$T/find.$1/log"; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

# 3-4: STUDY level, universal matching (Study Root)
qfind all -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID -k PatientName \
    -k PatientID -k StudyDate -k StudyTime -k AccessionNumber -k StudyID \
    -k ModalitiesInStudy -k NumberOfStudyRelatedInstances \
    -k NumberOfStudyRelatedSeries -k ReferringPhysicianName
tap_is "STUDY level, universal: the three studies, final status Success" \
    "$(got all StudyInstanceUID)/$(final all)" "$(sorted "$U1" "$U2" "$U3")/Success"
tap_is "... with their attributes (required keys, counts, Modalities in Study)" \
    "$(got all PatientID PatientName StudyDate StudyTime AccessionNumber ModalitiesInStudy NumberOfStudyRelatedInstances NumberOfStudyRelatedSeries ReferringPhysicianName RetrieveAETitle)" \
    "QR-P1|Doe^John|20240115|083000|QRACC1|SR|2|2|Ref^Erring|$AE QR-P2|Müller^Jürgen|20240220|141500|QRACC2|SR|1|1|Ref^Erring|$AE QR-P3|Żółć^Łukasz|20250310|230000|QRACC3|SR|1|1|Ref^Erring|$AE"
# 5: single value
qfind single -S -k QueryRetrieveLevel=STUDY -k PatientID=QR-P2 -k StudyInstanceUID
tap_is "single value matching (PatientID)" "$(got single StudyInstanceUID)" "$U2"
# 6: wildcards, and PN without regard to case
qfind wild -S -k QueryRetrieveLevel=STUDY -k "PatientName=doe*" -k "AccessionNumber=QRACC?" -k StudyInstanceUID
tap_is "wildcard matching (* and ?; PN ignores case)" "$(got wild StudyInstanceUID)" "$U1"
# 7-9: date ranges
qfind dr -S -k QueryRetrieveLevel=STUDY -k StudyDate=20240101-20240331 -k StudyInstanceUID
tap_is "date range 20240101-20240331" "$(got dr StudyInstanceUID)" "$(sorted "$U1" "$U2")"
qfind dr2 -S -k QueryRetrieveLevel=STUDY -k StudyDate=20250101- -k StudyInstanceUID
qfind dr3 -S -k QueryRetrieveLevel=STUDY -k StudyDate=-20240131 -k StudyInstanceUID
tap_is "open date ranges 20250101- and -20240131" "$(got dr2 StudyInstanceUID)/$(got dr3 StudyInstanceUID)" "$U3/$U1"
qfind tr -S -k QueryRetrieveLevel=STUDY -k StudyTime=1400-2300 -k StudyInstanceUID
tap_is "time range 1400-2300" "$(got tr StudyInstanceUID)" "$(sorted "$U2" "$U3")"
# 10: list of UIDs
qfind list -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$U1\\$U3" -k PatientID
tap_is "list of UID matching" "$(got list StudyInstanceUID)" "$(sorted "$U1" "$U3")"
# 11: PATIENT level (Patient Root)
qfind pat -P -k QueryRetrieveLevel=PATIENT -k PatientID -k PatientName \
    -k NumberOfPatientRelatedStudies -k NumberOfPatientRelatedInstances
tap_is "PATIENT level (Patient Root): three patients with their counts" \
    "$(got pat PatientID NumberOfPatientRelatedStudies NumberOfPatientRelatedInstances)" \
    "QR-P1|1|2 QR-P2|1|1 QR-P3|1|1"
# 12: SERIES level (Study Root)
qfind ser -S -k QueryRetrieveLevel=SERIES -k "StudyInstanceUID=$U1" -k SeriesInstanceUID \
    -k Modality -k SeriesNumber -k NumberOfSeriesRelatedInstances
tap_is "SERIES level: study 1 has two SR series of one instance each" \
    "$(got ser Modality SeriesNumber NumberOfSeriesRelatedInstances StudyInstanceUID)" \
    "SR|9901|1|$U1 SR|9901|1|$U1"
# 13: IMAGE level (Patient Root)
SER3=$(sql "SELECT SeriesInstanceUID FROM qr_index WHERE StudyInstanceUID = '$U3';")
qfind img -P -k QueryRetrieveLevel=IMAGE -k PatientID=QR-P3 -k "StudyInstanceUID=$U3" \
    -k "SeriesInstanceUID=$SER3" -k SOPInstanceUID -k SOPClassUID -k InstanceNumber \
    -k CompletionFlag -k VerificationFlag
tap_is "IMAGE level (Patient Root): the SR with SOP class and SR flags" \
    "$(got img SOPInstanceUID SOPClassUID InstanceNumber CompletionFlag VerificationFlag)" \
    "$SR3|$(sql "SELECT sop_class_uid FROM reports WHERE sop_instance_uid = '$SR3';")|1|COMPLETE|UNVERIFIED"

# 14-16: Specific Character Set
qfind utf8 -S -k "SpecificCharacterSet=ISO_IR 192" -k QueryRetrieveLevel=STUDY \
    -k "PatientName=Müller*" -k StudyInstanceUID
tap_is "ISO_IR 192 request: a non-ASCII wildcard matches, answer in ISO_IR 192" \
    "$(got utf8 StudyInstanceUID PatientName SpecificCharacterSet)" "$U2|Müller^Jürgen|ISO_IR 192"
qfind latin1 -S -k "SpecificCharacterSet=ISO_IR 100" -k QueryRetrieveLevel=STUDY \
    -k "PatientName=$(printf 'M\374ller^J\374rgen')" -k StudyInstanceUID
raw=$(dcmdump -q +P PatientName "$T/find.latin1/rsp0001.dcm" 2>/dev/null | od -An -c | tr -s ' \n' ' ')
if [ "$(got latin1 StudyInstanceUID PatientName SpecificCharacterSet)" = "$U2|Müller^Jürgen|ISO_IR 100" ] &&
   printf '%s' "$raw" | grep -q '374'; then
    tap_ok "ISO_IR 100 request in Latin-1: matched, answered in ISO_IR 100 (Latin-1 bytes)"
else
    tap_fail "ISO_IR 100 request in Latin-1: matched, answered in ISO_IR 100 (Latin-1 bytes)" \
        "$(got latin1 StudyInstanceUID PatientName SpecificCharacterSet)" "$raw" "$(tail -n 5 "$T/find.latin1/log")"
fi
qfind fallback -S -k "SpecificCharacterSet=ISO_IR 100" -k QueryRetrieveLevel=STUDY \
    -k PatientID=QR-P3 -k PatientName
tap_is "a name Latin-1 cannot hold comes back in ISO_IR 192" \
    "$(got fallback PatientName SpecificCharacterSet)" "Żółć^Łukasz|ISO_IR 192"

# ---------------------------------------------------------- C-MOVE ----
# qmove NAME DEST [movescu args...]: log in $T/move.NAME.log
qmove() {
    local n=$1 dest=$2
    shift 2
    movescu -d -aet MOVESCU -aec "$AE" -aem "$dest" "$@" "$HOST" "$PORT" > "$T/move.$n.log" 2>&1
}
# counts LOG: "status completed failed warning" of the final response
counts() {
    awk '/Received Final Move Response/ { f = 1 }
         f && /Completed Suboperations/ { c = $NF }
         f && /Failed Suboperations/ { x = $NF }
         f && /Warning Suboperations/ { w = $NF }
         f && /DIMSE Status/ { match($0, /0x[0-9a-fA-F]+/); s = substr($0, RSTART, RLENGTH) }
         END { print s, c, x, w }' "$1"
}
moved_uids() {
    local f
    for f in "$MOVED"/*; do [ -f "$f" ] && sop_uid "$f"; done | sort | tr '\n' ' ' | sed 's/ $//'
}
# 17-19: study 1 (two SRs) to the storescp
rm -f "$MOVED"/*
qmove s1 MOVEDEST -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$U1"
tap_is "C-MOVE study 1: final Success with 2 completed, 0 failed, 0 warning" \
    "$(counts "$T/move.s1.log")" "0x0000 2 0 0"
pending=$(awk '/Received Move Response 1$/ { p = 1; next }
    p && /Remaining Suboperations/ { r = $NF }
    p && /Completed Suboperations/ { c = $NF }
    p && /DIMSE Status/ { match($0, /0x[0-9a-fA-F]+/); s = substr($0, RSTART, RLENGTH); p = 0 }
    END { print s, r, c }' "$T/move.s1.log")
tap_is "... after a pending response (0xFF00, 1 remaining, 1 completed)" "$pending" "0xff00 1 1"
ok=1
for u in $SR1; do
    f=$(ls "$MOVED"/*"$u"* 2>/dev/null | head -n 1)
    same_dataset "$SPOOL/reports/$u.dcm" "$f" > /dev/null || ok=0
done
if [ "$(moved_uids)" = "$(sorted $SR1)" ] && [ $ok = 1 ]; then
    tap_ok "... the storescp holds both SRs, identical to radscribed's"
else
    tap_fail "... the storescp holds both SRs, identical to radscribed's" "moved: $(moved_uids)" "want: $SR1"
fi
# 20: two studies (three SRs) by a list of UIDs; one SR at IMAGE level
rm -f "$MOVED"/*
qmove list MOVEDEST -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$U1\\$U2"
qmove img MOVEDEST -P -k QueryRetrieveLevel=IMAGE -k PatientID=QR-P3 \
    -k "StudyInstanceUID=$U3" -k "SeriesInstanceUID=$SER3" -k "SOPInstanceUID=$SR3"
tap_is "C-MOVE of a list of two studies, and of one SR at IMAGE level (Patient Root)" \
    "$(counts "$T/move.list.log")/$(counts "$T/move.img.log")/$(ls "$MOVED" | wc -l)" \
    "0x0000 3 0 0/0x0000 1 0 0/4"
# 21: unknown destination
qmove unknown NOWHERE -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$U1"
tap_is "C-MOVE to an unknown destination: 0xA801" "$(counts "$T/move.unknown.log" | cut -d' ' -f1)" "0xa801"
qmove down DOWN -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$U1"
tap_is "C-MOVE to a destination that is down: 0xA702, both sub-operations failed" \
    "$(counts "$T/move.down.log")" "0xa702 0 2 0"

# ----------------------------------------------------------- C-GET ----
# 22: getscu: the SR of study 3 on the requester's own association
mkdir -p "$T/got"
getscu -v -aet GETSCU -aec "$AE" -S -od "$T/got" -k QueryRetrieveLevel=SERIES \
    -k "StudyInstanceUID=$U3" -k "SeriesInstanceUID=$SER3" "$HOST" "$PORT" > "$T/get.log" 2>&1
f=$(ls "$T/got"/* 2>/dev/null | head -n 1)
if [ -n "$f" ] && [ "$(sop_uid "$f")" = "$SR3" ] &&
   same_dataset "$SPOOL/reports/$SR3.dcm" "$f" > /dev/null &&
   grep -q "Number of Completed Suboperations : 1" "$T/get.log" &&
   grep -q "Received C-GET Response (Success)\|Received Final C-GET Response (Success)" "$T/get.log"; then
    tap_ok "C-GET: the SR arrives on getscu's association, 1 completed, Success"
else
    tap_fail "C-GET: the SR arrives on getscu's association, 1 completed, Success" \
        "file: $f" "$(tail -n 12 "$T/get.log")"
fi

# ------------------------------------------------------- bad requests ----
# 23-25
qfind badlevel -S -k QueryRetrieveLevel=FOO -k PatientName
qfind patstudy -S -k QueryRetrieveLevel=PATIENT -k PatientName
qfind nokey -S -k QueryRetrieveLevel=SERIES -k Modality
tap_is "unknown level, PATIENT in Study Root, SERIES without its study: 0xA900 each" \
    "$(final badlevel)/$(final patstudy)/$(final nokey)" \
    "Error: DataSetDoesNotMatchSOPClass/Error: DataSetDoesNotMatchSOPClass/Error: DataSetDoesNotMatchSOPClass"
qfind baddate -S -k QueryRetrieveLevel=STUDY -k StudyDate=2024-01-15
tap_is "a malformed date range: 0xC000 (unable to process)" "$(final baddate)" \
    "Failed: UnableToProcess"
qmove badmove MOVEDEST -S -k QueryRetrieveLevel=SERIES -k "StudyInstanceUID=$U1"
tap_is "C-MOVE without the level's unique key: 0xA900" "$(counts "$T/move.badmove.log" | cut -d' ' -f1)" "0xa900"
# 26-27: a calling AE title not in allow_query
qfind intruder -aet INTRUDER -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID
if grep -q "Association Rejected" "$T/find.intruder/log" &&
   grep -qi "Calling AE Title Not Recognized" "$T/find.intruder/log"; then
    tap_ok "C-FIND from a calling AE title not in allow_query: association rejected"
else
    tap_fail "C-FIND from a calling AE title not in allow_query: association rejected" "$(tail -n 5 "$T/find.intruder/log")"
fi
tap_is "... and recorded in the events table" \
    "$(sql "SELECT count(*) FROM events WHERE kind = 'assoc-rejected' AND calling_ae = 'INTRUDER';")" 1
# 28: C-CANCEL right behind the C-FIND: matching stops, status 0xFE00
cancel=$("$PY" - "$E2E_DIR" "$HOST" "$PORT" "$AE" <<'PYEOF'
import struct, sys
sys.path.insert(0, sys.argv[1])
from dulclient import associate, command_set, pdata, read_message, get_status, release, elem, uidb, IMPLICIT_LE
FIND = "1.2.840.10008.5.1.4.1.2.2.1"
s, max_pdu, pcs = associate(sys.argv[2], sys.argv[3], sys.argv[4], "RAWSCU",
                            [(1, FIND, [IMPLICIT_LE])])
if s is None or pcs.get(1, (1,))[0] != 0:
    print("not associated: %r %r" % (max_pdu, pcs))
    sys.exit(0)
find = command_set([(0x0002, uidb(FIND)), (0x0100, struct.pack("<H", 0x0020)),
                    (0x0110, struct.pack("<H", 7)), (0x0700, struct.pack("<H", 0)),
                    (0x0800, struct.pack("<H", 0x0000))])
ident = elem(0x0008, 0x0052, b"STUDY ") + elem(0x0020, 0x000d, b"")
cancel = command_set([(0x0100, struct.pack("<H", 0x0fff)), (0x0120, struct.pack("<H", 7)),
                      (0x0800, struct.pack("<H", 0x0101))])
# one write, so the C-CANCEL is there when the identifier has been read
s.sendall(pdata(1, True, True, find) + pdata(1, False, True, ident) +
          pdata(1, True, True, cancel))
pending = 0
while True:
    st = get_status(read_message(s))
    if st not in (0xff00, 0xff01):
        break
    pending += 1
print("status 0x%04x after %d pending" % (st, pending))
release(s)
PYEOF
)
case $cancel in
    "status 0xfe00 after "[012]" pending") tap_ok "C-CANCEL behind a C-FIND: $cancel" ;;
    *) tap_fail "C-CANCEL behind a C-FIND: status 0xFE00 before all three matches" "$cancel" ;;
esac

# ------------------------------------------------------------ peers ----
# 29-30: Orthanc queries its modality "rs" and retrieves by C-MOVE to itself
qid=$(orthanc_rest pacs /modalities/rs/query '{"Level":"Study","Query":{"PatientID":"QR-P1","StudyInstanceUID":"","StudyDate":""}}' |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["ID"])' 2>/dev/null)
answers=$(orthanc_rest pacs "/queries/$qid/answers?expand" 2>/dev/null |
    "$PY" -c 'import json,sys; print(" ".join(a["0020,000d"]["Value"] for a in json.load(sys.stdin)))' 2>/dev/null)
tap_is "Orthanc: C-FIND through /modalities/rs/query finds study 1" "$answers" "$U1"
orthanc_rest pacs "/queries/$qid/retrieve" '{"TargetAet":"PACS","Synchronous":true}' > "$T/orthanc.retrieve" 2>&1
orthanc_srs() {
    orthanc_rest pacs /tools/find "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$U1\",\"Modality\":\"SR\"},\"Expand\":true}" |
        "$PY" -c 'import json,sys; print(" ".join(sorted(i["MainDicomTags"]["SOPInstanceUID"] for i in json.load(sys.stdin))))'
}
wait_until 30 test "$(orthanc_srs)" = "$(sorted $SR1)"
tap_is "Orthanc: /queries/{id}/retrieve (C-MOVE) leaves it holding both SRs of study 1" \
    "$(orthanc_srs)" "$(sorted $SR1)"
# 31: odil finds the same studies
odil find "$HOST" "$PORT" ODILSCU "$AE" study QueryRetrieveLevel=STUDY StudyInstanceUID= \
    PatientID= > "$T/odil.log" 2>&1
odil_uids=$(sed -n "s/^Study Instance UID .*\['\(.*\)'\].*$/\1/p" "$T/odil.log" | sort | tr '\n' ' ' | sed 's/ $//')
tap_is "odil find: the same three studies" "$odil_uids" "$(sorted "$U1" "$U2" "$U3")"
# 32
tap_check "the daemon keeps serving (C-ECHO)" echo_ok

# ------------------------------------------------------ query_images ----
# 33-37: restarted with query_images = yes, the images are indexed at
# start-up and as they arrive, and served beside the reports
stop_daemon 15
echo "query_images = yes" >> "$CONF"
start_daemon || tap_bail_rest "radscribed did not restart"
tap_is "query_images = yes: the 7 received instances indexed at start-up" \
    "$(sql "SELECT count(*) FROM qr_index WHERE instance_id IS NOT NULL;")" 7
qfind imgs -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$U1" \
    -k ModalitiesInStudy -k NumberOfStudyRelatedInstances
tap_is "... study 1 answers with its three images and two SRs" \
    "$(got imgs ModalitiesInStudy NumberOfStudyRelatedInstances)" "DX\\SR|5"
FSOP=$(sop_uid "$T/s1/frontal.dcm")
FSER=$(dcm_attr "$T/s1/frontal.dcm" SeriesInstanceUID)
rm -rf "$T/got" && mkdir -p "$T/got"
getscu -v -aet GETSCU -aec "$AE" -S -od "$T/got" -k QueryRetrieveLevel=IMAGE \
    -k "StudyInstanceUID=$U1" -k "SeriesInstanceUID=$FSER" -k "SOPInstanceUID=$FSOP" \
    "$HOST" "$PORT" > "$T/get2.log" 2>&1
f=$(ls "$T/got"/* 2>/dev/null | head -n 1)
if [ -n "$f" ] && same_dataset "$T/s1/frontal.dcm" "$f" > /dev/null; then
    tap_ok "... C-GET of a received image returns it as sent"
else
    tap_fail "... C-GET of a received image returns it as sent" "file: $f" "$(tail -n 8 "$T/get2.log")"
fi
mkqrstudy "$T/s4" QR-P4 "Late^Comer" "ISO_IR 100" 20250401 090000 QRACC4
storescu -aet STORESCU -aec "$AE" "$HOST" "$PORT" "$T/s4/frontal.dcm" > "$T/s4.log" 2>&1
qfind new -S -k QueryRetrieveLevel=IMAGE -k "StudyInstanceUID=$(study_uid "$T/s4/frontal.dcm")" \
    -k "SeriesInstanceUID=$(dcm_attr "$T/s4/frontal.dcm" SeriesInstanceUID)" -k SOPInstanceUID -k PatientName
tap_is "... an image is found as soon as its C-STORE succeeded" \
    "$(got new SOPInstanceUID PatientName)" "$(sop_uid "$T/s4/frontal.dcm")|Late^Comer"
tap_check "the daemon keeps serving (C-ECHO)" echo_ok

# Q/R is closed unless allow_query opens it: no line, nobody; "*", anyone.
stop_daemon 15
sed -i '/^allow_query = /d' "$CONF"
start_daemon || tap_bail_rest "radscribed did not restart (no allow_query)"
qfind closed -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID -k PatientName
if grep -q "Association Rejected" "$T/find.closed/log" && ! ls "$T/find.closed"/rsp* >/dev/null 2>&1; then
    tap_ok "no allow_query line: C-FIND rejected, no patient data returned"
else
    tap_fail "no allow_query line: C-FIND rejected, no patient data returned" "$(tail -n 5 "$T/find.closed/log")"
fi
stop_daemon 15
echo "allow_query = *" >> "$CONF"
start_daemon || tap_bail_rest "radscribed did not restart (allow_query = *)"
qfind open -aet ANYONE -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID
tap_is "allow_query = *: any calling AE title finds the four studies" \
    "$(got open StudyInstanceUID | wc -w)/$(final open)" "4/Success"
tap_check "allow_query = *: a warning at start-up" \
    grep -q "allow_query = \*: any calling AE title may query" "$DLOG"

# max_query_results: the first N matches, then a warning final status
stop_daemon 15
echo "max_query_results = 2" >> "$CONF"
start_daemon || tap_bail_rest "radscribed did not restart (max_query_results)"
qfind capped -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID
n=$(got capped StudyInstanceUID | wc -w)
if [ "$n" = 2 ] && grep -qi "Received Final Find Response" "$T/find.capped/log" &&
   grep -qiE "0xb000|Warning" "$T/find.capped/log"; then
    tap_ok "max_query_results = 2: two of the four studies, then a warning final status (0xB000)"
else
    tap_fail "max_query_results = 2: two of the four studies, then a warning final status" \
        "matches: $n" "$(grep -i 'Final Find Response' -A3 "$T/find.capped/log" | head -n 5)"
fi
tap_done
