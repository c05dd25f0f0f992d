#!/bin/bash
# Hostile peers against one running radscribed: deep nesting in a C-STORE
# data set (implicit and deflated) and in a C-FIND identifier, half-sent
# association requests (one; fifty from fifty loopback addresses; fifty
# from one) while an allowed peer's C-ECHO
# must still be answered within 1 s, a P-DATA-TF announcing 4 GB, P-DATA
# after A-RELEASE-RQ, a 100 MB C-FIND identifier, malformed command sets,
# a C-STORE over max_instance_size and an RLE "decompression bomb" that
# claims 30000 x 30000 x 16 bits.  After each case: the same daemon process
# lives, C-ECHO from an allowed AE works and a two-view study stored at the
# start is unchanged (its spool files' SHA-256 and its instances rows).
# The raw peers are tests/e2e/dulclient.py sub-commands.
. "$(dirname "$0")/lib.sh"

# setup 1; per case: its own checks + 1 (alive, C-ECHO, baseline); end 2
tap_plan 34
need "$RADSCRIBED" storescu echoscu dcmsend dcmdump sqlite3 sha256sum timeout
need_pydicom
M=$top_srcdir/models
[ -f "$M/radscribe-cxr.gguf" ] && [ -f "$M/mmproj-radscribe-cxr.gguf" ] ||
    tap_bail_rest "the default model is not in $M"

CR=1.2.840.10008.5.1.4.1.1.1
TS_DEFLATED=1.2.840.10008.1.2.1.99
TS_RLE=1.2.840.10008.1.2.5
RAWAE=HOSTILE            # the raw client's calling AE title (allowed)

# max_instance_size 32M: above the 28 MB of the RLE bomb (case 10: PackBits
# packs at most 128 bytes into 2, so 1.8 GB of zeros take 28 MB), below
# the 34 MB of case 9.  max_decoded_size 256M: the bomb claims 1.8 GB,
# which the default (2G) would let through.  acse_timeout 10: the
# half-sent requests of cases 3 and 4 stay open while C-ECHO is measured.
write_conf hostile "max_instance_size = 32M" "max_decoded_size = 256M" \
    "acse_timeout = 10" "allow = STORESCU" "allow = ECHOSCU" \
    "allow = $RAWAE" "allow = DCMSEND" "allow_query = *"
start_daemon || tap_bail_rest "radscribed did not start"
PID0=$DPID          # the process now serving (a new one after a crash)
PID_START=$DPID     # the first one

# ----------------------------------------------------------- helpers ----
# new_uid: a fresh UID under 2.25
new_uid() { "$PY" -c 'import uuid; print("2.25.%d" % uuid.uuid4().int)'; }

# objects: the stored instance files under the spool, sorted
objects() { (cd "$SPOOL" && find objects -type f 2>/dev/null | sort); }

# baseline: SHA-256 of the baseline study's spool files and its rows
baseline() {
    local u p
    for u in $BASE_UIDS; do
        p=$(instance_path "$u") || { echo "no row for $u"; continue; }
        sha256sum "$p" 2>&1
    done
    sql "SELECT * FROM instances WHERE sop_instance_uid IN ('${BASE_UIDS// /\',\'}') ORDER BY id;"
}

# mark: remember where the daemon log ends; newlog: what came after
mark() { LOGMARK=$(wc -l < "$DLOG"); }
newlog() { tail -n +$((LOGMARK + 1)) "$DLOG"; }
# logged TEXT: a line after the mark holds TEXT; polls for up to 5 s
logged() { wait_until 5 newlog_has "$1"; }
newlog_has() { newlog | grep -qF -- "$1"; }

# snapshot / unchanged: nothing was stored in between (no instances row,
# no spool file)
snapshot() {
    SNAP_N=$(sql "SELECT count(*) FROM instances;")
    SNAP_OBJ=$(objects)
}
unchanged() {
    [ "$(sql "SELECT count(*) FROM instances;")" = "$SNAP_N" ] &&
        [ "$(objects)" = "$SNAP_OBJ" ]
}
stored_diff() {
    echo "instances: $SNAP_N before, $(sql "SELECT count(*) FROM instances;") now"
    diff <(echo "$SNAP_OBJ") <(objects) | head -n 5
}

# after_case N: the same radscribed process is alive, an allowed C-ECHO
# works and the baseline study is unchanged.  A dead daemon is reported
# (with its exit status and log) and started again for the next cases.
after_case() {
    local why=() out now rc
    if ! alive || [ "$DPID" != "$PID0" ]; then
        wait "$DPID" 2>/dev/null
        rc=$?
        why+=("radscribed (pid $PID0) is gone: exit status $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))")")
        why+=("$(tail -n 8 "$DLOG")")
    fi
    out=$(echo_ok 2>&1) || why+=("C-ECHO from ECHOSCU failed: $(tail -n 3 <<<"$out")")
    now=$(baseline)
    [ "$now" = "$BASE" ] || why+=("the baseline study changed:" "$(diff <(echo "$BASE") <(echo "$now"))")
    if [ ${#why[@]} -eq 0 ]; then
        tap_ok "$1: afterwards the same radscribed lives, C-ECHO works, the baseline study is unchanged"
    else
        tap_fail "$1: afterwards the same radscribed lives, C-ECHO works, the baseline study is unchanged" "${why[@]}"
        if ! alive; then
            DAEMON_PIDS=$(echo "$DAEMON_PIDS" | sed "s/\b$DPID\b//")
            start_daemon && PID0=$DPID
        fi
    fi
}

# rss_ok OUT: the "rss KB0 max KB1" line of a dulclient run shows less than
# 200 MB of growth
rss_ok() {
    local r0 r1
    read -r r0 r1 < <(sed -n 's/^rss \([0-9]*\) max \([0-9]*\)$/\1 \2/p' <<<"$1")
    [ -n "$r0" ] && [ "$r0" -gt 0 ] && [ $((r1 - r0)) -lt 204800 ]
}
# closed OUT: the peer closed or aborted the association (no response)
closed() { grep -qxE 'outcome (closed|aborted)' <<<"$1"; }
# sent_bytes OUT: N of the "sent N ..." line
sent_bytes() { sed -n 's/^sent \([0-9]*\) .*/\1/p' <<<"$1" | head -n 1; }

# ---------------------------------------------------------- baseline ----
mkstudy "$T/base" > /dev/null || tap_bail_rest "mkstudy failed"
storescu -v -aet STORESCU -aec "$AE" "$HOST" "$PORT" \
    "$T/base/frontal.dcm" "$T/base/lateral.dcm" > "$T/base.log" 2>&1
BASE_UIDS="$(sop_uid "$T/base/frontal.dcm") $(sop_uid "$T/base/lateral.dcm")"
nrows=$(sql "SELECT count(*) FROM instances WHERE sop_instance_uid IN ('${BASE_UIDS// /\',\'}');")
if [ "$(nacked "$T/base.log")" = 2 ] && [ "$nrows" = 2 ]; then
    tap_ok "baseline: storescu stored a two-view study (2 acknowledged, 2 rows)"
else
    tap_fail "baseline: storescu stored a two-view study (2 acknowledged, 2 rows)" \
        "acknowledged: $(nacked "$T/base.log"), rows: $nrows" "$(tail -n 5 "$T/base.log")"
    tap_bail_rest "no baseline study"
fi
BASE=$(baseline)
tap_diag "baseline:" "$BASE"

# ------------------------------------------ 1: deep nesting, C-STORE ----
# 300,000 sequences of undefined length, one inside the other (9.6 MB,
# implicit VR little endian): DCMTK's recursive parser would run off the
# thread's stack.
U=$(new_uid)
$DUL mkdeep "$T/deep.ds" 300000 --uids "$CR,$U,$(new_uid),$(new_uid)" > /dev/null
snapshot
mark
out=$($DUL store "$HOST" "$PORT" "$AE" "$RAWAE" "$T/deep.ds" "$CR" "$U" 2>&1)
if [ "$out" = "status 0xc000" ] && unchanged; then
    tap_ok "1: C-STORE of a data set nested 300,000 sequences deep: status 0xC000, nothing stored"
else
    tap_fail "1: C-STORE of a data set nested 300,000 sequences deep: status 0xC000, nothing stored" \
        "client: $out" "$(stored_diff)"
fi
if logged "sop=$U from=$RAWAE: refused with 0xC000: sequences nested deeper than 64"; then
    tap_ok "1: the log gives the reason (sequences nested deeper than 64)"
else
    tap_fail "1: the log gives the reason (sequences nested deeper than 64)" "$(newlog | grep -v debug | tail -n 5)"
fi
after_case 1

# ----------------------------------------- 2: deep nesting, C-FIND ----
# 30,000 levels (960 kB): under the 1 MiB identifier limit, so it is the
# nesting walk that refuses it.
$DUL mkdeep "$T/deepq.ds" 30000 --query > /dev/null
mark
out=$($DUL find "$HOST" "$PORT" "$AE" "$RAWAE" "$T/deepq.ds" 2>&1)
if closed "$out"; then
    tap_ok "2: C-FIND identifier nested 30,000 sequences deep: radscribed closed the association, no response"
else
    tap_fail "2: C-FIND identifier nested 30,000 sequences deep: radscribed closed the association, no response" "$out"
fi
if logged "connection closed: identifier refused: sequences nested deeper than 64"; then
    tap_ok "2: the log says \"identifier refused\" (sequences nested deeper than 64)"
else
    tap_fail "2: the log says \"identifier refused\" (sequences nested deeper than 64)" "$(newlog | grep -v debug | tail -n 5)"
fi
after_case 2

# ----------------------------- 3, 4: half-sent association requests ----
# halfrq N: N connections, each with an A-ASSOCIATE-RQ whose header says
# 200,000 bytes, of which 65,530 follow it (65,536 bytes in all: enough for
# a reader that waits for "64 KB or the whole PDU" to hand the socket to a
# parser that then blocks, holding a lock, for the rest); while they hang,
# C-ECHO from ECHOSCU (raw client, then echoscu) must be answered within
# 1 s each.
# halfrq N TAG [--spread] [WANT]: WANT (default 1): how many must still be
# open after the C-ECHO.
halfrq() {
    local n=$1 tag=$2 spread=${3:-} want=${4:-1} hp e1 e2 rc2 held t k from
    from=$([ -n "$spread" ] && echo "from $n loopback addresses" || echo "from one address")
    rm -f "$T/ready.$tag" "$T/stop.$tag"
    $DUL halfrq "$HOST" "$PORT" "$n" 200000 65530 "$T/ready.$tag" "$T/stop.$tag" 60 \
        $spread > "$T/halfrq.$tag.log" 2>&1 &
    hp=$!
    if ! wait_until 20 test -e "$T/ready.$tag"; then
        touch "$T/stop.$tag"
        wait "$hp"
        tap_fail "$tag: $n half-sent association request(s) $from hang; C-ECHO answered within 1 s meanwhile" \
            "the half-sent requests were not all sent: $(cat "$T/halfrq.$tag.log")"
        return
    fi
    e1=$($DUL echo "$HOST" "$PORT" "$AE" ECHOSCU 1 2>&1)
    e2=$(timeout 1 echoscu -to 1 -ta 1 -aet ECHOSCU -aec "$AE" "$HOST" "$PORT" 2>&1)
    rc2=$?
    touch "$T/stop.$tag"
    wait "$hp"
    held=$(cat "$T/halfrq.$tag.log")
    t=$(sed -n 's/^status 0x0000 in \([0-9.]*\) s$/\1/p' <<<"$e1")
    k=$(sed -n 's/^\([0-9]*\) of [0-9]* still open.*/\1/p' <<<"$held")
    if [ -n "$t" ] && [ $rc2 -eq 0 ] && [ "${k:-0}" -ge "$want" ]; then
        tap_ok "$tag: $n half-sent association request(s) $from hang; C-ECHO answered within 1 s meanwhile ($t s; timeout 1 echoscu too; $held)"
    else
        tap_fail "$tag: $n half-sent association request(s) $from hang; C-ECHO answered within 1 s meanwhile (at least $want still open then)" \
            "raw C-ECHO (1 s limit): $e1" "timeout 1 echoscu: exit $rc2 $(tail -n 2 <<<"$e2")" \
            "half-sent requests: $held"
    fi
}
halfrq 1 3 "" 1
after_case 3
# 4: fifty from fifty addresses, all of them still hanging when C-ECHO is
# answered; then fifty from one address (radscribed cuts the oldest past
# its per-host limit, but at least one must still hang)
halfrq 50 4 --spread 50
halfrq 50 4b "" 1
after_case 4

# ------------------------------------ 5: P-DATA-TF that says 4 GB ----
mark
out=$($DUL pdatalen "$HOST" "$PORT" "$AE" "$RAWAE" $((64 << 20)) --pid "$DPID" 2>&1)
n=$(sent_bytes "$out")
if closed "$out" && [ -n "$n" ] && [ "$n" -lt $((64 << 20)) ] && rss_ok "$out"; then
    tap_ok "5: P-DATA-TF with length 0xFFFFFFFF: closed after $n bytes, VmRSS grew < 200 MB ($(grep '^rss' <<<"$out"))"
else
    tap_fail "5: P-DATA-TF with length 0xFFFFFFFF: closed early, VmRSS grew < 200 MB" "$out"
fi
if logged "connection closed: P-DATA-TF PDU longer than the maximum length announced"; then
    tap_ok "5: the log says why (P-DATA-TF PDU longer than the maximum length announced)"
else
    tap_fail "5: the log says why (P-DATA-TF PDU longer than the maximum length announced)" "$(newlog | grep -v debug | tail -n 5)"
fi
after_case 5

# ------------------------------------ 6: P-DATA after A-RELEASE-RQ ----
snapshot
out=$($DUL afterrelease "$HOST" "$PORT" "$AE" "$RAWAE" 2>&1)
a=$(sed -n 's/^a: //p' <<<"$out" | tail -n 1)
b=$(sed -n 's/^b: got //p' <<<"$out")
if grep -qE '^got \[(0x06)?\], (closed|reset) after' <<<"$a"; then
    tap_ok "6a: A-RELEASE-RQ, then C-ECHO-RQ fragments: $a"
else
    tap_fail "6a: A-RELEASE-RQ, then C-ECHO-RQ fragments: A-RELEASE-RP at most, then closed" "$out"
fi
if grep -qE '^\[(0x06|0x07)?\], (closed|reset) after' <<<"$b" && unchanged; then
    tap_ok "6b: C-STORE begun, A-RELEASE-RQ, more data fragments: closed ($b), nothing stored"
else
    tap_fail "6b: C-STORE begun, A-RELEASE-RQ, more data fragments: closed, nothing stored" "$out" "$(stored_diff)"
fi
after_case 6

# ----------------------------------------- 7: 100 MB C-FIND identifier ----
mark
out=$($DUL bigfind "$HOST" "$PORT" "$AE" "$RAWAE" 104857600 --pid "$DPID" 2>&1)
n=$(sent_bytes "$out")
# 1 MiB is the limit; loopback socket buffers take a few MB more
if closed "$out" && [ -n "$n" ] && [ "$n" -lt $((32 << 20)) ] && rss_ok "$out"; then
    tap_ok "7: 100 MB C-FIND identifier: closed after $n bytes, VmRSS grew < 200 MB ($(grep '^rss' <<<"$out"))"
else
    tap_fail "7: 100 MB C-FIND identifier: closed early, VmRSS grew < 200 MB" "$out"
fi
if logged "connection closed: identifier longer than 1 MiB"; then
    tap_ok "7: the log says why (identifier longer than 1 MiB)"
else
    tap_fail "7: the log says why (identifier longer than 1 MiB)" "$(newlog | grep -v debug | tail -n 5)"
fi
after_case 7

# ----------------------------------------- 8: malformed command sets ----
badcmd() {
    local variant=$1 reason=$2 desc=$3 out
    mark
    out=$($DUL badcmd "$HOST" "$PORT" "$AE" "$RAWAE" "$variant" 2>&1)
    if closed "$out" && logged "connection closed: $reason"; then
        tap_ok "8: command set with $desc: closed (log: $reason)"
    else
        tap_fail "8: command set with $desc: closed, the log says \"$reason\"" "$out" \
            "$(newlog | grep -v debug | tail -n 5)"
    fi
}
badcmd undef "command element longer than the command set" \
    "an element of undefined length holding an item"
badcmd group "command set holds an element outside group 0000" \
    "an element of group 0008"
badcmd big "command set longer than 64 KiB" "70,000 bytes in fragments"
after_case 8

# -------------------------------------- 9: C-STORE > max_instance_size ----
U=$(new_uid)
"$PY" - "$T/big.ds" "$CR" "$U" "$(new_uid)" "$(new_uid)" <<'PYEOF'
import struct, sys
out, cls, inst, study, series = sys.argv[1:6]
def el(g, e, v):
    if len(v) % 2:
        v += b"\0"
    return struct.pack("<HHI", g, e, len(v)) + v
n = 34 << 20    # 34 MiB of pixels: over max_instance_size (32M)
with open(out, "wb") as f:
    f.write(el(0x0008, 0x0016, cls.encode()) + el(0x0008, 0x0018, inst.encode()) +
            el(0x0010, 0x0020, b"RS-HOSTILE") + el(0x0020, 0x000D, study.encode()) +
            el(0x0020, 0x000E, series.encode()) +
            el(0x0028, 0x0010, struct.pack("<H", 4096)) +
            el(0x0028, 0x0011, struct.pack("<H", 4352)) +
            struct.pack("<HHI", 0x7FE0, 0x0010, n))
    z = b"\0" * (1 << 20)
    for _ in range(n >> 20):
        f.write(z)
PYEOF
snapshot
mark
out=$($DUL store "$HOST" "$PORT" "$AE" "$RAWAE" "$T/big.ds" "$CR" "$U" 2>&1)
if [ "$out" = "status 0xa700" ] && unchanged &&
   logged "sop=$U from=$RAWAE: refused with 0xA700: instance larger than max_instance_size"; then
    tap_ok "9: C-STORE of 34 MiB with max_instance_size = 32M: status 0xA700, nothing stored, reason logged"
else
    tap_fail "9: C-STORE of 34 MiB with max_instance_size = 32M: status 0xA700, nothing stored, reason logged" \
        "client: $out" "$(stored_diff)" "$(newlog | grep -v debug | tail -n 3)"
fi
rm -f "$T/big.ds"
after_case 9

# ------------------------------------------- 10: decoded-pixel bomb ----
# A CR image 30000 x 30000, 16 bits allocated, all zeros, RLE Lossless
# (PS3.5 Annex G): a 64-byte header (2 segments: high bytes, low bytes),
# each row of each segment 234 replicate runs of 128 zeros (0x81 0x00) and
# one of 48 (0xD1 0x00).  1.8 GB decoded, 28 MB encoded.
mkdir -p "$T/bomb"
"$PY" - "$T/base/frontal.dcm" "$T/bomb/bomb.dcm" <<'PYEOF' || tap_diag "the bomb was not made"
import struct, sys
import pydicom
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid
src, out = sys.argv[1:3]
R = C = 30000
row = b"\x81\x00" * (C // 128) + bytes([257 - C % 128, 0])
seg = row * R
hdr = struct.pack("<16I", 2, 64, 64 + len(seg), *([0] * 13))
frame = hdr + seg + seg
ds = pydicom.dcmread(src)
ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
ds.Modality = "CR"
for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
    setattr(ds, k, generate_uid())
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.PatientID = "RS-BOMB"
ds.Rows, ds.Columns = R, C
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
ds.PixelRepresentation = 0
for k in ("WindowCenter", "WindowWidth", "NumberOfFrames"):
    if k in ds:
        delattr(ds, k)
ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.5"
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.PixelData = encapsulate([frame])
ds["PixelData"].VR = "OB"
ds["PixelData"].is_undefined_length = True
ds.save_as(out, write_like_original=False)
PYEOF
BOMB_STUDY=$(study_uid "$T/bomb/bomb.dcm")
BOMB_SOP=$(sop_uid "$T/bomb/bomb.dcm")
size=$(stat -c %s "$T/bomb/bomb.dcm" 2>/dev/null || echo 0)
dcmsend -v +v -dn -aet DCMSEND -aec "$AE" "$HOST" "$PORT" "$T/bomb/bomb.dcm" \
    > "$T/bomb/send.log" 2>&1
rc=$?
got=$(sql "SELECT transfer_syntax FROM instances WHERE sop_instance_uid='$BOMB_SOP';")
if [ $rc -eq 0 ] && grep -qE 'with status SUCCESS +: 1$' "$T/bomb/send.log" &&
   [ "$got" = "$TS_RLE" ]; then
    tap_ok "10: RLE CR 30000x30000x16 bits of zeros ($size bytes): dcmsend acknowledged, stored in RLE"
else
    tap_fail "10: RLE CR 30000x30000x16 bits of zeros: dcmsend acknowledged, stored in RLE" \
        "dcmsend exit $rc, $size bytes, stored transfer syntax '$got'" "$(tail -n 8 "$T/bomb/send.log")"
fi
job_state() {
    sql "SELECT j.state || '|' || coalesce(j.last_error, '') FROM jobs j
         JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = 'infer';"
}
bomb_failed() { grep -q '^FAILED|' <<<"$(job_state "$BOMB_STUDY")"; }
wait_until 60 bomb_failed
st=$(job_state "$BOMB_STUDY")
if grep -qE '^FAILED\|.*pixel data would decode to 1800000000 bytes' <<<"$st"; then
    tap_ok "10: its infer job ended FAILED: ${st#FAILED|}"
else
    tap_fail "10: its infer job ended FAILED with \"pixel data would decode to 1800000000 bytes\"" \
        "job: '$st'" "$(grep -v debug "$DLOG" | tail -n 5)"
fi
rm -rf "$T/bomb"
after_case 10

# ----------------------------------- 11: deep nesting, deflated C-STORE ----
U=$(new_uid)
$DUL mkdeep "$T/deep.dfl" 300000 --deflate --uids "$CR,$U,$(new_uid),$(new_uid)" > /dev/null
snapshot
mark
out=$($DUL store "$HOST" "$PORT" "$AE" "$RAWAE" "$T/deep.dfl" "$CR" "$U" --ts "$TS_DEFLATED" 2>&1)
if [ "$out" = "status 0xc000" ] && unchanged &&
   logged "sop=$U from=$RAWAE: refused with 0xC000: sequences nested deeper than 64"; then
    tap_ok "11: deflated C-STORE ($(stat -c %s "$T/deep.dfl") bytes) nested 300,000 deep: status 0xC000, nothing stored, reason logged"
else
    tap_fail "11: deflated C-STORE nested 300,000 deep: status 0xC000, nothing stored, reason logged" \
        "client: $out" "$(stored_diff)" "$(newlog | grep -v debug | tail -n 3)"
fi
after_case 11

# ---------------------------------------------------------------- end ----
tap_is "the daemon is the same process as at start" "$DPID" "$PID_START"
stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0

tap_done
