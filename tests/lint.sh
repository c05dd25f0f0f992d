#!/bin/sh
# lint.sh - layering rules and man page lint, as TAP.
#   src/*.c never includes DCMTK; src/infer never includes SQLite or the
#   bridge; src/dicom never includes SQLite; mandoc -Tlint is clean.
top=${top_srcdir:-$(dirname "$0")/..}
n=0 fail=0
check() {	# check DESCRIPTION OUTPUT
	n=$((n + 1))
	if [ -z "$2" ]; then echo "ok $n - $1"; else
		echo "not ok $n - $1"; echo "$2" | sed 's/^/# /'; fail=1; fi
}
echo "1..4"
check "src/*.c and src/*.h include no DCMTK header" \
	"$(grep -n 'include.*dcmtk/' "$top"/src/*.c "$top"/src/*.h 2>/dev/null)"
check "src/infer includes neither sqlite3.h nor the DICOM bridge" \
	"$(grep -rn 'include.*\(sqlite3\.h\|dcmbridge\.h\)' "$top"/src/infer 2>/dev/null)"
check "src/dicom includes no sqlite3.h" \
	"$(grep -rn 'include.*sqlite3\.h' "$top"/src/dicom 2>/dev/null)"
if command -v mandoc >/dev/null 2>&1; then
	check "mandoc -Tlint -Wwarning man/*" "$(mandoc -Tlint -Wwarning "$top"/man/* 2>&1)"
else
	check "mandoc -Tlint -Wwarning man/*" "mandoc is not installed"
fi
exit $fail
