#!/bin/bash
# radscribed -n: config check.  A good config exits 0 and prints the
# effective settings; bad lines exit 1 with "FILE:LINE:" on stderr.
. "$(dirname "$0")/lib.sh"

# name | bad line
BAD_CASES=(
    "unknown key|colour = blue"
    "non-numeric settle_time|settle_time = soon"
    "settle_time above 86400|settle_time = 86401"
    "negative settle_time|settle_time = -1"
    "max_associations 0|max_associations = 0"
    "max_associations 257|max_associations = 257"
    "max_pdu below 4096|max_pdu = 1024"
    "max_pdu above 131072|max_pdu = 131073"
    "acse_timeout 0|acse_timeout = 0"
    "dimse_timeout 3601|dimse_timeout = 3601"
    "shutdown_timeout trailing junk|shutdown_timeout = 10s"
    "ae_title of 17 characters|ae_title = ABCDEFGHIJKLMNOPQ"
    "empty ae_title|ae_title ="
    "unknown log_level|log_level = chatty"
    "listen port out of range|listen = 127.0.0.1:70000"
    "listen without port|listen = 127.0.0.1"
    "listen with a bad address|listen = 999.1.1.1:104"
    "unknown accept_sop_class name|accept_sop_class = NoSuchStorageClass"
    "line without =|settle_time 5"
    "allow without an AE title|allow ="
    "archive with three fields|archive = pacs PACS 10.0.0.5"
    "archive port out of range|archive = pacs PACS 10.0.0.5 70000"
    "archive AE title too long|archive = pacs ABCDEFGHIJKLMNOPQ 10.0.0.5 104"
    "unknown redraft value|redraft = sometimes"
    "unknown sr_sop_class|sr_sop_class = fancy"
    "beams 9|beams = 9"
    "threads 0|threads = 0"
    "findings_max_tokens 0|findings_max_tokens = 0"
    "empty model|model ="
    "allow_query without an AE title|allow_query ="
    "allow_query AE title too long|allow_query = ABCDEFGHIJKLMNOPQ"
    "allow_query with three fields|allow_query = QR 127.0.0.1 extra"
    "move_destination with two fields|move_destination = PACS 10.0.0.5"
    "move_destination port out of range|move_destination = PACS 10.0.0.5 70000"
    "move_destination AE title too long|move_destination = ABCDEFGHIJKLMNOPQ 10.0.0.5 104"
    "query_images neither yes nor no|query_images = maybe"
    "max_instance_size not a size|max_instance_size = 12X"
    "max_instance_size below 1M|max_instance_size = 64K"
    "max_decoded_size above 1T|max_decoded_size = 2T"
    "unknown_body_part neither draft nor refuse|unknown_body_part = guess"
)

tap_plan $((12 + ${#BAD_CASES[@]}))
need "$RADSCRIBED"

# 1-4: a good config
write_conf good \
    "allow = MODALITY1 127.0.0.1" \
    "allow = ECHOSCU" \
    "accept_sop_class = DigitalXRayImageStorageForPresentation" \
    "accept_sop_class = 1.2.840.10008.5.1.4.1.1.1" \
    "max_pdu = 32768" \
    "max_instance_size = 256M" \
    "max_decoded_size = 1073741824"
out=$("$RADSCRIBED" -n -f "$CONF" 2>"$T/err")
rc=$?
tap_is "good config: radscribed -n exits 0" "$rc" 0
missing=
for want in "ae_title = RADSCRIBE" "listen = $HOST:$PORT" "spool_dir = $SPOOL" \
            "database = $DB" "settle_time = 1" "max_associations = 24" \
            "log_level = debug" "max_pdu = 32768" "acse_timeout = 5" \
            "dimse_timeout = 10" "shutdown_timeout = 5" \
            "max_instance_size = 256M" "max_decoded_size = 1G" \
            "unknown_body_part = draft"; do
    printf '%s\n' "$out" | grep -qxF "$want" || missing="$missing|$want"
done
if [ -z "$missing" ]; then
    tap_ok "good config: effective config printed as key = value lines"
else
    tap_fail "good config: effective config printed as key = value lines" \
        "missing lines: $missing" "stdout was:" "$out"
fi
if printf '%s\n' "$out" | grep -E '^allow *=' | grep -q 'MODALITY1' &&
   printf '%s\n' "$out" | grep -E '^allow *=' | grep -q '127\.0\.0\.1' &&
   printf '%s\n' "$out" | grep -E '^allow *=' | grep -q 'ECHOSCU'; then
    tap_ok "good config: allow entries printed"
else
    tap_fail "good config: allow entries printed" "$out"
fi
n=$(printf '%s\n' "$out" | grep -cE '^accept_sop_class *= *')
if [ "$n" -eq 2 ]; then
    tap_ok "good config: the two accept_sop_class entries replace the default list"
else
    tap_fail "good config: the two accept_sop_class entries replace the default list" \
        "found $n accept_sop_class lines" "$out"
fi

# 5-6: defaults (an empty file): the documented default values
printf '# nothing but a comment\n\n' > "$T/empty.conf"
out=$("$RADSCRIBED" -n -f "$T/empty.conf" 2>"$T/err")
rc=$?
tap_is "empty config: radscribed -n exits 0" "$rc" 0
missing=
for want in "ae_title = RADSCRIBE" "listen = 0.0.0.0:11112" \
            "settle_time = 30" "max_associations = 8" "log_level = info" \
            "max_pdu = 65536" "acse_timeout = 30" "dimse_timeout = 60" \
            "shutdown_timeout = 30"; do
    printf '%s\n' "$out" | grep -qxF "$want" || missing="$missing|$want"
done
# the spool and database defaults follow configure's localstatedir
# (/var with --localstatedir=/var, /usr/local/var by default)
printf '%s\n' "$out" | grep -qxE 'spool_dir = (/usr/local)?/var/spool/radscribe' || missing="$missing|spool_dir"
printf '%s\n' "$out" | grep -qxE 'database = (/usr/local)?/var/lib/radscribe/radscribe.db' || missing="$missing|database"
if [ -z "$missing" ]; then
    tap_ok "empty config: documented defaults printed"
else
    tap_fail "empty config: documented defaults printed" "missing: $missing" "$out"
fi

# 7: missing config file
"$RADSCRIBED" -n -f "$T/does-not-exist.conf" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && [ -s "$T/err" ]; then
    tap_ok "missing config file: exit 1 with a message"
else
    tap_fail "missing config file: exit 1 with a message" "exit $rc" "$(cat "$T/err")"
fi

# 8: the config check has no side effects: -n with a spool_dir and a
# database that do not exist creates neither (whatever it answers)
write_conf nofs
sed -i "s|^spool_dir = .*|spool_dir = $T/not/there|; s|^database = .*|database = $T/not/there.db|" "$CONF"
"$RADSCRIBED" -n -f "$CONF" >/dev/null 2>"$T/err"
rc=$?
if [ ! -e "$T/not" ] && [ ! -e "$T/not/there.db" ]; then
    tap_ok "-n creates no spool or database"
else
    tap_fail "-n creates no spool or database" "exit $rc" "$(cat "$T/err")" \
        "$(ls -la "$T/not" 2>&1 | head -5)"
fi

# bad lines: each in an otherwise good file, on a known line
for c in "${BAD_CASES[@]}"; do
    name=${c%%|*}
    line=${c#*|}
    write_conf bad
    {
        echo "# a comment line"
        echo "$line"
        echo "# trailing comment"
    } >> "$CONF"
    lineno=$(grep -nxF -- "$line" "$CONF" | head -n 1 | cut -d: -f1)
    "$RADSCRIBED" -n -f "$CONF" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -qF "$CONF:$lineno:" "$T/err"; then
        tap_ok "bad config ($name): exit 1, stderr has FILE:$lineno:"
    else
        tap_fail "bad config ($name): exit 1, stderr has FILE:$lineno:" \
            "line: $line" "exit $rc" "stderr: $(cat "$T/err")"
    fi
done

# start-up refusals that need more than parsing: exit 1, a clear message,
# nothing listening
startup_refusal() {
    local what=$1 pat=$2 rc
    shift 2
    write_conf refuse "$@"
    timeout 60 "$RADSCRIBED" -d -f "$CONF" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -qE "$pat" "$T/err"; then
        tap_ok "$what: exit 1 ($(grep -E "$pat" "$T/err" | head -n 1 | sed 's/.*crit: //'))"
    else
        tap_fail "$what: exit 1 with a message matching $pat" "exit $rc" "$(grep -v dcmtk "$T/err" | tail -n 3)"
    fi
}
startup_refusal "a model file that does not exist" "findings model $T/none.gguf:.*(No such file|not found|cannot)" \
    "model = $T/none.gguf" "mmproj = $T/none-mmproj.gguf"
head -c 3000 "$top_srcdir/models/radscribe-cxr.gguf" > "$T/cut.gguf"
startup_refusal "a truncated model file" "findings model $T/cut.gguf: " \
    "model = $T/cut.gguf" "mmproj = $top_srcdir/models/mmproj-radscribe-cxr.gguf"
printf '<?xml version="1.0"?>\n<template>\n<oops>\n</template>\n' > "$T/bad.xml"
startup_refusal "a malformed SR template" "$T/bad.xml:[0-9]+:" "sr_template = $T/bad.xml"
"$RADSCRIBED" -n -f <(printf 'model = /x.gguf\n') >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "mmproj go together" "$T/err"; then
    tap_ok "model without mmproj: exit 1 ($(cat "$T/err"))"
else
    tap_fail "model without mmproj: exit 1" "exit $rc" "$(cat "$T/err")"
fi

tap_done
