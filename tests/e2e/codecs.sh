#!/bin/bash
# Compressed studies, end to end: one two-view chest study (IU X-ray, 12 bits
# stored in 16 allocated, plus an 8-bit copy for JPEG baseline) encoded by
# third-party tools (DCMTK dcmconv, dcmcjpeg, dcmcjpls, dcmcrle; GDCM
# gdcmconv) in every transfer syntax radscribed accepts for storage, each
# copy its own study, sent in that syntax by dcmsend (also by gdcmscu for
# JPEG-LS and JPEG 2000; implicit VR by storescu -xi): stored in it, drafted, and a lossless copy gets exactly the Findings of the
# uncompressed study.  Broken and hostile JPEG 2000 codestreams are stored,
# end FAILED with a JPEG 2000 reason (or draft where OpenJPEG reads them),
# and the daemon keeps serving.  The start-up codec self-check, in the
# daemon log and through tests/tools/greydump.
. "$(dirname "$0")/lib.sh"

GREYDUMP=$top_builddir/tests/tools/greydump
TS_EXPL=1.2.840.10008.1.2.1
TS_J2K=1.2.840.10008.1.2.4.90

# The studies that must draft.  One line each:
#   NAME BITS ENCODER TRANSFER-SYNTAX KIND SENDER
# ENCODER (see encode below) turns the uncompressed copy into TRANSFER-SYNTAX;
# KIND ref: the uncompressed study of that bit depth, whose Findings the
# lossless ones must repeat exactly; lossy: Findings must not be empty.
# SENDER dcmsend, gdcmscu or storescu: each proposes only the file's own
# syntax (see send_study), so what is stored is what the tool wrote.
VARIANTS="
ref12        12 none  1.2.840.10008.1.2.1    ref      dcmsend
implicit12   12 ti    1.2.840.10008.1.2      lossless storescu
deflated12   12 td    1.2.840.10008.1.2.1.99 lossless dcmsend
jpeg-ext12   12 ee    1.2.840.10008.1.2.4.51 lossy    dcmsend
jpeg-sv1-12  12 e1    1.2.840.10008.1.2.4.70 lossless dcmsend
jls12        12 el    1.2.840.10008.1.2.4.80 lossless dcmsend
jls-near12   12 en    1.2.840.10008.1.2.4.81 lossy    dcmsend
rle12        12 rle   1.2.840.10008.1.2.5    lossless dcmsend
j2k12        12 j2k   1.2.840.10008.1.2.4.90 lossless dcmsend
j2k-lossy12  12 j2kr3 1.2.840.10008.1.2.4.91 lossy    dcmsend
jls12-gdcm      12 el    1.2.840.10008.1.2.4.80 lossless gdcmscu
jls-near12-gdcm 12 en    1.2.840.10008.1.2.4.81 lossy    gdcmscu
j2k12-gdcm      12 j2k   1.2.840.10008.1.2.4.90 lossless gdcmscu
j2k-lossy12-gdcm 12 j2kr3 1.2.840.10008.1.2.4.91 lossy   gdcmscu
ref8         8  none  1.2.840.10008.1.2.1    ref      dcmsend
jpeg-base8   8  eb    1.2.840.10008.1.2.4.50 lossy    dcmsend
jls8         8  el    1.2.840.10008.1.2.4.80 lossless dcmsend
j2k8         8  j2k   1.2.840.10008.1.2.4.90 lossless dcmsend
"
# Hostile JPEG 2000 (12-bit, lossless): the frontal view's codestream is
# changed (mangle below), the lateral is left valid.  NAME OUTCOME
#   garbled    the 256 bytes after the main header (the first tile-part
#              header, SOT) overwritten: OpenJPEG finds no marker there.
#              (Garbling only entropy-coded packet data is not detectable:
#              JPEG 2000 has no checksum, OpenJPEG decodes such a stream to
#              a wrong image without an error, so that is not tested.)
#   truncated  the codestream cut to half its length: OpenJPEG in strict
#              mode (its default, kept by j2k.cc) refuses it ("Tile part
#              length size inconsistent with stream length").
#   com-rcme   a COM marker segment in the main header whose registration
#              value Rcme is 0xBEEF (T.800 defines only 0 and 1).  OpenJPEG
#              2.5 skips COM segments by their length without looking at
#              the content, so this decodes, and decodes to the same pixels:
#              drafted, with the Findings of the uncompressed study.
#   com-short  a COM segment whose length Lcom (4) is shorter than the text
#              that follows it (vendor bug; cf. pydicom issue 966, a COM
#              marker that broke a codestream).  OpenJPEG resumes parsing
#              inside the text and fails: "A marker ID was expected (0xff--)
#              instead of 00007261".  No resynchronisation: FAILED.
# opj_decompress (libopenjp2-tools, same OpenJPEG 2.5) gives the same
# verdicts on the raw codestreams; the test checks that too.
HOSTILE="
garbled   FAILED
truncated FAILED
com-rcme  DONE
com-short FAILED
"
nvar=$(echo "$VARIANTS" | grep -c .)
nhost=$(echo "$HOSTILE" | grep -c .)
# per variant: encoded, stored, drafted; per hostile study: stored, outcome;
# coverage, greydump pixels, all done, self-check log, no "cannot decode",
# opj_decompress, pid alive, C-ECHO, "cannot decode" names only hostile
# studies, greydump -c, greydump -n -c
tap_plan $((3 * nvar + 2 * nhost + 11))
need "$RADSCRIBED" "$RADSCRIBE" "$GREYDUMP" dcmsend storescu gdcmscu gdcmconv dcmconv \
    dcmcjpeg dcmcjpls dcmcrle dcmdump echoscu sqlite3
need_pydicom
[ -f "$SHARED_DATA/iuxray/images/169_frontal.png" ] &&
    [ -f "$SHARED_DATA/iuxray/images/169_lateral.png" ] ||
    tap_bail_rest "no IU X-ray study 169 in $SHARED_DATA"
M=$top_srcdir/models
[ -f "$M/radscribe-cxr.gguf" ] && [ -f "$M/mmproj-radscribe-cxr.gguf" ] ||
    tap_bail_rest "the default model is not in $M"

# ------------------------------------------------------------ fixtures ----
mkstudy "$T/src8" --pair iuxray:169 > /dev/null ||
    tap_bail_rest "mkstudy failed"
# mkdicom.py writes 8 bits stored; the 12-bit study is made here: v12 =
# v8 << 4 | v8 >> 4 (the full 0..4095 range), Bits Allocated 16, Bits
# Stored 12, High Bit 11, OW, window 2048/4096.  Then one uncompressed copy
# per study (variants and hostile ones) with new Study, Series and SOP
# Instance UIDs: $T/v/NAME/{frontal,lateral}.dcm.
names12=$(echo "$VARIANTS" | awk '$2 == 12 { print $1 }'; echo "$HOSTILE" | awk 'NF { print $1 }')
names8=$(echo "$VARIANTS" | awk '$2 == 8 { print $1 }')
"$PY" - "$T/src8" "$T/v" "$names12" "$names8" <<'PYEOF' || tap_bail_rest "fixture generation failed"
import os, sys
import numpy as np
import pydicom
from pydicom.uid import generate_uid
src, out, n12, n8 = sys.argv[1:5]
views = ("frontal", "lateral")
base8 = {v: pydicom.dcmread(os.path.join(src, v + ".dcm")) for v in views}
base12 = {}
for v, ds in base8.items():
    d = pydicom.dcmread(os.path.join(src, v + ".dcm"))
    a = ds.pixel_array.astype(np.uint16)
    a = (a << 4) | (a >> 4)
    d.BitsAllocated = 16
    d.BitsStored = 12
    d.HighBit = 11
    d.PixelData = a.astype("<u2").tobytes()
    d["PixelData"].VR = "OW"
    d.WindowCenter = "2048"
    d.WindowWidth = "4096"
    base12[v] = d
for names, base in ((n12, base12), (n8, base8)):
    for name in names.split():
        os.makedirs(os.path.join(out, name), exist_ok=True)
        study = generate_uid()
        for v in views:
            d = base[v]
            d.StudyInstanceUID = study
            d.SeriesInstanceUID = generate_uid()
            d.SOPInstanceUID = generate_uid()
            d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
            d.PatientID = "RSCODEC-" + name
            d.save_as(os.path.join(out, name, v + ".dcm"), write_like_original=False)
PYEOF

# encode HOW IN OUT
encode() {
    case $1 in
        none) cp "$2" "$3" ;;
        ti|td) dcmconv -q "+$1" "$2" "$3" ;;
        eb|ee|e1) dcmcjpeg -q "+$1" "$2" "$3" ;;
        el|en) dcmcjpls -q "+$1" "$2" "$3" ;;
        rle) dcmcrle -q "$2" "$3" ;;
        j2k) gdcmconv --j2k "$2" "$3" ;;
        # not -q 30: gdcmconv's quality-layer output is garbage even to
        # GDCM itself; a rate of 3 is a real lossy codestream
        j2kr3) gdcmconv --j2k --lossy -r 3 "$2" "$3" > /dev/null ;;
        *) return 1 ;;
    esac
}

# tool HOW: the command line encode runs, for the test descriptions
tool() {
    case $1 in
        none) echo "pydicom (uncompressed)" ;; ti|td) echo "dcmconv +$1" ;;
        eb|ee|e1) echo "dcmcjpeg +$1" ;; el|en) echo "dcmcjpls +$1" ;;
        rle) echo dcmcrle ;; j2k) echo "gdcmconv --j2k" ;;
        j2kr3) echo "gdcmconv --j2k --lossy -r 3" ;;
    esac
}

# encode_study NAME HOW: both views of $T/v/NAME in place
encode_study() {
    local v
    for v in frontal lateral; do
        encode "$2" "$T/v/$1/$v.dcm" "$T/v/$1/$v.enc" 2> "$T/v/$1/$v.enc.log" &&
            mv "$T/v/$1/$v.enc" "$T/v/$1/$v.dcm" || return 1
    done
}

# ts_of NAME: the transfer syntaxes of the two files, "TS TS"
ts_of() {
    echo "$(dcm_attr "$T/v/$1/frontal.dcm" TransferSyntaxUID)" \
        "$(dcm_attr "$T/v/$1/lateral.dcm" TransferSyntaxUID)"
}

# mangle MODE NAME: change the frontal view's JPEG 2000 codestream; the
# changed codestream is also written to $T/raw/NAME.j2k
mkdir -p "$T/raw"
mangle() {
    "$PY" - "$1" "$T/v/$2/frontal.dcm" "$T/raw/$2.j2k" <<'PYEOF'
import random, struct, sys
import pydicom
from pydicom.encaps import encapsulate, generate_pixel_data_frame
mode, path, raw = sys.argv[1:4]
ds = pydicom.dcmread(path)
cs = next(generate_pixel_data_frame(ds.PixelData))
assert cs[:4] == b"\xff\x4f\xff\x51", "not a codestream"
# end of the main header: the first SOT marker, after SOC and the segments
sot = 2
while struct.unpack(">H", cs[sot:sot + 2])[0] != 0xff90:
    sot += 2 + struct.unpack(">H", cs[sot + 2:sot + 4])[0]
text = b"radscribe e2e: malformed COM"
if mode == "garbled":
    r = random.Random(966)
    b = bytearray(cs)
    for i in range(sot, sot + 256):
        b[i] = r.randrange(256)
    b[sot] = 0x5a                      # certainly no marker there
    cs = bytes(b)
elif mode == "truncated":
    cs = cs[:len(cs) // 2 & ~1]
elif mode == "com-rcme":
    cs = cs[:sot] + b"\xff\x64" + struct.pack(">HH", 4 + len(text), 0xbeef) + text + cs[sot:]
elif mode == "com-short":
    cs = cs[:sot] + b"\xff\x64" + struct.pack(">HH", 4, 1) + text + cs[sot:]
else:
    sys.exit("bad mode " + mode)
open(raw, "wb").write(cs)
ds.PixelData = encapsulate([cs])
ds.save_as(path)
PYEOF
}

declare -A STUDY ENC_OK
while read -r name bits how ts kind sender; do
    [ -n "$name" ] || continue
    if encode_study "$name" "$how"; then
        ENC_OK[$name]=$(ts_of "$name")
    else
        ENC_OK[$name]="encoder $how failed: $(cat "$T/v/$name"/*.enc.log)"
    fi
    STUDY[$name]=$(study_uid "$T/v/$name/frontal.dcm")
done <<< "$VARIANTS"
while read -r name outcome; do
    [ -n "$name" ] || continue
    if encode_study "$name" j2k && mangle "$name" "$name"; then
        ENC_OK[$name]=$(ts_of "$name")
    else
        ENC_OK[$name]="fixture failed"
    fi
    STUDY[$name]=$(study_uid "$T/v/$name/frontal.dcm")
done <<< "$HOSTILE"

# ------------------------------------------------------------- daemon ----
write_conf codecs "settle_time = 1"
start_daemon || tap_bail_rest "radscribed did not start"

# send_study NAME SENDER: both views of $T/v/NAME, in the file's own syntax
send_study() {
    local d=$T/v/$1 f
    case $2 in
        dcmsend)
            # -dn: never decompress, so dcmsend proposes the file's syntax
            # and sends the file as it is, or not at all.  dcmsend exits 0
            # even when no context was accepted ("NOT sent to the peer"):
            # its summary must count both files as acknowledged.
            dcmsend -v +v -dn -aet CODECS -aec "$AE" "$HOST" "$PORT" \
                "$d/frontal.dcm" "$d/lateral.dcm" > "$d/send.log" 2>&1 &&
                grep -qE 'with status SUCCESS +: 2$' "$d/send.log"
            ;;
        storescu)
            # For an uncompressed file dcmsend proposes one context with
            # explicit LE, explicit BE, implicit LE, in that order, even
            # with -dn; radscribed takes the peer's order and an implicit
            # file arrives converted to explicit.  storescu -xi proposes
            # implicit VR little endian only.
            storescu -v -xi -aet CODECS -aec "$AE" "$HOST" "$PORT" \
                "$d/frontal.dcm" "$d/lateral.dcm" > "$d/send.log" 2>&1 &&
                [ "$(nacked "$d/send.log")" -eq 2 ]
            ;;
        gdcmscu)
            # gdcmscu proposes one context per file with just the file's own
            # transfer syntax and does not transcode (checked against
            # storescp -d: "Proposed Transfer Syntax(es): =JPEGLSLossless"
            # alone).  gdcmscu 3.0.21 aborts (SIGABRT, "ProtocolStream as
            # nullptr is invalid") while releasing every association, with
            # any SCP, after its operations: its exit status means nothing;
            # -D logs each successful C-STORE.
            { gdcmscu -D --store --aetitle GDCMSCU --call "$AE" -H "$HOST" -p "$PORT" \
                -i "$d/frontal.dcm" -i "$d/lateral.dcm" > "$d/send.log" 2>&1; } 2>/dev/null
            for f in frontal lateral; do
                grep -qF "C-Store of file $d/$f.dcm was successful" "$d/send.log" ||
                    return 1
            done
            ;;
    esac
}

# stored_ts NAME: "TS|COUNT" of the study's instances in the database
stored_ts() {
    sql "SELECT group_concat(DISTINCT i.transfer_syntax), count(*)
         FROM instances i JOIN studies s ON s.id = i.study_id
         WHERE s.study_uid = '${STUDY[$1]}';" | tr '\n' ' ' | sed 's/ $//'
}
job_state() {
    sql "SELECT j.state FROM jobs j JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = 'infer';"
}
job_error() {
    sql "SELECT j.last_error FROM jobs j JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = 'infer';"
}
# finished UID...: every study's infer job is DONE or FAILED (one query:
# wait_until counts polls, not seconds)
finished() {
    local list
    list=$(printf "'%s'," "$@")
    [ "$(sql "SELECT count(*) FROM jobs j JOIN studies s ON s.id = j.study_id
              WHERE j.stage = 'infer' AND j.state IN ('DONE', 'FAILED')
              AND s.study_uid IN (${list%,});")" = $# ]
}
# findings UID: the Findings of the study's report (radscribe report --format json)
findings() {
    rs report "$1" --format json | json_get 'j["findings"]'
}

# 1: the test covers every syntax the daemon accepts, and no other
accepted=$("$RADSCRIBED" -n -f "$CONF" |
    sed -n '/transfer syntaxes accepted for storage/,$ s/^#   \([0-9.]*\) .*/\1/p' | sort)
covered=$(echo "$VARIANTS" | awk 'NF { print $4 }' | sort -u)
tap_is "the studies cover exactly the $(echo "$accepted" | wc -l) transfer syntaxes radscribed -n lists" \
    "$(echo $covered)" "$(echo $accepted)"

# per variant: 1 encoded, 2 sent and stored in its syntax
while read -r name bits how ts kind sender; do
    [ -n "$name" ] || continue
    tap_is "$name: $(tool "$how") wrote both views in $ts" "${ENC_OK[$name]}" "$ts $ts"
    if send_study "$name" "$sender"; then rc=0; else rc=$?; fi
    got=$(stored_ts "$name")
    if [ $rc -eq 0 ] && [ "$got" = "$ts|2" ]; then
        tap_ok "$name: $sender sent it, radscribed stored both views in $ts"
    else
        tap_fail "$name: $sender sent it, radscribed stored both views in $ts" \
            "$sender exit $rc; stored: '$got'" "$(grep -v '^$' "$T/v/$name/send.log" | tail -n 8)"
    fi
done <<< "$VARIANTS"

good=$(for n in $(echo "$VARIANTS" | awk 'NF { print $1 }'); do echo "${STUDY[$n]}"; done)
t0=$(date +%s)
if wait_until 120 finished $good; then
    tap_ok "all $nvar studies drafted or failed ($(( $(date +%s) - t0 )) s)"
else
    tap_fail "all $nvar studies drafted or failed" \
        "$(sql "SELECT j.state, count(*) FROM jobs j WHERE j.stage='infer' GROUP BY 1;")"
fi

# per variant: 3 drafted, Findings as the reference (lossless) or not empty
declare -A REF
while read -r name bits how ts kind sender; do
    [ -n "$name" ] || continue
    u=${STUDY[$name]}
    st=$(job_state "$u")
    f=$(findings "$u" 2>&1)
    [ "$kind" = ref ] && REF[$bits]=$f
    case $kind in
        ref) what="$name: drafted (the uncompressed $bits-bit reference), Findings not empty"
             [ "$st" = DONE ] && [ -n "$f" ] ;;
        lossless) what="$name: drafted, Findings identical to the uncompressed $bits-bit study's"
             [ "$st" = DONE ] && [ -n "$f" ] && [ "$f" = "${REF[$bits]}" ] ;;
        lossy) what="$name: drafted (lossy), Findings not empty"
             [ "$st" = DONE ] && [ -n "$f" ] ;;
    esac
    if [ $? -eq 0 ]; then
        tap_ok "$what"
    else
        tap_fail "$what" "infer job: '$st' $(job_error "$u")" "findings:  '$f'" \
            "reference: '${REF[$bits]}'"
    fi
done <<< "$VARIANTS"

# The worker's pixel path on its own: every lossless copy renders to the
# same 8-bit grey as the uncompressed study of its bit depth.
bad=
while read -r name bits how ts kind sender; do
    [ -n "$name" ] && [ "$kind" != lossy ] || continue
    for v in frontal lateral; do
        "$GREYDUMP" "$T/v/$name/$v.dcm" "$T/v/$name/$v.pgm" 2>> "$T/greydump.err" ||
            bad="$bad $name/$v(error)"
    done
    [ "$kind" = ref ] && continue
    ref=$(echo "$VARIANTS" | awk -v b="$bits" '$2 == b && $5 == "ref" { print $1 }')
    for v in frontal lateral; do
        cmp -s "$T/v/$name/$v.pgm" "$T/v/$ref/$v.pgm" || bad="$bad $name/$v"
    done
done <<< "$VARIANTS"
tap_is "greydump: the lossless copies render to the same grey pixels as the uncompressed ones" \
    "${bad# }" "" || tap_diag "$(tail -n 5 "$T/greydump.err")"

tap_check "daemon log: codec self-check: 11 transfer syntaxes decoded" \
    grep -q "codec self-check: 11 transfer syntaxes decoded" "$DLOG"
n=$(grep -c "cannot decode" "$DLOG")
tap_is "daemon log: no \"cannot decode\" for the $nvar good studies" "$n" 0 ||
    tap_diag "$(grep "cannot decode" "$DLOG" | head -n 3)"

# ------------------------------------------------------------ hostile ----
# opj_decompress (Debian libopenjp2-tools) is needed by one check only: its
# absence fails that one, not the whole script
verdicts=
while read -r name outcome; do
    [ -n "$name" ] || continue
    if ! command -v opj_decompress > /dev/null; then
        verdicts="$verdicts $name:opj_decompress-not-installed"
    elif opj_decompress -i "$T/raw/$name.j2k" -o "$T/raw/$name.pgm" > "$T/raw/$name.log" 2>&1; then
        verdicts="$verdicts $name:DONE"
    else
        verdicts="$verdicts $name:FAILED"
    fi
    if [ "${ENC_OK[$name]}" = "$TS_J2K $TS_J2K" ] && send_study "$name" dcmsend &&
       [ "$(stored_ts "$name")" = "$TS_J2K|2" ]; then
        tap_ok "$name: JPEG 2000 study sent by dcmsend, acknowledged and stored"
    else
        tap_fail "$name: JPEG 2000 study sent by dcmsend, acknowledged and stored" \
            "fixture: ${ENC_OK[$name]}; stored: '$(stored_ts "$name")'" \
            "$(grep -v '^$' "$T/v/$name/send.log" | tail -n 8)"
    fi
done <<< "$HOSTILE"
want=$(echo "$HOSTILE" | awk 'NF { printf " %s:%s", $1, $2 }')
tap_is "opj_decompress (OpenJPEG 2.5) on the raw codestreams: the same verdicts" \
    "$verdicts" "$want" || tap_diag "$(cat "$T"/raw/*.log | grep -i error | head -n 6)"

hostile=$(for n in $(echo "$HOSTILE" | awk 'NF { print $1 }'); do echo "${STUDY[$n]}"; done)
wait_until 60 finished $hostile
# the worker's words: "unreadable pixels: FILE: cannot decode transfer syntax
# NAME (UID): " and then j2k.cc's OFCondition text, "JPEG 2000: ..."
J2K_ERR='^unreadable pixels: .*: cannot decode transfer syntax [^:]* \(1\.2\.840\.10008\.1\.2\.4\.90\): JPEG 2000: [^ ]'

while read -r name outcome; do
    [ -n "$name" ] || continue
    u=${STUDY[$name]}
    st=$(job_state "$u")
    err=$(job_error "$u")
    if [ "$outcome" = FAILED ]; then
        if [ "$st" = FAILED ] && grep -qE "$J2K_ERR" <<<"$err"; then
            tap_ok "$name: infer job FAILED, the reason names JPEG 2000 (JPEG 2000: ${err##*: JPEG 2000: })"
        else
            tap_fail "$name: infer job FAILED with a JPEG 2000 reason" "state '$st'" "last_error '$err'"
        fi
    else
        f=$(findings "$u" 2>&1)
        if [ "$st" = DONE ] && [ "$f" = "${REF[12]}" ]; then
            tap_ok "$name: OpenJPEG reads it: drafted, Findings identical to the uncompressed study's"
        else
            tap_fail "$name: OpenJPEG reads it: drafted, Findings identical to the uncompressed study's" \
                "state '$st', last_error '$err'" "findings '$f'"
        fi
    fi
done <<< "$HOSTILE"

if alive; then
    tap_ok "radscribed (pid $DPID) is still running"
else
    tap_fail "radscribed (pid $DPID) is still running"
fi
tap_check "radscribed answers C-ECHO after the hostile studies" echo_ok
# every "cannot decode" line (the worker's warning, the job's transition)
# names the frontal view of a hostile study
bad_sops=$(for n in $(echo "$HOSTILE" | awk 'NF { print $1 }'); do sop_uid "$T/v/$n/frontal.dcm"; done)
others=$(grep "cannot decode" "$DLOG" | grep -vF "$bad_sops")
tap_is "daemon log: \"cannot decode\" only for the hostile studies ($(grep -c "cannot decode" "$DLOG") lines)" \
    "$others" ""

# ---------------------------------------------------- codec self-check ----
out=$("$GREYDUMP" -c 2>&1)
tap_is "greydump -c: the self-check decodes 11 transfer syntaxes" "$out (exit $?)" \
    "codec self-check: 11 transfer syntaxes decoded (exit 0)"
out=$("$GREYDUMP" -n -c 2>&1)
rc=$?
names=$("$RADSCRIBED" -n -f "$CONF" |
    sed -n '/transfer syntaxes accepted for storage/,$ s/^#   [0-9.]* \(.*\)$/\1/p')
named=
while IFS= read -r nm; do
    [ -n "$nm" ] && case $out in *"codec self-check failed: $nm: "*) named=$nm ;; esac
done <<< "$names"
if [ $rc -eq 1 ] && [ -n "$named" ]; then
    tap_ok "greydump -n -c (decoders not registered) fails naming $named"
else
    tap_fail "greydump -n -c (decoders not registered) fails naming a syntax" "exit $rc: $out"
fi

stop_daemon
tap_done
