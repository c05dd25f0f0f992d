#!/bin/bash
# The send stage (src/node/sender.c) against real archives: a private Orthanc,
# DCMTK's storescp, and a small scripted SCP for the statuses no real peer
# gives on demand.  tests/tools/senddrv runs the sender alone; the test puts
# the studies, reports, deliveries and jobs rows in with sqlite3, as the
# worker would, and the report is a real SR made with pydicom.
#
# What must hold: a delivery is accepted only when the archive answered
# success or warning; a report accepted by an archive is never sent to it
# again; failures defer the job with backoff, max_age fails it.
. "$(dirname "$0")/lib.sh"

tap_plan 60
SENDDRV=${SENDDRV:-$top_builddir/tests/tools/senddrv}
need "$SENDDRV" "$ORTHANC" storescp echoscu dcmdump sqlite3
need_pydicom

DB=$T/deliver.db
DLOG=$T/daemon.senddrv.log
OUR=RADSCRIBE
NOW_MS() { echo $(( $(date +%s%N) / 1000000 )); }

"$SENDDRV" -d "$DB" -c 2>> "$DLOG" || tap_bail_rest "senddrv -c failed"

# mksr OUT STUDY_UID SOP_UID: a Basic Text SR (Explicit VR Little Endian)
mksr() {
    "$PY" - "$@" <<'EOF'
import sys
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian
out, study, sop = sys.argv[1:4]
SR = "1.2.840.10008.5.1.4.1.1.88.11"
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = SR
meta.MediaStorageSOPInstanceUID = sop
meta.TransferSyntaxUID = ExplicitVRLittleEndian
meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
ds = FileDataset(out, {}, file_meta=meta, preamble=b"\0" * 128)
ds.SpecificCharacterSet = "ISO_IR 100"
ds.SOPClassUID = SR
ds.SOPInstanceUID = sop
ds.StudyInstanceUID = study
ds.SeriesInstanceUID = sop + ".1"
ds.Modality = "SR"
ds.PatientName = "Deliver^Test"
ds.PatientID = "DELIVER"
ds.PatientBirthDate = ""
ds.PatientSex = ""
ds.StudyDate = ds.ContentDate = "20240101"
ds.StudyTime = ds.ContentTime = "120000"
ds.AccessionNumber = ""
ds.ReferringPhysicianName = ""
ds.StudyID = "1"
ds.SeriesNumber = 990
ds.InstanceNumber = 1
ds.Manufacturer = "radscribe e2e"
ds.ReferencedPerformedProcedureStepSequence = Sequence()
ds.PerformedProcedureCodeSequence = Sequence()
ds.ValueType = "CONTAINER"
ds.ContinuityOfContent = "SEPARATE"
ds.CompletionFlag = "COMPLETE"
ds.VerificationFlag = "UNVERIFIED"
ds.PreliminaryFlag = "PRELIMINARY"
def code(v, s, m):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = v, s, m
    return c
ds.ConceptNameCodeSequence = Sequence([code("18748-4", "LN", "Diagnostic Imaging Report")])
t = Dataset()
t.RelationshipType = "CONTAINS"
t.ValueType = "TEXT"
t.ConceptNameCodeSequence = Sequence([code("121071", "DCM", "Finding")])
t.TextValue = "No acute cardiopulmonary abnormality."
ds.ContentSequence = Sequence([t])
ds.save_as(out, write_like_original=False)
EOF
}

ROOT=1.2.826.0.1.3680043.8.498.$$.$(date +%s)
# add_report N [AGE_S] [ARCHIVE...]: study ROOT.N with report ROOT.N.1 in
# $T/sr.N.dcm made AGE_S seconds ago, deliveries rows for the archives,
# and an INCOMING send job.  Sets STUDY, SOP, JOB.
add_report() {
    local n=$1 age=${2:-0} now a
    shift 2 2>/dev/null || shift $#
    now=$(NOW_MS)
    STUDY=$ROOT.$n SOP=$ROOT.$n.1
    mksr "$T/sr.$n.dcm" "$STUDY" "$SOP" || return 1
    {
        echo "INSERT OR IGNORE INTO studies (study_uid, first_received_at, last_received_at, job_created_at)"
        echo "  VALUES ('$STUDY', $now, $now, $now);"
        echo "INSERT INTO reports (study_id, sop_instance_uid, series_uid, sop_class_uid, path, size,"
        echo "  created_at, model, findings, impression)"
        echo "  SELECT id, '$SOP', '$SOP.1', '1.2.840.10008.5.1.4.1.1.88.11', '$T/sr.$n.dcm',"
        echo "  $(stat -c %s "$T/sr.$n.dcm"), $((now - age * 1000)), 'test', 'f', 'i'"
        echo "  FROM studies WHERE study_uid = '$STUDY';"
        for a in "$@"; do
            echo "INSERT INTO deliveries (report_id, archive)"
            echo "  SELECT id, '$a' FROM reports WHERE sop_instance_uid = '$SOP';"
        done
        echo "INSERT INTO jobs (study_id, stage, state, created_at, updated_at)"
        echo "  SELECT id, 'send', 'INCOMING', $now, $now FROM studies WHERE study_uid = '$STUDY';"
    } | sqlite3 -batch -cmd ".timeout 10000" "$DB" || return 1
    JOB=$(sql "SELECT j.id FROM jobs j JOIN studies s ON s.id = j.study_id
               WHERE s.study_uid = '$STUDY' AND j.stage = 'send';")
}

job_state() { sql "SELECT state FROM jobs WHERE id = $1;"; }
# park JOB...: HOLD the jobs a case left DEFERRED, so that a later run,
# with other archives configured, does not pick them up when due.
park() {
    local j
    for j in "$@"; do
        sql "UPDATE jobs SET state = 'HOLD' WHERE id = $j AND state = 'DEFERRED';"
    done
}
# dlv SOP ARCHIVE COLUMNS: columns of that delivery, | separated
dlv() {
    sql "SELECT $3 FROM deliveries d JOIN reports r ON r.id = d.report_id
         WHERE r.sop_instance_uid = '$1' AND d.archive = '$2';"
}

# drv ARGS...: the sender with our AE title, logging to $DLOG; its stdout
# (stop_ms=N) in $T/drv.out
drv() {
    echo "=== senddrv $* ($(date +%T.%N))" >> "$DLOG"
    "$SENDDRV" -d "$DB" -e "$OUR" -v "$@" > "$T/drv.out" 2>> "$DLOG"
}

# A scripted Storage SCP: accepts any called AE title, answers each
# C-STORE as MODE says, writes each SOP Instance UID received to LOG.
#   status HEX [COMMENT]  that status (and Error Comment)
#   nocontext             refuses every presentation context
#   hang                  never answers the C-STORE
#   delay SECONDS         waits, then answers 0x0000
cat > "$T/fakescp.py" <<'EOF'
import socket, struct, sys, threading, time
port, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
args = sys.argv[4:]

def item(t, p):
    return struct.pack(">BBH", t, 0, len(p)) + p

def rx(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def pdu(s):
    t, _, n = struct.unpack(">BBI", rx(s, 6))
    return t, rx(s, n)

def elem(e, v):
    if len(v) % 2:
        v += b"\0"
    return struct.pack("<HHI", 0, e, len(v)) + v

def cmd_get(cmd, want):
    p = 0
    while p + 8 <= len(cmd):
        g, e, n = struct.unpack("<HHI", cmd[p:p + 8])
        if g == 0 and e == want:
            return cmd[p + 8:p + 8 + n]
        p += 8 + n
    return b""

def serve(s):
    t, rq = pdu(s)
    if t != 1:
        return
    called, calling = rq[4:20], rq[20:36]
    p, pcs = 68, []
    while p + 4 <= len(rq):
        it, _, n = struct.unpack(">BBH", rq[p:p + 4])
        body = rq[p + 4:p + 4 + n]
        p += 4 + n
        if it == 0x20:
            pcid, q, tss = body[0], 4, []
            while q + 4 <= len(body):
                st, _, sn = struct.unpack(">BBH", body[q:q + 4])
                if st == 0x40:
                    tss.append(body[q + 4:q + 4 + sn])
                q += 4 + sn
            pcs.append((pcid, tss[0]))
    ac = struct.pack(">HH", 1, 0) + called + calling + b"\0" * 32
    ac += item(0x10, b"1.2.840.10008.3.1.1.1")
    for pcid, ts in pcs:
        res = 3 if mode == "nocontext" else 0
        ac += item(0x21, bytes([pcid, 0, res, 0]) + item(0x40, ts))
    ac += item(0x50, item(0x51, struct.pack(">I", 16384)) +
               item(0x52, b"1.2.826.0.1.3680043.8.498.2"))
    s.sendall(struct.pack(">BBI", 2, 0, len(ac)) + ac)
    cmd, data, pcid = b"", b"", 1
    while True:
        t, b = pdu(s)
        if t == 5:
            s.sendall(struct.pack(">BBI", 6, 0, 4) + b"\0" * 4)
            return
        if t != 4:
            return
        p, done = 0, False
        while p < len(b):
            (n,) = struct.unpack(">I", b[p:p + 4])
            pcid, mch, v = b[p + 4], b[p + 5], b[p + 6:p + 4 + n]
            p += 4 + n
            if mch & 1:
                cmd += v
            else:
                data += v
                done = bool(mch & 2)
        if not done:
            continue
        sop = cmd_get(cmd, 0x1000).rstrip(b"\0 ")
        with open(log, "a") as f:
            f.write(sop.decode() + "\n")
        if mode == "hang":
            time.sleep(3600)
        if mode == "delay":
            time.sleep(float(args[0]))
        status = int(args[0], 16) if mode == "status" else 0
        rsp = elem(0x0002, cmd_get(cmd, 0x0002).rstrip(b"\0"))
        rsp += elem(0x0100, struct.pack("<H", 0x8001))
        rsp += elem(0x0120, cmd_get(cmd, 0x0110))
        rsp += elem(0x0800, struct.pack("<H", 0x0101))
        rsp += elem(0x0900, struct.pack("<H", status))
        if mode == "status" and len(args) > 1:
            c = args[1].encode()
            rsp += elem(0x0902, c + b" " * (len(c) % 2))
        rsp += elem(0x1000, sop)
        rsp = elem(0x0000, struct.pack("<I", len(rsp))) + rsp
        pdv = struct.pack(">IBB", len(rsp) + 2, pcid, 3) + rsp
        s.sendall(struct.pack(">BBI", 4, 0, len(pdv)) + pdv)
        cmd, data = b"", b""

def conn(s):
    try:
        serve(s)
    except (EOFError, OSError):
        pass
    finally:
        s.close()

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(8)
open(log, "a").close()
print("ready", flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=conn, args=(c,), daemon=True).start()
EOF

# fakescp NAME MODE [ARGS]: start one on a free port; sets FPORT.  Its
# received SOP Instance UIDs are in $T/fake.NAME.
fakescp() {
    local name=$1 i
    shift
    FPORT=$(free_port)
    "$PY" "$T/fakescp.py" "$FPORT" "$T/fake.$name" "$@" > "$T/fake.$name.out" 2>&1 &
    DAEMON_PIDS="$DAEMON_PIDS $!"
    for i in $(seq 50); do
        grep -q ready "$T/fake.$name.out" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
fake_received() { grep -cxF "$2" "$T/fake.$1"; }

# ---------------------------------------------------------------------
# 1. Delivered: Orthanc accepts, the job is DONE, Orthanc holds one copy.
start_orthanc pacs || tap_bail_rest "Orthanc did not start"
PACS="pacs=$(orthanc_aet pacs)@127.0.0.1:$(orthanc_port pacs)"
add_report 1 0 pacs gone || tap_bail_rest "cannot insert the report rows"
S1=$STUDY R1=$SOP J1=$JOB
drv -a "$PACS" -u final -T 30
tap_is "1: the driver saw the job finish" "$?" 0
tap_is "1: job DONE" "$(job_state "$J1")" DONE
tap_is "1: delivery accepted with status 0, one attempt" \
    "$(dlv "$R1" pacs "accepted_at IS NOT NULL, status, attempts, last_error IS NULL")" "1|0|1|1"
tap_is "1: Orthanc holds exactly one instance" "$(orthanc_count pacs)" 1
tap_is "1: Orthanc received exactly one C-STORE of it" "$(orthanc_received pacs "$R1")" 1
if orthanc_file pacs "$R1" "$T/stored.1.dcm" && same_dataset "$T/sr.1.dcm" "$T/stored.1.dcm" >/dev/null; then
    tap_ok "1: Orthanc stored the SR data set as sent"
else
    tap_fail "1: Orthanc stored the SR data set as sent"
fi
if grep -q "send: study=$S1 report=$R1 archive=pacs status=0x0000 accepted" "$DLOG"; then
    tap_ok "1: the log names study, report, archive and status"
else
    tap_fail "1: the log names study, report, archive and status" "$(grep 'send:' "$DLOG" | tail -n 3)"
fi
tap_is "1: the row of an archive no longer configured is left alone" \
    "$(dlv "$R1" gone "coalesce(accepted_at, 'null'), attempts")" "null|0"
if grep -q "archive=gone skipped: archive no longer configured" "$DLOG"; then
    tap_ok "1: ... and logged"
else
    tap_fail "1: ... and logged"
fi

# Requeued by an admin (DONE -> INCOMING): nothing is sent twice.
sql "UPDATE jobs SET state = 'INCOMING' WHERE id = $J1;"
drv -a "$PACS" -u final -T 30
tap_is "1: a requeued job is DONE again" "$(job_state "$J1")" DONE
tap_is "1: ... without a second C-STORE to the archive that accepted" \
    "$(orthanc_received pacs "$R1")" 1
tap_is "1: ... and the delivery is untouched" "$(dlv "$R1" pacs attempts)" 1

# ---------------------------------------------------------------------
# 2. The archive is down when the job runs, then comes up.
orthanc_config late
LATE="late=$(orthanc_aet late)@127.0.0.1:$(orthanc_port late)"
add_report 2 0 late
R2=$SOP J2=$JOB
t0=$(NOW_MS)
drv -a "$LATE" -r 2:4 -u idle -T 30
tap_is "2: archive down: job DEFERRED" "$(job_state "$J2")" DEFERRED
tap_is "2: job attempts 1, next_try about retry_min ahead, last_error names the archive" \
    "$(sql "SELECT attempts, next_try BETWEEN $t0 + 1000 AND $(NOW_MS) + 2500,
                   last_error LIKE 'late: network:%' FROM jobs WHERE id = $J2;")" "1|1|1"
tap_is "2: delivery not accepted, attempt and error recorded" \
    "$(dlv "$R2" late "coalesce(accepted_at, 'null'), attempts, last_error LIKE 'network:%'")" "null|1|1"
start_orthanc late || tap_bail_rest "Orthanc late did not start"
drv -a "$LATE" -r 2:4 -u final -T 30
tap_is "2: archive up: the retry delivers, job DONE" "$(job_state "$J2")" DONE
tap_is "2: delivery accepted on the second attempt" \
    "$(dlv "$R2" late "accepted_at IS NOT NULL, status, attempts")" "1|0|2"
tap_is "2: Orthanc holds exactly one copy" "$(orthanc_count late)" 1
tap_is "2: ... received once" "$(orthanc_received late "$R2")" 1

# ---------------------------------------------------------------------
# 3. Refusals: nothing is marked accepted, the job is DEFERRED.
# 3a. Wrong called AE title: Orthanc rejects the association.
add_report 3 0 wrongae
R3=$SOP J3=$JOB
drv -a "wrongae=NOTPACS@127.0.0.1:$(orthanc_port pacs)" -r 60:600 -u idle -T 30
tap_is "3a: association rejected: job DEFERRED" "$(job_state "$J3")" DEFERRED
tap_is "3a: delivery not accepted, rejection recorded" \
    "$(dlv "$R3" wrongae "coalesce(accepted_at, 'null'), coalesce(status, 'null'), last_error LIKE 'rejected-permanent:%Called AE Title Not Recognized%'")" \
    "null|null|1"
tap_is "3a: Orthanc got nothing" "$(orthanc_received pacs "$R3")" 0

# 3b. storescp whose output directory vanished answers 0xA700.
SPORT=$(free_port)
mkdir -p "$T/scp.out"
storescp -aet FAILSCP -od "$T/scp.out" "$SPORT" > "$T/storescp.log" 2>&1 &
DAEMON_PIDS="$DAEMON_PIDS $!"
wait_until 10 echoscu -aec FAILSCP 127.0.0.1 "$SPORT"
rmdir "$T/scp.out"
add_report 4 0 full
R4=$SOP J4=$JOB
drv -a "full=FAILSCP@127.0.0.1:$SPORT" -r 60:600 -u idle -T 30
tap_is "3b: failure status 0xA700: job DEFERRED" "$(job_state "$J4")" DEFERRED
tap_is "3b: delivery not accepted, status 0xA700 recorded" \
    "$(dlv "$R4" full "coalesce(accepted_at, 'null'), printf('0x%04X', status), last_error LIKE 'status 0xA700%'")" \
    "null|0xA700|1"
if grep -q "archive=full status=0xA700 refused" "$DLOG"; then
    tap_ok "3b: logged as refused with the status"
else
    tap_fail "3b: logged as refused with the status"
fi

# 3c. storescp aborts the association after the C-STORE request.
APORT=$(free_port)
storescp -aet ABORTSCP --abort-after --ignore "$APORT" > "$T/storescp.abort.log" 2>&1 &
DAEMON_PIDS="$DAEMON_PIDS $!"
wait_until 10 echoscu -aec ABORTSCP 127.0.0.1 "$APORT"
add_report 5 0 abort
R5=$SOP J5=$JOB
drv -a "abort=ABORTSCP@127.0.0.1:$APORT" -r 60:600 -u idle -T 30
tap_is "3c: aborted association: job DEFERRED" "$(job_state "$J5")" DEFERRED
tap_is "3c: delivery not accepted, abort recorded" \
    "$(dlv "$R5" abort "coalesce(accepted_at, 'null'), last_error LIKE 'aborted:%'")" "null|1"

# 3d. A failure status with an Error Comment.
fakescp c000 status C000 "cannot parse SR" || tap_bail_rest "fake SCP did not start"
add_report 6 0 fc000
R6=$SOP J6=$JOB
drv -a "fc000=ANY@127.0.0.1:$FPORT" -r 60:600 -u idle -T 30
tap_is "3d: status 0xC000: job DEFERRED" "$(job_state "$J6")" DEFERRED
tap_is "3d: not accepted; status and Error Comment recorded" \
    "$(dlv "$R6" fc000 "coalesce(accepted_at, 'null'), printf('0x%04X', status), last_error LIKE '%cannot parse SR%'")" \
    "null|0xC000|1"
tap_is "3d: the SCP did get the C-STORE" "$(fake_received c000 "$R6")" 1

# 3e. Presentation context refused.
fakescp noctx nocontext || tap_bail_rest "fake SCP did not start"
add_report 7 0 noctx
R7=$SOP J7=$JOB
drv -a "noctx=ANY@127.0.0.1:$FPORT" -r 60:600 -u idle -T 30
tap_is "3e: no presentation context: job DEFERRED" "$(job_state "$J7")" DEFERRED
tap_is "3e: not accepted, recorded as no-context, nothing sent" \
    "$(dlv "$R7" noctx "coalesce(accepted_at, 'null'), last_error LIKE 'no-context:%'")|$(fake_received noctx "$R7")" \
    "null|1|0"

# 3f. No response within dimse_timeout: the archive may have it, but did
# not say so, so it is not accepted.
fakescp hang hang || tap_bail_rest "fake SCP did not start"
add_report 8 0 hang
R8=$SOP J8=$JOB
drv -a "hang=ANY@127.0.0.1:$FPORT" -t 5:2 -r 60:600 -u idle -T 30
tap_is "3f: no response: job DEFERRED" "$(job_state "$J8")" DEFERRED
tap_is "3f: not accepted, timeout recorded" \
    "$(dlv "$R8" hang "coalesce(accepted_at, 'null'), last_error LIKE 'network:%dimse_timeout%'")" "null|1"

park "$J3" "$J4" "$J5" "$J6" "$J7" "$J8"

# 3g. Warning statuses count as accepted (PS3.4 B.2.3, PS3.7 C).
fakescp b000 status B000 "coerced" || tap_bail_rest "fake SCP did not start"
add_report 9 0 fb000
R9=$SOP J9=$JOB
drv -a "fb000=ANY@127.0.0.1:$FPORT" -u final -T 30
tap_is "3g: warning 0xB000: job DONE" "$?|$(job_state "$J9")" "0|DONE"
tap_is "3g: accepted with status 0xB000, warning kept" \
    "$(dlv "$R9" fb000 "accepted_at IS NOT NULL, printf('0x%04X', status), last_error LIKE 'warning 0xB000%coerced%'")" \
    "1|0xB000|1"
if grep -q "archive=fb000 status=0xB000 accepted with a warning" "$DLOG"; then
    tap_ok "3g: logged as accepted with a warning"
else
    tap_fail "3g: logged as accepted with a warning"
fi

# ---------------------------------------------------------------------
# 4. max_age: a report older than max_age that still fails is FAILED.
DEAD=$(free_port)
add_report 10 7200 dead
R10=$SOP J10=$JOB
drv -a "dead=DEAD@127.0.0.1:$DEAD" -m 3600 -r 1:2 -u idle -T 30
tap_is "4: too old and the archive is down: job FAILED" "$(job_state "$J10")" FAILED
tap_is "4: the reason names the archive and max_age" \
    "$(sql "SELECT last_error LIKE 'not accepted by dead within max_age (3600 s): dead: network:%' FROM jobs WHERE id = $J10;")" 1
tap_is "4: the delivery is not accepted" "$(dlv "$R10" dead "coalesce(accepted_at, 'null'), attempts")" "null|1"
# A too-old report is still tried once: if the archive takes it, it is DONE.
add_report 11 7200 pacs
R11=$SOP J11=$JOB
drv -a "$PACS" -m 3600 -u final -T 30
tap_is "4: a too-old report the archive accepts is DONE, not FAILED" "$(job_state "$J11")" DONE
tap_is "4: ... delivered once" "$(orthanc_received pacs "$R11")|$(dlv "$R11" pacs "accepted_at IS NOT NULL")" "1|1"

# ---------------------------------------------------------------------
# 5. Two archives, one down: the up one gets one copy, the down one is
# retried, and gets its copy when it comes up; the first gets no second.
orthanc_config second
SECOND="second=$(orthanc_aet second)@127.0.0.1:$(orthanc_port second)"
add_report 12 0 pacs second
S12=$STUDY R12=$SOP J12=$JOB
drv -a "$PACS" -a "$SECOND" -r 2:4 -u idle -T 30
tap_is "5: one archive down: job DEFERRED" "$(job_state "$J12")" DEFERRED
tap_is "5: the up archive accepted and holds one copy" \
    "$(dlv "$R12" pacs "accepted_at IS NOT NULL, attempts")|$(orthanc_received pacs "$R12")" "1|1|1"
tap_is "5: the down archive is pending with its error" \
    "$(dlv "$R12" second "coalesce(accepted_at, 'null'), attempts, last_error LIKE 'network:%'")" "null|1|1"
tap_is "5: the job's error names only the down archive" \
    "$(sql "SELECT last_error LIKE 'second: %' AND last_error NOT LIKE '%pacs%' FROM jobs WHERE id = $J12;")" 1
start_orthanc second || tap_bail_rest "Orthanc second did not start"
drv -a "$PACS" -a "$SECOND" -r 2:4 -u final -T 30
tap_is "5: both accepted: job DONE" "$(job_state "$J12")" DONE
tap_is "5: the second archive got exactly one copy" \
    "$(orthanc_received second "$R12")|$(orthanc_count second)" "1|1"
tap_is "5: the first archive got no second copy" \
    "$(orthanc_received pacs "$R12")|$(dlv "$R12" pacs attempts)" "1|1"
tap_is "5: C-STOREs tried: pacs once, second twice" \
    "$(grep -c "send: study=$S12 report=$R12 archive=pacs (" "$DLOG")|$(grep -c "send: study=$S12 report=$R12 archive=second (" "$DLOG")" \
    "1|2"

# 5b. Without a deliveries row (the sender adds one per configured archive).
add_report 13 0
R13=$SOP J13=$JOB
drv -a "$PACS" -u final -T 30
tap_is "5b: no deliveries row yet: one is made and delivered" \
    "$(job_state "$J13")|$(dlv "$R13" pacs "accepted_at IS NOT NULL")|$(orthanc_received pacs "$R13")" \
    "DONE|1|1"

# 5d. A relative reports.path is taken from the spool directory (-s).
add_report 16 0 pacs
R16=$SOP J16=$JOB
sql "UPDATE reports SET path = 'sr.16.dcm' WHERE sop_instance_uid = '$R16';"
drv -a "$PACS" -s "$T" -u final -T 30
tap_is "5d: a relative report path is found under the spool directory" \
    "$(job_state "$J16")|$(orthanc_received pacs "$R16")" "DONE|1"

# ---------------------------------------------------------------------
# 5c. A newer report arrives while the job is ACTIVE: the job goes back to
# INCOMING, and the new report is sent too; each exactly once.
fakescp slow delay 2 || tap_bail_rest "fake SCP did not start"
add_report 14 0 slow
S14=$STUDY R14=$SOP J14=$JOB
drv -a "slow=ANY@127.0.0.1:$FPORT" -u final -T 40 &
DRV=$!
wait_until 10 grep -qxF "$R14" "$T/fake.slow"
R14b=$R14.2
mksr "$T/sr.14b.dcm" "$S14" "$R14b"
sql "INSERT INTO reports (study_id, sop_instance_uid, series_uid, sop_class_uid, path, size,
       created_at, predecessor_id, model, findings, impression)
     SELECT study_id, '$R14b', '$R14b.1', sop_class_uid, '$T/sr.14b.dcm', 1, $(NOW_MS), id, 'test', 'f', 'i'
     FROM reports WHERE sop_instance_uid = '$R14';
     UPDATE reports SET superseded_by = (SELECT id FROM reports WHERE sop_instance_uid = '$R14b')
     WHERE sop_instance_uid = '$R14';
     INSERT INTO deliveries (report_id, archive)
     SELECT id, 'slow' FROM reports WHERE sop_instance_uid = '$R14b';"
tap_is "5c: the job was ACTIVE when the new report came" "$(job_state "$J14")" ACTIVE
wait "$DRV"
tap_is "5c: the job ends DONE" "$?|$(job_state "$J14")" "0|DONE"
if grep -q "J$J14: ACTIVE->INCOMING" "$DLOG"; then
    tap_ok "5c: ... after going ACTIVE -> INCOMING, not DONE"
else
    tap_fail "5c: ... after going ACTIVE -> INCOMING, not DONE" "$(grep "J$J14:" "$DLOG")"
fi
tap_is "5c: both reports delivered, each once" \
    "$(fake_received slow "$R14")|$(fake_received slow "$R14b")|$(dlv "$R14b" slow "accepted_at IS NOT NULL")" "1|1|1"

# ---------------------------------------------------------------------
# 6. sender_stop while idle is prompt (a deferred job is waiting).
drv -a "dead=DEAD@127.0.0.1:$DEAD" -u 2
ms=$(sed -n 's/^stop_ms=//p' "$T/drv.out")
if [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then
    tap_ok "6: sender_stop while idle took ${ms} ms"
else
    tap_fail "6: sender_stop while idle took under 1 s" "stop_ms=$ms"
fi
# ... and while a C-STORE waits for its response, within dimse_timeout.
add_report 15 0 hang
R15=$SOP J15=$JOB
fakescp hang2 hang || tap_bail_rest "fake SCP did not start"
drv -a "hang=ANY@127.0.0.1:$FPORT" -t 5:3 -r 60:600 -u 1
ms=$(sed -n 's/^stop_ms=//p' "$T/drv.out")
if [ -n "$ms" ] && [ "$ms" -lt 3000 ]; then
    tap_ok "6: sender_stop during a C-STORE took ${ms} ms (dimse_timeout 3 s)"
else
    tap_fail "6: sender_stop during a C-STORE is bounded by dimse_timeout" "stop_ms=$ms"
fi
tap_is "6: ... and that delivery is not accepted, the job DEFERRED" \
    "$(dlv "$R15" hang "coalesce(accepted_at, 'null')")|$(job_state "$J15")" "null|DEFERRED"

# ---------------------------------------------------------------------
# No delivery was ever marked accepted without a success or warning status.
tap_is "no accepted delivery without a success or warning status" \
    "$(sql "SELECT count(*) FROM deliveries WHERE accepted_at IS NOT NULL
            AND (status IS NULL OR NOT (status = 0 OR status = 1 OR status = 263
                 OR status = 278 OR (status BETWEEN 45056 AND 49151)));")" 0

stop_orthanc pacs
stop_orthanc late
stop_orthanc second
tap_done
