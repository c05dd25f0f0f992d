#!/bin/bash
# The shipped sample study (tests/sample): builds without ../shared, is a
# valid DX study, is received by the daemon; its images carry a licence that
# allows shipping them, and the folder stays small.
. "$(dirname "$0")/lib.sh"

tap_plan 7
need "$RADSCRIBED" storescu echoscu dump2dcm dcmdump dciodvfy sqlite3

# 1: build with a plain python3 (standard library only) and no shared data
out=$(env -u SHARED_DATA PATH=/usr/bin:/bin STUDY_UID= \
      "$SAMPLE_DIR/mkstudy.sh" "$T/sample" 2>&1)
rc=$?
n=$(ls "$T"/sample/*.dcm 2>/dev/null | wc -l)
if [ $rc -eq 0 ] && [ "$n" = 2 ]; then
    tap_ok "tests/sample/mkstudy.sh builds 2 DICOM files without shared data"
else
    tap_fail "tests/sample/mkstudy.sh builds 2 DICOM files without shared data" "exit $rc" "$out"
fi

# 2: both are DX for presentation, one study, two series, valid per dciodvfy
errs=$(for f in "$T"/sample/*.dcm; do dciodvfy "$f" 2>&1 | grep '^Error'; done)
cls=$(for f in "$T"/sample/*.dcm; do dcm_attr "$f" SOPClassUID; done | sort -u)
st=$(for f in "$T"/sample/*.dcm; do study_uid "$f"; done | sort -u | wc -l)
se=$(for f in "$T"/sample/*.dcm; do dcm_attr "$f" SeriesInstanceUID; done | sort -u | wc -l)
if [ -z "$errs" ] && [ "$cls" = 1.2.840.10008.5.1.4.1.1.1.1 ] && [ "$st" = 1 ] && [ "$se" = 2 ]; then
    tap_ok "sample: DX for presentation, one study, two series, no dciodvfy errors"
else
    tap_fail "sample: DX for presentation, one study, two series, no dciodvfy errors" \
        "classes: $cls, studies: $st, series: $se" "$errs"
fi

# 3: pixel data are the PNG pixels
want=$(env -u SHARED_DATA "$PY" "$SAMPLE_DIR/png2raw.py" "$SAMPLE_DIR/p253_07_PA.png" "$T/px.raw")
mkdir -p "$T/px"
dcmdump -q +W "$T/px" "$T/sample/p253_07_PA.dcm" > /dev/null 2>&1
rawf=$(ls "$T"/px/*.raw 2>/dev/null | head -n 1)
if [ "$want" = "256 256" ] && [ -n "$rawf" ] && cmp -s "$rawf" "$T/px.raw"; then
    tap_ok "sample: pixel data equal the PNG pixels"
else
    tap_fail "sample: pixel data equal the PNG pixels" "png2raw: $want" "dumped: $rawf"
fi

# 4: fixed UIDs with STUDY_UID
STUDY_UID=1.2.826.0.1.3680043.8.498.4242 "$SAMPLE_DIR/mkstudy.sh" "$T/fixed" > /dev/null 2>&1
tap_is "STUDY_UID=... gives that Study UID and derived SOP Instance UIDs" \
    "$(study_uid "$T/fixed/p253_07_PA.dcm") $(sop_uid "$T/fixed/p253_08_PA.dcm")" \
    "1.2.826.0.1.3680043.8.498.4242 1.2.826.0.1.3680043.8.498.4242.2.1"

# 5: the daemon receives it
write_conf sample
if start_daemon; then
    storescu -v -aec "$AE" "$HOST" "$PORT" "$T"/sample/*.dcm > "$T/send.log" 2>&1
    rc=$?
    n=$(sql "SELECT count(*) FROM instances i JOIN studies s ON s.id=i.study_id
             WHERE s.study_uid='$(study_uid "$T/sample/p253_07_PA.dcm")';")
    tap_is "the daemon stores the sample study (storescu exit, instances)" "$rc $n" "0 2"
    stop_daemon
else
    tap_fail "the daemon stores the sample study" "radscribed did not start"
fi

# 6: licences of the shipped images (from the shared records) allow shipping
rec=$SHARED_DATA/covid-cxr-notes/records.jsonl
res=$("$PY" - "$rec" "$SAMPLE_DIR" "$SHARED_DATA/covid-cxr-notes" <<'EOF' 2>&1
import hashlib, json, os, sys
rec, sample, covid = sys.argv[1:4]
ok_licences = {"CC BY", "CC BY 3.0", "CC BY 4.0", "Apache 2.0", "Apache-2.0",
               "public domain", "CC0"}
by_id = {}
for line in open(rec):
    r = json.loads(line)
    by_id[r["image_id"]] = r
bad = []
readme = open(os.path.join(sample, "README.md")).read()
for f in sorted(os.listdir(sample)):
    if not f.endswith(".png"):
        continue
    r = by_id.get(f[:-4])
    if r is None:
        bad.append("%s: no record" % f)
        continue
    if r["license"] not in ok_licences:
        bad.append("%s: licence %r" % (f, r["license"]))
    if r["license"] not in readme or (r["doi"] and r["doi"] not in readme):
        bad.append("%s: README lacks licence or doi" % f)
    a = open(os.path.join(sample, f), "rb").read()
    b = open(os.path.join(covid, r["file"]), "rb").read()
    if a != b:
        bad.append("%s: differs from the shared image" % f)
print("; ".join(bad) if bad else "ok")
EOF
)
tap_is "shipped PNGs: CC BY / Apache / public domain per records.jsonl, attributed in README, identical to the source" \
    "$res" "ok"

# 7: small
kb=$(du -sk "$SAMPLE_DIR" | cut -f1)
if [ "$kb" -lt 200 ]; then
    tap_ok "tests/sample is small (${kb} KiB < 200 KiB)"
else
    tap_fail "tests/sample is small" "${kb} KiB"
fi

tap_done
