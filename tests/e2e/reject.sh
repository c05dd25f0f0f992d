#!/bin/bash
# Association rejects (called AE, calling AE allow-list), SOP classes that
# are not accepted, and bad data sets (missing/invalid Study UID, UID
# mismatch with the command, unparsable data set).
. "$(dirname "$0")/lib.sh"

tap_plan 27
need "$RADSCRIBED" storescu echoscu dcmdump dcmconv sqlite3
need_pydicom

mkbad "$T/bad" > /dev/null || tap_bail_rest "fixture generation failed"
B=$T/bad
DX=1.2.840.10008.5.1.4.1.1.1.1
CR=1.2.840.10008.5.1.4.1.1.1

write_conf reject \
    "allow = ECHOSCU" \
    "allow = STORESCU 127.0.0.1" \
    "allow = RAWCLIENT $HOST" \
    "allow = ELSEWHERE 192.0.2.7"
start_daemon || tap_bail_rest "radscribed did not start"

objects_with() { find "$SPOOL" -type f -name "*$1*" 2>/dev/null | wc -l; }
row_count() { sql "SELECT count(*) FROM instances WHERE sop_instance_uid='$1';"; }

# 1: positive control
tap_check "allowed calling AE: C-ECHO succeeds" echo_ok

# 2-3: wrong called AE title
out=$(echoscu -to 5 -aec WRONG "$HOST" "$PORT" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qi 'Rejected Permanent' <<<"$out" &&
   grep -qi 'Service User' <<<"$out" && grep -qi 'Called AE Title Not Recognized' <<<"$out"; then
    tap_ok "called AE WRONG: rejected-permanent, service-user, called-AE-not-recognized"
else
    tap_fail "called AE WRONG: rejected-permanent, service-user, called-AE-not-recognized" "exit $rc" "$out"
fi
uid=$(sop_uid "$B/good.dcm")
storescu -aec WRONG "$HOST" "$PORT" "$B/good.dcm" > "$T/wrongae.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ "$(row_count "$uid")" = 0 ] && [ "$(objects_with "$uid")" = 0 ]; then
    tap_ok "storescu -aec WRONG fails and stores nothing"
else
    tap_fail "storescu -aec WRONG fails and stores nothing" "exit $rc" "$(cat "$T/wrongae.log")"
fi

# 4-6: calling AE not on the allow-list
before=$(sql "SELECT count(*) FROM events WHERE calling_ae='INTRUDER';")
out=$(echoscu -to 5 -aet INTRUDER -aec "$AE" "$HOST" "$PORT" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qi 'Rejected Permanent' <<<"$out" &&
   grep -qi 'Calling AE Title Not Recognized' <<<"$out"; then
    tap_ok "calling AE INTRUDER: rejected-permanent, calling-AE-not-recognized"
else
    tap_fail "calling AE INTRUDER: rejected-permanent, calling-AE-not-recognized" "exit $rc" "$out"
fi
wait_until 5 at_least $((before + 1)) sql "SELECT count(*) FROM events WHERE calling_ae='INTRUDER';"
ev=$(sql "SELECT called_ae || '|' || coalesce(peer,'') FROM events WHERE calling_ae='INTRUDER' ORDER BY id DESC LIMIT 1;")
case $ev in
    "$AE|"*127.0.0.1*) tap_ok "rejected calling AE: events row (calling INTRUDER, called $AE, peer 127.0.0.1)" ;;
    *) tap_fail "rejected calling AE: events row (calling INTRUDER, called $AE, peer 127.0.0.1)" \
           "events row: '$ev'" "$(sql 'SELECT * FROM events;' | tail -n 5)" ;;
esac
out=$(echoscu -to 5 -aet ELSEWHERE -aec "$AE" "$HOST" "$PORT" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qi 'Calling AE Title Not Recognized' <<<"$out"; then
    tap_ok "allowed AE title from a host not on its allow line: rejected"
else
    tap_fail "allowed AE title from a host not on its allow line: rejected" "exit $rc" "$out"
fi

# 7: storing as a calling AE that is not allowed stores nothing
storescu -aet INTRUDER -aec "$AE" "$HOST" "$PORT" "$B/good.dcm" > "$T/intruder.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ "$(row_count "$uid")" = 0 ] && [ "$(objects_with "$uid")" = 0 ]; then
    tap_ok "storescu as INTRUDER fails and stores nothing"
else
    tap_fail "storescu as INTRUDER fails and stores nothing" "exit $rc" "$(cat "$T/intruder.log")"
fi

# 8-10: SOP classes that are not accepted (CT, MR, Basic Text SR)
for kind in ct mr sr; do
    f=$B/$kind.dcm
    u=$(sop_uid "$f")
    cls=$(dcm_attr "$f" SOPClassUID)
    storescu -v -aec "$AE" "$HOST" "$PORT" "$f" > "$T/$kind.log" 2>&1
    rc=$?
    r=$($DUL propose "$HOST" "$PORT" "$AE" RAWCLIENT "$cls" 1.2.840.10008.1.2.1,1.2.840.10008.1.2 2>&1)
    if [ $rc -ne 0 ] && grep -qi 'No Acceptable Presentation Contexts\|No presentation context' "$T/$kind.log" &&
       [ "${r%% ts*}" = "result 3" ] && [ "$(row_count "$u")" = 0 ]; then
        tap_ok "$kind ($cls): not negotiated (abstract-syntax-not-supported), nothing stored"
    else
        tap_fail "$kind ($cls): not negotiated (abstract-syntax-not-supported), nothing stored" \
            "storescu exit $rc" "$(tail -n 4 "$T/$kind.log")" "raw proposal: $r"
    fi
done

# 11: positive control: the good DX image is stored
storescu -v -aec "$AE" "$HOST" "$PORT" "$B/good.dcm" > "$T/good.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(acked_files "$T/good.log" | wc -l)" = 1 ] && [ "$(row_count "$uid")" = 1 ]; then
    tap_ok "control: a valid DX image from STORESCU is stored"
else
    tap_fail "control: a valid DX image from STORESCU is stored" "exit $rc" "$(tail -n 5 "$T/good.log")"
fi

# 12-13: missing or invalid Study Instance UID (storescu sends it as is)
for kind in no-study-uid bad-study-uid; do
    f=$B/$kind.dcm
    u=$(sop_uid "$f")
    storescu -d -aec "$AE" "$HOST" "$PORT" "$f" > "$T/$kind.log" 2>&1
    st=$(grep -i 'DIMSE Status' "$T/$kind.log" | tail -n 1)
    if grep -qi '0xc001' <<<"$st" && [ "$(row_count "$u")" = 0 ] && [ "$(objects_with "$u")" = 0 ]; then
        tap_ok "$kind: C-STORE status 0xC001, nothing stored"
    else
        tap_fail "$kind: C-STORE status 0xC001, nothing stored" "status line: $st" \
            "rows: $(row_count "$u"), files: $(objects_with "$u")" "$(grep -E '^[EFW]:' "$T/$kind.log" | head -n 5)"
    fi
done

# 14-17: forged commands from the raw client: UID mismatch and garbage
mkbad "$T/bad2" > /dev/null
g=$T/bad2/good.dcm
gu=$(sop_uid "$g")
dcmconv -q -F +ti "$g" "$T/good.ds"
other=2.25.$RANDOM$RANDOM$RANDOM
r=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/good.ds" "$DX" "$gu" --cmd-sop-inst "$other" 2>&1)
if [ "$r" = "status 0xa900" ] && [ "$(row_count "$gu")" = 0 ] && [ "$(row_count "$other")" = 0 ] &&
   [ "$(objects_with "$gu")" = 0 ] && [ "$(objects_with "$other")" = 0 ]; then
    tap_ok "SOP Instance UID in data set differs from the command: 0xA900, nothing stored"
else
    tap_fail "SOP Instance UID in data set differs from the command: 0xA900, nothing stored" "$r"
fi
r=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/good.ds" "$CR" "$gu" 2>&1)
if [ "$r" = "status 0xa900" ] && [ "$(row_count "$gu")" = 0 ]; then
    tap_ok "SOP Class UID in data set (DX) differs from the command (CR): 0xA900, nothing stored"
else
    tap_fail "SOP Class UID in data set (DX) differs from the command (CR): 0xA900, nothing stored" "$r"
fi
# the command names another SOP class than the presentation context it uses
r=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/good.ds" "$CR" "$gu" --cmd-sop-class "$DX" 2>&1)
if [ "$r" = "status 0x0122" ] && [ "$(row_count "$gu")" = 0 ] && [ "$(objects_with "$gu")" = 0 ]; then
    tap_ok "C-STORE for DX on a CR presentation context: 0x0122 (SOP class not supported), nothing stored"
else
    tap_fail "C-STORE for DX on a CR presentation context: 0x0122 (SOP class not supported), nothing stored" "$r"
fi
# 3000 pseudo-random bytes (fixed seed: the same every run)
"$PY" -c 'import random, sys; r = random.Random(7); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3000)))' > "$T/junk.ds"
# a data set whose first element (SOP Class UID) claims 2 GiB of value
printf '\x08\x00\x16\x00\xf0\xff\xff\x7f' > "$T/junk2.ds"
head -c 200 "$T/junk.ds" >> "$T/junk2.ds"
j1=2.25.1$RANDOM$RANDOM
j2=2.25.2$RANDOM$RANDOM
r1=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/junk.ds" "$DX" "$j1" 2>&1)
r2=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/junk2.ds" "$DX" "$j2" 2>&1)
# 0xC000 (cannot parse) is the documented answer; a daemon may also abort
# the association on a broken PDV stream.  Never success, never stored.
ok=1
for r in "$r1" "$r2"; do
    case $r in "status 0xc000"|"status 0xc001"|"peer closed"*) ;; *) ok=0 ;; esac
done
if [ $ok = 1 ] && [ "$(row_count "$j1")" = 0 ] && [ "$(row_count "$j2")" = 0 ] &&
   [ "$(objects_with "$j1")" = 0 ] && [ "$(objects_with "$j2")" = 0 ]; then
    tap_ok "unparsable data sets: failure (0xC000) or abort, nothing stored"
else
    tap_fail "unparsable data sets: failure (0xC000) or abort, nothing stored" "random: $r1" "bad length: $r2"
fi
if [ "$r2" = "status 0xc000" ]; then
    tap_ok "data set with an element longer than the data: status 0xC000"
else
    tap_fail "data set with an element longer than the data: status 0xC000" "$r2"
fi
# the raw client itself works: the genuine data set is stored (status 0)
r=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/good.ds" "$DX" "$gu" 2>&1)
if [ "$r" = "status 0x0000" ] && [ "$(row_count "$gu")" = 1 ]; then
    tap_ok "control: the raw client's genuine C-STORE succeeds (0x0000) and is indexed"
else
    tap_fail "control: the raw client's genuine C-STORE succeeds (0x0000) and is indexed" "$r"
fi

# 19-20: SOP Instance UIDs that are not valid UIDs (and would be unsafe as
# file names): command and data set agree, so only validation can stop them
for kind in evil-sop-uid long-sop-uid; do
    f=$B/$kind.dcm
    u=$(sop_uid "$f")
    dcmconv -q -F +ti "$f" "$T/$kind.ds" 2>/dev/null
    r=$($DUL store "$HOST" "$PORT" "$AE" RAWCLIENT "$T/$kind.ds" "$DX" "$u" 2>&1)
    stray=$(find /tmp "$T" -maxdepth 6 -name '*radscribe-evil*' 2>/dev/null | head -n 3)
    rows=$(sql "SELECT count(*) FROM instances WHERE sop_instance_uid='$u';")
    # a UID over 64 characters in the command may also make DCMTK's command
    # parser abort the association; that is fine too
    okr=0
    case $kind:$r in *:"status 0xc001"|long-sop-uid:"peer closed"*) okr=1 ;; esac
    if [ $okr = 1 ] && [ "$rows" = 0 ] && [ -z "$stray" ]; then
        tap_ok "$kind: refused (${r#status }), nothing stored"
    else
        tap_fail "$kind: status 0xC001, nothing stored" "uid: $u" "answer: $r" "rows: $rows" \
            "files: $stray $(sql "SELECT path FROM instances WHERE sop_instance_uid='$u';")"
    fi
done

# 21-23: daemon fine; no stray files; totals
tap_check "daemon still answers C-ECHO" echo_ok
left=$(find "$SPOOL/tmp" -type f 2>/dev/null | wc -l)
tap_is "no partial files left in spool tmp/" "$left" 0
n=$(sql "SELECT count(*) FROM instances;")
nobj=$(find "$SPOOL/objects" -type f -name '*.dcm' | wc -l)
tap_is "exactly the 2 good instances are indexed and in the spool" "$n $nobj" "2 2"

# A loop of refused associations from one source: at most 20 events rows
# a minute for it (and as many log lines), and the daemon keeps serving.
before=$(sql "SELECT count(*) FROM events WHERE kind='assoc-rejected';")
for i in $(seq 40); do
    echoscu -to 5 -aet LOOPER -aec "$AE" "$HOST" "$PORT" > /dev/null 2>&1
done
after=$(sql "SELECT count(*) FROM events WHERE kind='assoc-rejected';")
nlog=$(grep -c "association from LOOPER (127.0.0.1) refused" "$DLOG")
if [ $((after - before)) -le 20 ] && [ $((after - before)) -ge 1 ] && [ "$nlog" -le 20 ]; then
    tap_ok "40 refused associations from one source: $((after - before)) events rows and $nlog log lines (at most 20 a minute)"
else
    tap_fail "40 refused associations from one source: at most 20 events rows and log lines" \
        "rows: $((after - before)), log lines: $nlog"
fi
tap_check "... and an allowed AE still gets C-ECHO" echo_ok

# Files that name patients are not readable by others (umask 027).
modes=$(stat -c '%a %n' "$DB" "$DB-wal" "$SPOOL/objects" \
    $(find "$SPOOL/objects" -type f -name '*.dcm' | head -n 1) 2>&1)
if [ -n "$modes" ] && ! awk '{ if (substr($1, length($1), 1) != "0") bad = 1 } END { exit !bad }' <<<"$modes" &&
   [ "$(stat -c %a "$DB")" = 640 ]; then
    tap_ok "database, WAL, spool and objects: no access for others (database 0640)"
else
    tap_fail "database, WAL, spool and objects: no access for others" "$modes"
fi

stop_daemon
tap_done
