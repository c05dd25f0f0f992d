#!/bin/sh
# demo.sh - the README's first command: install what is missing, build
# radscribe, start a local Orthanc as the archive and radscribed with the
# default model on loopback, send the shipped sample study with storescu,
# and print the Structured Report that arrives in the archive.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tests/deps.sh"
cd "$top"
if [ -f config.status ]; then
	bin=$top/src		# configured in place: use that build
	make -j2 >/dev/null
else
	[ -x configure ] || autoreconf -fi
	mkdir -p build
	(cd build && { [ -f Makefile ] || ../configure -q; } && make -j2 >/dev/null)
	bin=$top/build/src
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/radscribe-demo.XXXXXX")
pid=
opid=
cleanup() {
	for p in $pid $opid; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM
py=/usr/bin/python3
freeport() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# rest PATH [POST]: Orthanc's REST API on loopback
rest() {
	$py - "http://127.0.0.1:$ohttp/$1" "${2:-}" <<'PY'
import sys, urllib.request
data = sys.argv[2].encode() if sys.argv[2] else None
with urllib.request.urlopen(sys.argv[1], data=data, timeout=10) as r:
    sys.stdout.buffer.write(r.read())
PY
}

# A local Orthanc stands in for the hospital's archive.
oport=$(freeport)
ohttp=$(freeport)
mkdir -p "$work/orthanc/db"
cat > "$work/orthanc/config.json" <<JSON
{ "Name": "radscribe-demo-archive", "StorageDirectory": "$work/orthanc/db",
  "IndexDirectory": "$work/orthanc/db", "DicomAet": "ARCHIVE",
  "DicomPort": $oport, "HttpPort": $ohttp, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": true, "Plugins": [] }
JSON
echo "== starting Orthanc as the archive (AE ARCHIVE, 127.0.0.1:$oport)"
/usr/sbin/Orthanc "$work/orthanc/config.json" 2>"$work/orthanc.log" &
opid=$!
i=0
until rest system >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 150 ] || ! kill -0 "$opid" 2>/dev/null; then
		echo "Orthanc did not start:" >&2
		tail -n 20 "$work/orthanc.log" >&2
		exit 1
	fi
	sleep 0.2
done

port=$(freeport)
cat > "$work/radscribed.conf" <<CONF
ae_title = RADSCRIBE
listen = 127.0.0.1:$port
spool_dir = $work/spool
database = $work/radscribe.db
settle_time = 2
log_level = info
# no model keys: the default model shipped in models/
archive = pacs ARCHIVE 127.0.0.1 $oport
CONF

echo "== starting radscribed on 127.0.0.1:$port with the default model (log: $work/radscribed.log)"
"$bin/radscribed" -d -f "$work/radscribed.conf" 2>"$work/radscribed.log" &
pid=$!
i=0
until echoscu -aec RADSCRIBE 127.0.0.1 "$port" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 150 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "radscribed did not start:" >&2
		cat "$work/radscribed.log" >&2
		exit 1
	fi
	sleep 0.2
done

echo "== building the sample study (tests/sample) and sending it with storescu"
sh "$top/tests/sample/mkstudy.sh" "$work/study" >/dev/null
study=$(dcmdump -q +P 0020,000d "$work"/study/p253_07_PA.dcm | sed -n 's/.*\[\(.*\)\].*/\1/p')
TCP_NODELAY=1 storescu -v -aet DEMO -aec RADSCRIBE 127.0.0.1 "$port" "$work"/study/*.dcm 2>&1 |
	grep -E 'Sending file|Store Response'

echo "== waiting for the report to reach the archive (settle_time 2 s, then the model)"
find_sr() {
	rest tools/find "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$study\",\"Modality\":\"SR\"}}" |
		$py -c 'import json,sys; print("\n".join(json.load(sys.stdin)))'
}
i=0
until [ -n "$(find_sr)" ]; do
	i=$((i + 1))
	if [ "$i" -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "no report arrived; radscribed log:" >&2
		grep -v 'dcmtk:' "$work/radscribed.log" >&2
		exit 1
	fi
	sleep 0.2
done
rest "instances/$(find_sr | head -n 1)/file" > "$work/report.dcm"
echo "== radscribe status"
"$bin/radscribe" -f "$work/radscribed.conf" status
echo "== the Structured Report, as the archive holds it (dsrdump)"
dsrdump +Pl "$work/report.dcm" 2>&1 | grep -v "VR checker"
echo "== radscribed log"
grep -v 'dcmtk:' "$work/radscribed.log"
echo "(files kept in $work)"
