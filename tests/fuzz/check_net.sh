#!/bin/bash
# check_net.sh - make check's bounded run of the network face's libFuzzer
# harnesses (TAP): builds fuzz_recv and fuzz_find with run_net.sh into a
# temporary folder, then runs each for FUZZ_CHECK_SECONDS (default 30)
# from tests/fuzz/corpus-recv and corpus-find (new inputs go to the
# temporary folder, never into the tree).  Passes iff neither crashes,
# leaks, times out or reports undefined behaviour.  clang and clang++ are
# test dependencies (tests/deps.sh): without them the test fails.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_CHECK_SECONDS:-30}
cc=${CLANG:-clang}
cxx=${CLANGXX:-clang++}

echo "1..3"
if ! command -v "$cc" >/dev/null 2>&1 || ! command -v "$cxx" >/dev/null 2>&1; then
	echo "not ok 1 - build the harnesses: $cc or $cxx not found (tests/deps.sh installs clang)"
	echo "not ok 2 - fuzz_recv: not built"
	echo "not ok 3 - fuzz_find: not built"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rs-fuzz-net.XXXXXX") || exit 1
fail=0

if FUZZ_OUT=$tmp sh "$top/tests/fuzz/run_net.sh" 0 >"$tmp/build.log" 2>&1; then
	echo "ok 1 - build the harnesses (clang, ASan, UBSan, libFuzzer)"
else
	echo "not ok 1 - build the harnesses"
	tail -n 20 "$tmp/build.log" | sed 's/^/# /'
	echo "not ok 2 - fuzz_recv: not built"
	echo "not ok 3 - fuzz_find: not built"
	echo "# build output kept in $tmp"
	exit 1
fi

n=1
for h in recv find; do
	n=$((n + 1))
	mkdir -p "$tmp/work-$h"
	if (cd "$tmp" && "./fuzz_$h" -max_total_time="$secs" -max_len=8192 \
	    -timeout=25 -artifact_prefix="$tmp/$h-" -print_final_stats=1 \
	    "work-$h" "$top/tests/fuzz/corpus-$h") >"$tmp/$h.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$h.log")
		echo "ok $n - fuzz_$h: ${secs} s, ${runs:-?} inputs, no crash"
	else
		echo "not ok $n - fuzz_$h crashed (input and log kept in $tmp)"
		grep -E '^(fuzz_|==[0-9]+==ERROR|SUMMARY|.*runtime error)' \
		    "$tmp/$h.log" | head -n 10 | sed 's/^/# /'
		ls "$tmp" | grep -E "^$h-" | sed 's/^/# /'
		fail=1
	fi
done
[ "$fail" = 0 ] && rm -rf "$tmp"
exit "$fail"
