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
)

tap_plan $((8 + ${#BAD_CASES[@]}))
need "$RADSCRIBED"

# 1-4: a good config
write_conf good \
    "allow = MODALITY1 127.0.0.1" \
    "allow = ECHOSCU" \
    "accept_sop_class = DigitalXRayImageStorageForPresentation" \
    "accept_sop_class = 1.2.840.10008.5.1.4.1.1.1" \
    "max_pdu = 32768"
out=$("$RADSCRIBED" -n -f "$CONF" 2>"$T/err")
rc=$?
tap_is "good config: radscribed -n exits 0" "$rc" 0
missing=
for want in "ae_title = RADSCRIBE" "listen = $HOST:$PORT" "spool_dir = $SPOOL" \
            "database = $DB" "settle_time = 1" "max_associations = 24" \
            "log_level = debug" "max_pdu = 32768" "acse_timeout = 5" \
            "dimse_timeout = 10" "shutdown_timeout = 5"; do
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

tap_done
