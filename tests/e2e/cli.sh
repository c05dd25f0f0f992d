#!/bin/bash
# The read-only admin CLI against a database in a known state: a study that
# went through radscribed with the default model to a report Orthanc
# accepted, plus rows inserted with sqlite3 (a FAILED job from another AE,
# an old study on HOLD).  list, show, report (text, dicom, xml, json),
# model info, config check and echo; JSON is parsed and compared with the
# database and with models/convert/gguf.py.
. "$(dirname "$0")/lib.sh"

tap_plan 29
need "$RADSCRIBED" "$RADSCRIBE" "$ORTHANC" storescu echoscu dcmdump dsrdump xmllint sqlite3
need_pydicom
M=$top_srcdir/models
[ -f "$M/radscribe-cxr.gguf" ] && [ -f "$M/mmproj-radscribe-cxr.gguf" ] ||
    tap_bail_rest "the default model is not in $M"

start_orthanc pacs || tap_bail_rest "Orthanc did not start"
write_conf cli "settle_time = 1" "send_retry_min = 1" "send_retry_max = 2" \
    "archive = pacs $(orthanc_aet pacs) 127.0.0.1 $(orthanc_port pacs)"
start_daemon || tap_bail_rest "radscribed did not start"

send_state() {
    sql "SELECT j.state FROM jobs j JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = 'send';"
}
mkstudy "$T/s1" > /dev/null
U1=$(study_uid "$T/s1/frontal.dcm")
storescu -aet MODALITY1 -aec "$AE" "$HOST" "$PORT" "$T/s1"/*.dcm > "$T/s1.log" 2>&1
if wait_until 120 eval '[ "$(send_state "$U1")" = DONE ]'; then
    tap_ok "setup: a study became a report the archive accepted"
else
    tap_fail "setup: a study became a report the archive accepted" "$(tail_log 15)"
fi
stop_daemon
# Known extra rows: study 2.25.1 from OTHERAE with a FAILED infer job; study
# 2.25.2 last touched in 1970 with its infer job on HOLD.
sql "INSERT INTO studies (study_uid, first_received_at, last_received_at, job_created_at)
       VALUES ('2.25.1', 1700000000000, 1700000000000, 1700000001000),
              ('2.25.2', 1000, 2000, 3000);
     INSERT INTO instances (sop_instance_uid, study_id, series_uid, sop_class_uid,
       transfer_syntax, path, size, received_at, calling_ae)
       SELECT '2.25.11', id, '2.25.12', '1.2.840.10008.5.1.4.1.1.1.1', '1.2.840.10008.1.2.1',
         '/nonexistent', 1234, 1700000000000, 'OTHERAE' FROM studies WHERE study_uid = '2.25.1';
     INSERT INTO jobs (study_id, stage, state, attempts, last_error, created_at, updated_at)
       SELECT id, 'infer', 'FAILED', 3, 'unreadable pixels', 1700000001000, 1700000002000
       FROM studies WHERE study_uid = '2.25.1';
     INSERT INTO jobs (study_id, stage, state, attempts, created_at, updated_at)
       SELECT id, 'infer', 'HOLD', 0, 3000, 4000 FROM studies WHERE study_uid = '2.25.2';"

# 2-9: list
out=$(rs list)
rc=$?
nj=$(sql "SELECT count(*) FROM jobs;")
if [ $rc = 0 ] && [ "$(head -n 1 <<<"$out" | awk '{print $1, $2, $3, $4}')" = "JOB STUDY STAGE STATE" ] &&
   [ "$(($(wc -l <<<"$out") - 1))" = "$nj" ] && grep -q "^[0-9]* *2\.25\.1 *infer *FAILED *3 " <<<"$out"; then
    tap_ok "list: an aligned table with one row per job ($nj)"
else
    tap_fail "list: an aligned table with one row per job ($nj)" "$out"
fi
got=$(rs list --json | dbq 'sorted((r["id"], r["study_uid"], r["stage"], r["state"], r["attempts"], r["last_error"], r["updated_at_ms"]) for r in j) == sorted(c.execute("SELECT j.id, s.study_uid, j.stage, j.state, j.attempts, j.last_error, j.updated_at FROM jobs j JOIN studies s ON s.id = j.study_id").fetchall())')
tap_is "list --json: every job, equal to the jobs table" "$got" True
got=$(rs list --state failed --json | dbq '[(r["study_uid"], r["last_error"]) for r in j]')
tap_is "list --state failed: the failed job and its error (either case)" "$got" "[('2.25.1', 'unreadable pixels')]"
got=$(rs list --stage send --json | dbq 'sorted(r["id"] for r in j) == sorted(x for (x,) in c.execute("SELECT id FROM jobs WHERE stage = '"'send'"'"))')
tap_is "list --stage send: the send jobs only" "$got" True
got=$(rs list studies --calling-ae OTHERAE --json | dbq '[(r["study_uid"], r["instances"], r["calling_ae"], r["infer"]) for r in j]')
tap_is "list studies --calling-ae OTHERAE: that AE's study" "$got" "[('2.25.1', 1, 'OTHERAE', 'FAILED')]"
got=$(rs list studies --since 1d --json | dbq 'sorted(r["study_uid"] for r in j)')/$(rs list --since 1970-01-01 --json | dbq 'len(j)')
tap_is "list --since: 1d leaves the old studies out, 1970-01-01 takes every job" "$got" "['$U1']/$nj"
got=$(rs list studies --json | dbq 'sorted((r["study_uid"], r["instances"], r["reports"]) for r in j) == sorted(c.execute("SELECT s.study_uid, (SELECT count(*) FROM instances i WHERE i.study_id = s.id), (SELECT count(*) FROM reports r WHERE r.study_id = s.id) FROM studies s").fetchall())')
tap_is "list studies --json: every study with its instance and report counts" "$got" True
rs list --state bogus > /dev/null 2>&1; a=$?
rs list --since yesterday > /dev/null 2>&1; b=$?
tap_is "list: a bad state or --since is a usage error (exit 2)" "$a/$b" "2/2"

# 10-13: show
rs show "$U1" --json > "$T/show.json"
got=$(dbq '
sid = c.execute("SELECT id FROM studies WHERE study_uid = ?", (j["study_uid"],)).fetchone()[0]
ok = sorted((i["sop_instance_uid"], i["sop_class_uid"], i["transfer_syntax"], i["size"], i["calling_ae"]) for i in j["instances"]) == sorted(c.execute("SELECT sop_instance_uid, sop_class_uid, transfer_syntax, size, calling_ae FROM instances WHERE study_id = ?", (sid,)).fetchall())
ok = ok and sorted((x["stage"], x["state"], x["attempts"]) for x in j["jobs"]) == sorted(c.execute("SELECT stage, state, attempts FROM jobs WHERE study_id = ?", (sid,)).fetchall())
ok = ok and [(r["sop_instance_uid"], r["findings"], r["impression"]) for r in j["reports"]] == c.execute("SELECT sop_instance_uid, findings, impression FROM reports WHERE study_id = ? ORDER BY id", (sid,)).fetchall()
ok = ok and [(d["archive"], d["accepted_at_ms"] is not None, d["status"]) for d in j["reports"][0]["deliveries"]] == [("pacs", True, 0)]
ok and len(j["instances"]) == 2' < "$T/show.json")
tap_is "show --json: instances, jobs, reports and deliveries equal the database" "$got" True
out=$(rs show "$U1")
F1=$(sql "SELECT r.findings FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = '$U1' ORDER BY r.id DESC LIMIT 1;")
I1=$(sql "SELECT r.impression FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = '$U1' ORDER BY r.id DESC LIMIT 1;")
sop1=$(sop_uid "$T/s1/frontal.dcm")
if grep -qF "$sop1" <<<"$out" && grep -qF "Findings:   $F1" <<<"$out" && grep -q "MODALITY1" <<<"$out" &&
   grep -q "delivery  pacs: accepted" <<<"$out"; then
    tap_ok "show: instances, report text and delivery for people"
else
    tap_fail "show: instances, report text and delivery for people" "$out"
fi
# The views chosen: the study's frontal.dcm and lateral.dcm, by what the
# test made, not by the classifier; timings whole and per section.
got=$("$PY" - "$T/show.json" "$sop1" "$(sop_uid "$T/s1/lateral.dcm")" \
    "$(dcm_attr "$T/s1/frontal.dcm" ViewPosition)" "$(dcm_attr "$T/s1/lateral.dcm" ViewPosition)" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1])); fs, ls, fv, lv = sys.argv[2:]
r = j["reports"][0]
ok = [(v["kind"], v["sop_instance_uid"], v["view_position"]) for v in r["views"]] == [("frontal", fs, fv), ("lateral", ls, lv)]
ok = ok and r["findings_ms"] > 0 and r["impression_ms"] > 0 and r["draft_ms"] >= r["findings_ms"] + r["impression_ms"]
print(ok)
EOF
)
if [ "$got" = True ] && grep -q "^  views     frontal.* $sop1; lateral" <<<"$out" &&
   grep -q "^  Drafted in [0-9]* ms (findings [0-9]* ms, impression [0-9]* ms)" <<<"$out"; then
    tap_ok "show: the frontal and lateral views the report was drafted from, and its timings"
else
    tap_fail "show: the frontal and lateral views the report was drafted from, and its timings" "$got" "$out"
fi
jid=$(sql "SELECT j.id FROM jobs j JOIN studies s ON s.id = j.study_id WHERE s.study_uid = '2.25.1';")
got=$(rs show "$jid" --json | dbq '(j["study_uid"], [(x["state"], x["last_error"]) for x in j["jobs"]], j["reports"])')
tap_is "show JOB_ID: the job's study" "$got" "('2.25.1', [('FAILED', 'unreadable pixels')], [])"
rs show 9.9.9.9 > /dev/null 2>&1; a=$?
rs show 99999 > /dev/null 2>&1; b=$?
tap_is "show: an unknown study or job exits 3" "$a/$b" "3/3"

# 14-18: report
got=$(rs report "$U1")
tap_is "report: Findings and Impression as text" "$got" "$(printf 'Findings:\n%s\n\nImpression:\n%s' "$F1" "$I1")"
rpath=$(sql "SELECT r.path FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = '$U1' ORDER BY r.id DESC LIMIT 1;")
rs report "$U1" --format dicom -o "$T/r.dcm"
if cmp -s "$T/r.dcm" "$rpath" && dsrdump "$T/r.dcm" > "$T/r.dsr" 2>&1 && grep -qF "${F1:0:20}" "$T/r.dsr" &&
   [ "$(dcm_attr "$T/r.dcm" StudyInstanceUID)" = "$U1" ]; then
    tap_ok "report --format dicom: the SR file itself (dsrdump reads it)"
else
    tap_fail "report --format dicom: the SR file itself (dsrdump reads it)" "$rpath" "$(cmp "$T/r.dcm" "$rpath" 2>&1)" "${F1:0:20}" "$(grep -i 'finding' "$T/r.dsr" 2>/dev/null)"
fi
rs report "$U1" --format xml -o "$T/r.xml"
got=$(xmllint --noout "$T/r.xml" 2>&1 && "$PY" - "$T/r.xml" "$DB" "$U1" <<'PYEOF'
import sqlite3, sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
c = sqlite3.connect(sys.argv[2])
want = c.execute("SELECT r.sop_instance_uid, r.findings, r.impression FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = ? ORDER BY r.id DESC LIMIT 1", (sys.argv[3],)).fetchone()
srcs = sorted(i.get("sop-instance-uid") for i in r.find("sources"))
dbs = sorted(x for (x,) in c.execute("SELECT i.sop_instance_uid FROM instances i JOIN studies s ON s.id = i.study_id WHERE s.study_uid = ?", (sys.argv[3],)))
print((r.get("sop-instance-uid"), r.findtext("findings"), r.findtext("impression")) == want and srcs == dbs and r.findtext("study-instance-uid") == sys.argv[3])
PYEOF
)
tap_is "report --format xml: well-formed (xmllint), fields and source UIDs equal the database" "$got" True
got=$(rs report "$U1" --format json | dbq '(j["sop_instance_uid"], j["findings"], j["impression"], j["study_instance_uid"], len(j["sources"])) == c.execute("SELECT r.sop_instance_uid, r.findings, r.impression, s.study_uid, 2 FROM reports r JOIN studies s ON s.id = r.study_id WHERE s.study_uid = ? ORDER BY r.id DESC LIMIT 1", (j["study_instance_uid"],)).fetchone()')
tap_is "report --format json: fields equal the database" "$got" True
rs report 2.25.1 > /dev/null 2>&1; a=$?
rs report "$U1" --format pdf > /dev/null 2>&1; b=$?
tap_is "report: no report exits 3, an unknown format 2" "$a/$b" "3/2"

# 19-21: model info
cat > "$T/ggufcmp.py" <<'PYEOF'
import collections, json, sys
sys.path.insert(0, sys.argv[1])
from gguf import GGUFReader
j = json.load(sys.stdin)
r = GGUFReader(sys.argv[2])
kv = {k: v[1] for k, v in r.kv.items()}
arch = kv["general.architecture"]
if arch == "clip":
    keys = {"image_size": "clip.vision.image_size", "patch_size": "clip.vision.patch_size",
            "block_count": "clip.vision.block_count", "embedding_length": "clip.vision.embedding_length",
            "head_count": "clip.vision.attention.head_count",
            "feed_forward_length": "clip.vision.feed_forward_length",
            "projection_dim": "clip.vision.projection_dim", "projector_type": "clip.projector_type"}
else:
    keys = {n: arch + "." + k for n, k in [("context_length", "context_length"),
            ("embedding_length", "embedding_length"), ("block_count", "block_count"),
            ("head_count", "attention.head_count"), ("head_count_kv", "attention.head_count_kv"),
            ("feed_forward_length", "feed_forward_length"), ("rope_dimension_count", "rope.dimension_count")]}
want = {n: kv[k] for n, k in keys.items() if k in kv}
if "tokenizer.ggml.tokens" in kv:
    want["vocab_size"] = len(kv["tokenizer.ggml.tokens"])
names = {0: "F32", 1: "F16", 2: "Q4_0", 8: "Q8_0", 12: "Q4_K", 30: "BF16"}
types = dict(collections.Counter(names[t["type"]] for t in r.tensors))
prompts = {k[len("radscribe.prompt."):]: v for k, v in kv.items() if k.startswith("radscribe.prompt.")}
bad = []
for name, got, exp in [("architecture", j["architecture"], arch), ("name", j.get("name"), kv.get("general.name")),
                       ("version", j.get("version"), kv.get("general.version")), ("sizes", j["sizes"], want),
                       ("tensors", j["tensors"], len(r.tensors)), ("tensor_types", j["tensor_types"], types),
                       ("tokenizer", j.get("tokenizer"), kv.get("tokenizer.ggml.model")),
                       ("chat_template", j.get("chat_template"),
                        kv["tokenizer.chat_template"].split("\n")[0] if "tokenizer.chat_template" in kv else None),
                       ("prompts", j["prompts"], prompts), ("gguf_version", j["gguf_version"], r.version)]:
    if got != exp:
        bad.append("%s: %r != %r" % (name, got, exp))
print("; ".join(bad) if bad else "same")
PYEOF
got=$(rs model info "$M/radscribe-cxr.gguf" --json | "$PY" "$T/ggufcmp.py" "$M/convert" "$M/radscribe-cxr.gguf")
tap_is "model info --json on the default LLM equals GGUFReader's values" "$got" same
got=$(rs model info "$M/mmproj-radscribe-cxr.gguf" --json | "$PY" "$T/ggufcmp.py" "$M/convert" "$M/mmproj-radscribe-cxr.gguf")
tap_is "model info --json on the default projector equals GGUFReader's values" "$got" same
out=$("$RADSCRIBE" model info "$M/radscribe-cxr.gguf")
if grep -q "^architecture  *llama$" <<<"$out" && grep -q "^  vocab_size  *3000$" <<<"$out" &&
   grep -q "^  findings  *Write the findings\.$" <<<"$out" && ! "$RADSCRIBE" model info "$T/cli.conf" 2>/dev/null; then
    tap_ok "model info: text for people; a file that is no GGUF fails"
else
    tap_fail "model info: text for people; a file that is no GGUF fails" "$out"
fi

# 22-25: config check
out=$(rs config check 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "^ae_title = $AE$" <<<"$out" && grep -q "^database = $DB$" <<<"$out" &&
   grep -q "tid2000.xml: ok" <<<"$out"; then
    tap_ok "config check: a good config and the installed template; the effective config"
else
    tap_fail "config check: a good config and the installed template" "rc $rc: $out"
fi
cp "$CONF" "$T/bad.conf"
echo "no_such_key = 1" >> "$T/bad.conf"
out=$("$RADSCRIBE" config check "$T/bad.conf" 2>&1)
rc=$?
n=$(wc -l < "$T/bad.conf")
if [ $rc = 1 ] && grep -q "bad.conf:$n:" <<<"$out"; then
    tap_ok "config check: an unknown key exits 1 naming file:line"
else
    tap_fail "config check: an unknown key exits 1 naming file:line" "rc $rc: $out"
fi
sed 's/sr-template/sr-tmpl/g' "$top_srcdir/dicom/templates/tid2000.xml" > "$T/bad.xml"
cp "$CONF" "$T/badt.conf"
echo "sr_template = $T/bad.xml" >> "$T/badt.conf"
out=$("$RADSCRIBE" config check "$T/badt.conf" 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "bad.xml" <<<"$out"; then
    tap_ok "config check: a template the schema rejects exits 1"
else
    tap_fail "config check: a template the schema rejects exits 1" "rc $rc: $out"
fi
cp "$top_srcdir/dicom/templates/tid2000.xml" "$T/good.xml"
cp "$CONF" "$T/goodt.conf"
echo "sr_template = $T/good.xml" >> "$T/goodt.conf"
out=$("$RADSCRIBE" config check "$T/goodt.conf" 2>&1)
tap_is "config check: a configured template that is valid passes" "$?/$(grep -c "good.xml: ok" <<<"$out")" "0/1"

# 26-28: echo
out=$(rs echo pacs 2>&1)
rc=$?
if [ $rc = 0 ] && grep -q "archive pacs ($(orthanc_aet pacs) at 127.0.0.1:$(orthanc_port pacs)): ok" <<<"$out"; then
    tap_ok "echo: the archive answers C-ECHO"
else
    tap_fail "echo: the archive answers C-ECHO" "rc $rc: $out"
fi
down=$(free_port)
cp "$CONF" "$T/echo.conf"
echo "archive = down DOWNAE 127.0.0.1 $down" >> "$T/echo.conf"
echo "move_destination = $(orthanc_aet pacs) 127.0.0.1 $(orthanc_port pacs)" >> "$T/echo.conf"
"$RADSCRIBE" -f "$T/echo.conf" echo down > "$T/down.out" 2>&1; a=$?
"$RADSCRIBE" -f "$T/echo.conf" echo "$(orthanc_aet pacs)" > "$T/move.out" 2>&1; b=$?
tap_is "echo: a down port exits 1, a move_destination is echoed" "$a/$b/$(grep -c '^move_destination .*: ok' "$T/move.out")" "1/0/1"
rs echo nosuch > /dev/null 2>&1; a=$?
rs echo > /dev/null 2>&1; b=$?
tap_is "echo: an unknown name exits 3, no name 2" "$a/$b" "3/2"

tap_done
