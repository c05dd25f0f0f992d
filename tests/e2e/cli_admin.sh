#!/bin/bash
# The admin CLI's queue commands against a database in a known state:
# radscribed runs once to migrate it, then studies, instances, jobs,
# reports, deliveries and files are inserted with sqlite3.  retry, hold,
# release, cancel, redraft, resend and purge are checked in the database,
# in their JSON and in the audit table, with their refusals.
. "$(dirname "$0")/lib.sh"

tap_plan 22
need "$RADSCRIBED" "$RADSCRIBE" sqlite3 echoscu

# state UID STAGE: the job's state
state() {
    sql "SELECT j.state FROM jobs j JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = '$2';"
}
jobid() {
    sql "SELECT j.id FROM jobs j JOIN studies s ON s.id = j.study_id
         WHERE s.study_uid = '$1' AND j.stage = '$2';"
}
# snapshot: every row that purge or a state change could touch
snapshot() {
    sql "SELECT 's', * FROM studies; SELECT 'i', * FROM instances;
         SELECT 'j', * FROM jobs; SELECT 'r', id, superseded_by FROM reports;
         SELECT 'd', * FROM deliveries; SELECT 'q', id, path FROM qr_index;
         SELECT 'e', count(*) FROM events;"
}

write_conf admin "archive = pacs PACS 127.0.0.1 9" "archive = other OTHER 127.0.0.1 9"
if start_daemon && stop_daemon && [ "$(sql "SELECT count(*) FROM jobs;")" = 0 ]; then
    tap_ok "setup: radscribed made the database"
else
    tap_fail "setup: radscribed made the database" "$(tail_log 15)"
fi

# Known state.  All studies last touched in 1970 except 2.25.109.
#  101 infer FAILED        102 infer DEFERRED     103 infer INCOMING
#  104 infer ACTIVE        105 infer+send DONE, report accepted by pacs
#  106 DONE, delivered everywhere, files (purge)  107 DONE, report undelivered
#  108 infer FAILED, a file (purge --state FAILED)  109 DONE, delivered, recent
F=$T/files
mkdir -p "$F"
for f in i106 r106 i107 r107 i108 i109 r109; do echo "$f" > "$F/$f.dcm"; done
NOW=$(($(date +%s) * 1000))
sql "INSERT INTO studies (study_uid, first_received_at, last_received_at, job_created_at)
       VALUES ('2.25.101', 1000, 2000, 3000), ('2.25.102', 1000, 2000, 3000),
              ('2.25.103', 1000, 2000, 3000), ('2.25.104', 1000, 2000, 3000),
              ('2.25.105', 1000, 2000, 3000), ('2.25.106', 1000, 2000, 3000),
              ('2.25.107', 1000, 2000, 3000), ('2.25.108', 1000, 2000, 3000),
              ('2.25.109', $NOW, $NOW, $NOW);
     INSERT INTO jobs (study_id, stage, state, attempts, next_try, last_error, created_at, updated_at)
       SELECT id, 'infer', CASE study_uid WHEN '2.25.101' THEN 'FAILED'
           WHEN '2.25.102' THEN 'DEFERRED' WHEN '2.25.103' THEN 'INCOMING'
           WHEN '2.25.104' THEN 'ACTIVE' WHEN '2.25.108' THEN 'FAILED' ELSE 'DONE' END,
         CASE study_uid WHEN '2.25.101' THEN 3 WHEN '2.25.102' THEN 2 ELSE 1 END,
         CASE study_uid WHEN '2.25.102' THEN 9999999999999 END,
         CASE study_uid WHEN '2.25.101' THEN 'unreadable pixels' END, 3000, 4000
       FROM studies;
     INSERT INTO jobs (study_id, stage, state, attempts, created_at, updated_at)
       SELECT id, 'send', 'DONE', 1, 5000, 6000 FROM studies
       WHERE study_uid IN ('2.25.105', '2.25.106', '2.25.107', '2.25.109');
     INSERT INTO instances (sop_instance_uid, study_id, series_uid, sop_class_uid,
       transfer_syntax, path, size, received_at, calling_ae)
       SELECT study_uid || '.1', id, study_uid || '.2', '1.2.840.10008.5.1.4.1.1.1.1',
         '1.2.840.10008.1.2.1', '$F/i' || substr(study_uid, 6) || '.dcm', 4, 2000, 'MOD'
       FROM studies WHERE study_uid IN ('2.25.106', '2.25.107', '2.25.108', '2.25.109');
     INSERT INTO reports (study_id, sop_instance_uid, series_uid, sop_class_uid, path,
       size, created_at, model, findings, impression)
       SELECT id, study_uid || '.9', study_uid || '.8', '1.2.840.10008.5.1.4.1.1.88.33',
         '$F/r' || substr(study_uid, 6) || '.dcm', 4, 5000, 'm', 'f', 'i'
       FROM studies WHERE study_uid IN ('2.25.105', '2.25.106', '2.25.107', '2.25.109');
     INSERT INTO deliveries (report_id, archive, accepted_at, status, attempts)
       SELECT r.id, a.name, CASE WHEN s.study_uid = '2.25.107' AND a.name = 'pacs'
           THEN NULL ELSE 6000 END, 0, 1
       FROM reports r JOIN studies s ON s.id = r.study_id,
         (SELECT 'pacs' AS name UNION SELECT 'other') a
       WHERE s.study_uid != '2.25.105' OR a.name = 'pacs';
     INSERT INTO qr_index (report_id, path, transfer_syntax, StudyInstanceUID,
       SeriesInstanceUID, SOPInstanceUID, SOPClassUID)
       SELECT r.id, r.path, '1.2.840.10008.1.2.1', s.study_uid, r.series_uid,
         r.sop_instance_uid, r.sop_class_uid FROM reports r JOIN studies s ON s.id = r.study_id;
     INSERT INTO qr_index (instance_id, path, transfer_syntax, StudyInstanceUID,
       SeriesInstanceUID, SOPInstanceUID, SOPClassUID)
       SELECT i.id, i.path, i.transfer_syntax, s.study_uid, i.series_uid,
         i.sop_instance_uid, i.sop_class_uid FROM instances i JOIN studies s ON s.id = i.study_id;"

# 2-4: retry
J101=$(jobid 2.25.101 infer)
got=$(rs retry 2.25.101 --json | dbq '(j, c.execute("SELECT state, attempts, next_try, last_error FROM jobs WHERE id = ?", (j[0]["id"],)).fetchone())')
tap_is "retry STUDY --json: FAILED -> INCOMING, attempts kept" "$got" \
    "([{'id': $J101, 'study_uid': '2.25.101', 'stage': 'infer', 'from': 'FAILED', 'to': 'INCOMING'}], ('INCOMING', 3, None, 'unreadable pixels'))"
J102=$(jobid 2.25.102 infer)
out=$(rs retry "$J102")
tap_is "retry JOB: DEFERRED -> INCOMING now (next_try cleared), one line" \
    "$out/$(sql "SELECT state, attempts, coalesce(next_try, 'null') FROM jobs WHERE id = $J102;")" \
    "J$J102: study=2.25.102 stage=infer DEFERRED->INCOMING/INCOMING|2|null"
err=$(rs retry 2.25.103 2>&1 >/dev/null); rc=$?
if [ $rc = 1 ] && grep -q "is INCOMING" <<<"$err" && [ "$(state 2.25.103 infer)" = INCOMING ]; then
    tap_ok "retry of an INCOMING job: exit 1, says from which state"
else
    tap_fail "retry of an INCOMING job: exit 1, says from which state" "rc=$rc" "$err"
fi

# 5-8: hold, release, cancel
a=$(rs hold 2.25.103 --json | dbq 'j[0]["from"] + ">" + j[0]["to"]')/$(state 2.25.103 infer)
b=$(rs release 2.25.103 --json | dbq 'j[0]["from"] + ">" + j[0]["to"]')/$(state 2.25.103 infer)
tap_is "hold then release: INCOMING -> HOLD -> INCOMING" "$a $b" "INCOMING>HOLD/HOLD HOLD>INCOMING/INCOMING"
rs hold 2.25.103 > /dev/null
err=$(rs cancel 2.25.103 --stage infer 2>&1 </dev/null); a=$?
tap_is "cancel without --yes, not on a terminal: exit 2, the job stays on HOLD" \
    "$a/$(state 2.25.103 infer)/$(grep -c -- "add --yes" <<<"$err")" "2/HOLD/1"
out=$(rs cancel 2.25.103 --stage infer --yes)
tap_is "cancel: HOLD -> FAILED, last_error says the admin did it" \
    "$out/$(sql "SELECT state, last_error FROM jobs WHERE id = $(jobid 2.25.103 infer);")" \
    "J$(jobid 2.25.103 infer): study=2.25.103 stage=infer HOLD->FAILED/FAILED|cancelled by admin"
err=$(rs cancel 2.25.104 --yes 2>&1 >/dev/null); a=$?
rs hold "$(jobid 2.25.104 infer)" > /dev/null 2>&1; b=$?
rs release 2.25.105 > /dev/null 2>&1; c=$?
if [ "$a/$b/$c" = 1/1/1 ] && grep -q "ACTIVE" <<<"$err" && [ "$(state 2.25.104 infer)" = ACTIVE ]; then
    tap_ok "cancel of an ACTIVE job, hold of ACTIVE, release of DONE: exit 1, unchanged"
else
    tap_fail "cancel of an ACTIVE job, hold of ACTIVE, release of DONE: exit 1, unchanged" "$a/$b/$c" "$err"
fi

# 9: unknown ids and usage
rs retry 9.9.9.9 > /dev/null 2>&1; a=$?
rs cancel 99999 --yes > /dev/null 2>&1; b=$?
rs resend 9.9.9.9 > /dev/null 2>&1; c=$?
rs retry 2.25.101 --stage bogus > /dev/null 2>&1; d=$?
rs hold > /dev/null 2>&1; e=$?
tap_is "unknown study or job exits 3, bad arguments exit 2" "$a/$b/$c/$d/$e" "3/3/3/2/2"

# 10-12: redraft and resend
before=$(state 2.25.105 send)
got=$(rs redraft 2.25.105 --json | dbq '[(x["stage"], x["from"], x["to"]) for x in j]')/$(state 2.25.105 infer)/$(state 2.25.105 send)
tap_is "redraft: the infer job DONE -> INCOMING, send job untouched" "$got" "[('infer', 'DONE', 'INCOMING')]/INCOMING/$before"
rs redraft 2.25.105 > /dev/null 2>&1; a=$?
tap_is "redraft while the infer job is INCOMING: exit 1" "$a" 1
got=$(rs resend 2.25.105 --to other --json | dbq '(j["from"], j["to"], j["archive"], sorted(c.execute("SELECT d.archive, d.accepted_at IS NULL FROM deliveries d JOIN reports r ON r.id = d.report_id JOIN studies s ON s.id = r.study_id WHERE s.study_uid = ?", ("2.25.105",)).fetchall()))')/$(state 2.25.105 send)
tap_is "resend --to: a row made for that archive only, send job INCOMING" "$got" \
    "('DONE', 'INCOMING', 'other', [('other', 1), ('pacs', 0)])/INCOMING"
rs resend 2.25.105 --to nowhere > /dev/null 2>&1; a=$?
out=$(rs resend 2.25.105)
got=$a/$(sql "SELECT count(*) FROM deliveries d JOIN reports r ON r.id = d.report_id JOIN studies s ON s.id = r.study_id WHERE s.study_uid = '2.25.105' AND d.accepted_at IS NULL;")
tap_is "resend to all: every delivery pending again; an unknown archive exits 3" "$got/$out" \
    "3/2/J$(jobid 2.25.105 send): study=2.25.105 stage=send INCOMING->INCOMING to=all"

# 13: the audit trail of the changes above
got=$(sql "SELECT detail FROM events WHERE kind = 'admin' ORDER BY id;" | awk '{print $1, $2, $3}' | tr '\n' ';')
tap_is "every change is in events (kind admin)" "$got" \
    "retry J$J101 FAILED->INCOMING;retry J$J102 DEFERRED->INCOMING;hold J$(jobid 2.25.103 infer) INCOMING->HOLD;release J$(jobid 2.25.103 infer) HOLD->INCOMING;hold J$(jobid 2.25.103 infer) INCOMING->HOLD;cancel J$(jobid 2.25.103 infer) HOLD->FAILED;redraft J$(jobid 2.25.105 infer) DONE->INCOMING;resend J$(jobid 2.25.105 send) DONE->INCOMING;resend J$(jobid 2.25.105 send) INCOMING->INCOMING;"

# 15-21: purge
snap=$(snapshot)
err=$(rs purge --older-than 1d 2>&1 </dev/null); a=$?
if [ $a = 2 ] && grep -q -- "--yes" <<<"$err" && [ "$(snapshot)" = "$snap" ]; then
    tap_ok "purge without --yes: exit 2, nothing changed"
else
    tap_fail "purge without --yes: exit 2, nothing changed" "rc=$a" "$err"
fi
# On a terminal it asks; anything but y leaves everything as it was.
out=$(printf 'n\n' | script -qec "$RADSCRIBE -f $CONF purge --older-than 1d" /dev/null 2>&1); a=$?
if [ $a = 2 ] && grep -q "\[y/N\]" <<<"$out" && [ "$(snapshot)" = "$snap" ]; then
    tap_ok "purge on a terminal asks [y/N]; n: exit 2, nothing changed"
else
    tap_fail "purge on a terminal asks [y/N]; n: exit 2, nothing changed" "rc=$a" "$out"
fi
got=$(rs purge --older-than 1d --dry-run --json 2>"$T/dry.err" | dbq '[(x["study_uid"], x["instances"], x["reports"], x["files"], x["purged"]) for x in j]')
if [ "$got" = "[('2.25.106', 1, 1, 2, False)]" ] && [ "$(snapshot)" = "$snap" ] &&
   [ -f "$F/i106.dcm" ] && [ -f "$F/r106.dcm" ]; then
    tap_ok "purge --dry-run: lists the finished, delivered, old study; changes nothing"
else
    tap_fail "purge --dry-run: lists the finished, delivered, old study; changes nothing" "$got"
fi
out=$(rs purge --older-than 1d --yes 2>"$T/purge.err"); a=$?
got=$(sql "SELECT (SELECT count(*) FROM studies WHERE study_uid = '2.25.106'),
    (SELECT count(*) FROM instances WHERE sop_instance_uid LIKE '2.25.106.%'),
    (SELECT count(*) FROM reports WHERE sop_instance_uid LIKE '2.25.106.%'),
    (SELECT count(*) FROM qr_index WHERE StudyInstanceUID = '2.25.106'),
    (SELECT count(*) FROM deliveries WHERE report_id NOT IN (SELECT id FROM reports)),
    (SELECT count(*) FROM jobs WHERE study_id NOT IN (SELECT id FROM studies)),
    (SELECT count(*) FROM studies);")
if [ $a = 0 ] && [ "$out" = "purged 2.25.106 instances=1 reports=1 files=2" ] && [ "$got" = "0|0|0|0|0|0|8" ] &&
   [ ! -e "$F/i106.dcm" ] && [ ! -e "$F/r106.dcm" ] && [ -f "$F/i109.dcm" ]; then
    tap_ok "purge --yes: the study's rows and files are gone, others stay"
else
    tap_fail "purge --yes: the study's rows and files are gone, others stay" "rc=$a" "$out" "$got" "$(ls "$F")"
fi
if grep -q "keeping 2.25.107: a report is not delivered" "$T/purge.err" &&
   [ "$(sql "SELECT count(*) FROM studies WHERE study_uid = '2.25.107';")" = 1 ] && [ -f "$F/r107.dcm" ]; then
    tap_ok "purge keeps a finished study whose report is undelivered, and says so"
else
    tap_fail "purge keeps a finished study whose report is undelivered, and says so" "$(cat "$T/purge.err")"
fi
got=$(sql "SELECT kind, detail FROM events WHERE kind = 'purge';")
tap_is "purge is recorded in events" "$got" "purge|study=2.25.106 instances=1 reports=1 files=2"
got=$(rs purge --older-than 1d --state FAILED --yes --json | dbq 'sorted(x["study_uid"] for x in j)')
got=$got/$(sql "SELECT group_concat(study_uid) FROM (SELECT study_uid FROM studies ORDER BY study_uid);")
[ -e "$F/i108.dcm" ] && got="$got/i108 left"
tap_is "purge --state FAILED: the failed studies go, the rest stay" "$got" \
    "['2.25.103', '2.25.108']/2.25.101,2.25.102,2.25.104,2.25.105,2.25.107,2.25.109"

# 22: each table's owner deletes its rows: a study with a redraft (two
# reports that name each other), views, deliveries and index rows leaves
# no row behind in any table, and the other studies stay.
for f in i120 r120 r120b; do echo "$f" > "$F/$f.dcm"; done
sql "INSERT INTO studies (study_uid, first_received_at, last_received_at, job_created_at)
       VALUES ('2.25.120', 1000, 2000, 3000);
     INSERT INTO jobs (study_id, stage, state, attempts, created_at, updated_at)
       SELECT id, s.stage, 'DONE', 1, 3000, 4000 FROM studies,
         (SELECT 'infer' AS stage UNION SELECT 'send') s WHERE study_uid = '2.25.120';
     INSERT INTO instances (sop_instance_uid, study_id, series_uid, sop_class_uid,
       transfer_syntax, path, size, received_at, calling_ae)
       SELECT '2.25.120.1', id, '2.25.120.2', '1.2.840.10008.5.1.4.1.1.1.1',
         '1.2.840.10008.1.2.1', '$F/i120.dcm', 4, 2000, 'MOD' FROM studies WHERE study_uid = '2.25.120';
     INSERT INTO reports (study_id, sop_instance_uid, series_uid, sop_class_uid, path,
       size, created_at, model, findings, impression)
       SELECT id, '2.25.120.9', '2.25.120.8', '1.2.840.10008.5.1.4.1.1.88.33',
         '$F/r120.dcm', 4, 5000, 'm', 'f', 'i' FROM studies WHERE study_uid = '2.25.120';
     INSERT INTO reports (study_id, sop_instance_uid, series_uid, sop_class_uid, path,
       size, created_at, model, findings, impression, predecessor_id)
       SELECT study_id, '2.25.120.10', '2.25.120.8', sop_class_uid, '$F/r120b.dcm', 4, 5500,
         'm', 'f2', 'i2', id FROM reports WHERE sop_instance_uid = '2.25.120.9';
     UPDATE reports SET superseded_by = (SELECT id FROM reports WHERE sop_instance_uid = '2.25.120.10')
       WHERE sop_instance_uid = '2.25.120.9';
     INSERT INTO report_views (report_id, ordinal, sop_instance_uid, kind, view_position)
       SELECT id, 1, '2.25.120.1', 'frontal', 'PA' FROM reports WHERE study_id =
         (SELECT id FROM studies WHERE study_uid = '2.25.120');
     INSERT INTO deliveries (report_id, archive, accepted_at, status, attempts)
       SELECT id, 'pacs', 6000, 0, 1 FROM reports WHERE study_id =
         (SELECT id FROM studies WHERE study_uid = '2.25.120');
     INSERT INTO qr_index (report_id, path, transfer_syntax, StudyInstanceUID,
       SeriesInstanceUID, SOPInstanceUID, SOPClassUID)
       SELECT id, path, '1.2.840.10008.1.2.1', '2.25.120', series_uid, sop_instance_uid,
         sop_class_uid FROM reports WHERE sop_instance_uid LIKE '2.25.120.%';
     INSERT INTO qr_index (instance_id, path, transfer_syntax, StudyInstanceUID,
       SeriesInstanceUID, SOPInstanceUID, SOPClassUID)
       SELECT id, path, transfer_syntax, '2.25.120', series_uid, sop_instance_uid,
         sop_class_uid FROM instances WHERE sop_instance_uid = '2.25.120.1';"
SID=$(sql "SELECT id FROM studies WHERE study_uid = '2.25.120';")
counts() { sql "SELECT count(*) FROM studies; SELECT count(*) FROM report_views;" | tr '\n' ' '; }
before=$(counts); qr=$(sql "SELECT count(*) FROM qr_index;")
out=$(rs purge --older-than 1d --yes 2>/dev/null); a=$?
left=$(sql "SELECT (SELECT count(*) FROM studies WHERE id = $SID)
    + (SELECT count(*) FROM instances WHERE study_id = $SID)
    + (SELECT count(*) FROM jobs WHERE study_id = $SID)
    + (SELECT count(*) FROM reports WHERE study_id = $SID)
    + (SELECT count(*) FROM report_views WHERE sop_instance_uid LIKE '2.25.120.%'
         OR report_id NOT IN (SELECT id FROM reports))
    + (SELECT count(*) FROM deliveries WHERE report_id NOT IN (SELECT id FROM reports))
    + (SELECT count(*) FROM qr_index WHERE StudyInstanceUID = '2.25.120');")
after=$(counts); qr=$((qr - $(sql "SELECT count(*) FROM qr_index;")))
ls "$F"/*120* > /dev/null 2>&1 && left="$left/files left"
tap_is "purge of a redrafted study: no row of it in any table, no file; the rest stay" \
    "$a/$out/$left/$before-> $after/$qr index rows gone" \
    "0/purged 2.25.120 instances=1 reports=2 files=3/0/7 2 -> 6 0 /3 index rows gone"

tap_done
