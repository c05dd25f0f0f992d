#!/bin/sh
# check.sh - the README's test command: install what is missing, then run
# the whole suite twice, in a plain build (build/) and in an ASan+UBSan
# build (build-asan/).  Ends with one "N passed, N failed" line.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tests/deps.sh"
cd "$top"
# VPATH builds need an unconfigured source tree.
if [ -f config.status ]; then
	echo "check.sh: the source tree is configured in place; run 'make distclean' first" >&2
	exit 1
fi
autoreconf -fi
rc=0
for variant in build build-asan; do
	flags=
	[ "$variant" = build-asan ] && flags=--enable-sanitizers
	mkdir -p "$variant"
	(cd "$variant" && ../configure -q $flags && make -j2 >/dev/null) || exit 1
	(cd "$variant" && make check) || rc=1
done
pass=0 fail=0
for log in build/test-suite.log build-asan/test-suite.log; do
	[ -f "$log" ] || continue
	p=$(sed -n 's/^# PASS: *//p' "$log")
	f=$(awk '/^# (FAIL|ERROR|XPASS): */ { n += $3 } END { print n + 0 }' "$log")
	pass=$((pass + ${p:-0}))
	fail=$((fail + f))
done
echo "check: $pass passed, $fail failed"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
