#!/bin/sh
# demo.sh - the README's first command: install what is missing, build
# radscribe, start radscribed on loopback with a scratch spool, send the
# shipped sample study with storescu, and show what was received and queued.
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
cleanup() {
	[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/radscribed.conf" <<CONF
ae_title = RADSCRIBE
listen = 127.0.0.1:$port
spool_dir = $work/spool
database = $work/radscribe.db
settle_time = 2
log_level = info
CONF

echo "== starting radscribed on 127.0.0.1:$port (log: $work/radscribed.log)"
"$bin/radscribed" -d -f "$work/radscribed.conf" 2>"$work/radscribed.log" &
pid=$!
i=0
until echoscu -aec RADSCRIBE 127.0.0.1 "$port" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 50 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "radscribed did not start:" >&2
		cat "$work/radscribed.log" >&2
		exit 1
	fi
	sleep 0.2
done

echo "== building the sample study (tests/sample) and sending it with storescu"
sh "$top/tests/sample/mkstudy.sh" "$work/study" >/dev/null
TCP_NODELAY=1 storescu -v -aet DEMO -aec RADSCRIBE 127.0.0.1 "$port" "$work"/study/*.dcm 2>&1 |
	grep -E 'Sending file|Store Response'

echo "== waiting for the study to settle (settle_time = 2 s)"
sleep 3.5
echo "== radscribe status"
"$bin/radscribe" -f "$work/radscribed.conf" status
echo "== instances in the index"
sqlite3 -header -column "$work/radscribe.db" \
	"SELECT sop_instance_uid, transfer_syntax, size, calling_ae FROM instances"
echo "== jobs"
sqlite3 -header -column "$work/radscribe.db" \
	"SELECT j.id, j.stage, j.state, s.study_uid FROM jobs j JOIN studies s ON s.id = j.study_id"
echo "== one stored file, as DCMTK reads it"
f=$(sqlite3 "$work/radscribe.db" "SELECT path FROM instances LIMIT 1")
dcmdump +P 0002,0010 +P 0008,0016 +P 0008,0018 +P 0020,000d +P 0008,0060 +P 0018,5101 "$f"
echo "== radscribed log"
grep -v 'dcmtk:' "$work/radscribed.log"
echo "(files kept in $work)"
