#!/bin/bash
# Spool on a 12 MiB tmpfs: fill it up.  Senders get 0xA700 (out of
# resources), the daemon keeps running, earlier data stay intact, no partial
# file or dangling row is left, and storage works again once space is freed.
# Needs root (mount).
. "$(dirname "$0")/lib.sh"

tap_plan 10
need "$RADSCRIBED" storescu echoscu dcmdump sqlite3 mount umount
need_pydicom
if [ "$(id -u)" != 0 ]; then
    echo "# needs root to mount a tmpfs"
    tap_bail_rest "not root"
fi

FS=$T/fs
mkdir -p "$FS"
if ! mount -t tmpfs -o size=12m,mode=0755 radscribe-e2e "$FS"; then
    tap_bail_rest "cannot mount a tmpfs on $FS"
fi
MOUNTS="$FS"
stop_before_umount() { [ -n "$DPID" ] && kill9_daemon; }
CLEANUP_HOOKS=stop_before_umount

mkdir -p "$FS/spool"
SPOOL_OVERRIDE=$FS/spool write_conf full
start_daemon || tap_bail_rest "radscribed did not start"

# 1: an early study goes in
mkstudy "$T/early" --mono1 lateral > /dev/null || tap_bail_rest "fixture generation failed"
storescu -v -aec "$AE" "$HOST" "$PORT" "$T/early/frontal.dcm" "$T/early/lateral.dcm" > "$T/early.log" 2>&1
tap_is "early study stored before the disk fills (storescu exit, Success count)" \
    "$?:$(acked_files "$T/early.log" | wc -l)" "0:2"

# fill the file system, leaving about 700 KiB
free=$(df -B1 --output=avail "$FS" | tail -n 1 | tr -d ' ')
fill=$((free - 700 * 1024))
head -c "$fill" /dev/zero > "$FS/filler" 2>/dev/null
sync

# 2-3: send 40 images of about 65 KiB each; keep going after failures
mkimages "$T/img" 40 --per-study 40 --size 256 > /dev/null
storescu -v -nh -aec "$AE" "$HOST" "$PORT" "$T"/img/*.dcm > "$T/full.log" 2>&1
ok=$(grep -c 'Received Store Response (Success)' "$T/full.log")
fail=$(grep -ciE 'Received Store Response \((Refused|Error|Failure|Out ?of ?Resources)' "$T/full.log")
if [ "$ok" -ge 1 ] && [ "$ok" -lt 40 ]; then
    tap_ok "some images fit ($ok of 40), then the spool is full"
else
    tap_fail "some images fit, then the spool is full" "Success responses: $ok of 40"
fi
storescu -d -aec "$AE" "$HOST" "$PORT" "$T/img/img0039.dcm" > "$T/full-d.log" 2>&1
st=$(grep -i 'DIMSE Status' "$T/full-d.log" | tail -n 1)
if [ "$fail" -ge 1 ] && grep -qi '0xa7' <<<"$st"; then
    tap_ok "sender gets out of resources (0xA7xx) when the spool is full [$st]"
else
    tap_fail "sender gets out of resources (0xA7xx) when the spool is full" \
        "failure responses in -v log: $fail" "last status (-d): $st" \
        "$(grep -E 'Store Response|^[EF]:' "$T/full.log" | sort | uniq -c | head -n 5)"
fi

# 4: the daemon is still running and serving
if alive && echo_ok >/dev/null 2>&1; then
    tap_ok "daemon still running and answers C-ECHO with a full disk"
else
    tap_fail "daemon still running and answers C-ECHO with a full disk"
fi

# 5: earlier data intact
bad=
for v in frontal lateral; do
    p=$(instance_path "$(sop_uid "$T/early/$v.dcm")") && same_dataset "$T/early/$v.dcm" "$p" >/dev/null 2>&1 || bad="$bad $v"
done
tap_is "early study files intact (same data sets)" "$bad" ""

# 6: acknowledged images are indexed and readable; refused ones are not
bad=0
for f in $(acked_files "$T/full.log"); do
    p=$(instance_path "$(sop_uid "$f")") && dcmdump -q "$p" >/dev/null 2>&1 || bad=$((bad + 1))
done
nrows=$(sql "SELECT count(*) FROM instances;")
want=$((2 + $(acked_files "$T/full.log" | wc -l)))
tap_is "every acknowledged image is indexed and readable, and only those ($want rows)" "$bad $nrows" "0 $want"

# 7: no partial file in tmp/, no row without its file, no file without a row
left=$(find "$FS/spool/tmp" -type f 2>/dev/null | wc -l)
orphans=0
while IFS='|' read -r u p; do
    case $p in /*) ;; *) p=$SPOOL/$p ;; esac
    [ -s "$p" ] || orphans=$((orphans + 1))
done < <(sql "SELECT sop_instance_uid, path FROM instances;")
nobj=$(find "$FS/spool/objects" -type f -name '*.dcm' | wc -l)
tap_is "no file left in spool tmp/, no row without a file, objects = rows" \
    "$left $orphans $nobj" "0 0 $nrows"

# 8-9: free space: storage works again
rm -f "$FS/filler"
mkimages "$T/after" 3 --size 256 --prefix after > /dev/null
storescu -v -aec "$AE" "$HOST" "$PORT" "$T"/after/*.dcm > "$T/after.log" 2>&1
rc=$?
n=$(acked_files "$T/after.log" | wc -l)
tap_is "after freeing space, new images are stored (storescu exit, Success count)" "$rc $n" "0 3"
bad=0
for f in "$T"/after/*.dcm; do
    p=$(instance_path "$(sop_uid "$f")") && same_dataset "$f" "$p" >/dev/null 2>&1 || bad=$((bad + 1))
done
storescu -v -aec "$AE" "$HOST" "$PORT" "$T/img/img0039.dcm" > "$T/retry.log" 2>&1
rc=$?
p=$(instance_path "$(sop_uid "$T/img/img0039.dcm")")
if [ "$bad" = 0 ] && [ $rc -eq 0 ] && [ -n "$p" ] && same_dataset "$T/img/img0039.dcm" "$p" >/dev/null 2>&1; then
    tap_ok "the new images and a retried refused image are indexed with intact files"
else
    tap_fail "the new images and a retried refused image are indexed with intact files" \
        "bad new: $bad, retry exit $rc, path '$p'"
fi

stop_daemon
tap_is "SIGTERM: radscribed exits 0" "$?" 0
tap_done
