#!/bin/sh
# lint.sh - layering and ownership rules, and man page lint, as TAP.
#   Layers: only src/dicom includes DCMTK; src/infer includes neither
#   SQLite nor the bridge; only src/store includes sqlite3.h or db_sql.h
#   and holds SQL.  Ownership: each table is written by one module (jobs
#   by queue.c alone).  Each rule is also run on a planted violation, so
#   a rule that can no longer fail fails here.
top=${top_srcdir:-$(dirname "$0")/..}
n=0 fail=0
check() {	# check DESCRIPTION OUTPUT
	n=$((n + 1))
	if [ -z "$2" ]; then echo "ok $n - $1"; else
		echo "not ok $n - $1"; echo "$2" | sed 's/^/# /'; fail=1; fi
}

# The writers of each table: "table file..." (paths under src/store).
OWNERS='jobs queue.c
studies instances.c settle.c
instances instances.c
reports reports.c
report_views reports.c
deliveries reports.c
qr_index qr_index.c
events events.c
settings db.c'

# Each rule prints its violations for the tree under $1 (a src/ folder).
rule_dcmtk() {
	grep -rn 'include.*dcmtk/' "$1" --include='*.c' --include='*.h' \
	    2>/dev/null | grep -v "^$1/dicom/"
}
rule_infer() {
	grep -rn 'include.*\(sqlite3\.h\|dcmbridge\.h\|db_sql\.h\)' "$1/infer" \
	    2>/dev/null
}
rule_sqlite_include() {
	grep -rn 'include.*\(sqlite3\.h\|db_sql\.h\)' "$1" 2>/dev/null |
	    grep -v "^$1/store/"
}
# An SQL statement is a string literal that starts with a statement verb.
SQL_RE='"[[:space:]]*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|WITH|PRAGMA)[[:space:]]'
rule_sql() {
	grep -rnE "$SQL_RE" "$1" --include='*.c' --include='*.cc' \
	    --include='*.h' 2>/dev/null | grep -v "^$1/store/"
}
rule_writers() {
	echo "$OWNERS" | while read -r table owners; do
		grep -rnEi "(INSERT( OR [A-Z]+)? INTO|UPDATE|DELETE FROM|REPLACE INTO)[[:space:]]+$table([^a-z_]|\$)" \
		    "$1" --include='*.c' --include='*.cc' 2>/dev/null |
		while IFS=: read -r file line rest; do
			ok=0
			for o in $owners; do
				[ "$file" = "$1/store/$o" ] && ok=1
			done
			[ $ok = 1 ] || echo "$file:$line: writes $table:$rest"
		done
	done
}
rule_jobs() {
	grep -rnEi "(INSERT( OR [A-Z]+)? INTO|UPDATE|DELETE FROM)[[:space:]]+jobs([^a-z_]|\$)" \
	    "$1" --include='*.c' --include='*.cc' 2>/dev/null |
	    grep -v "^$1/store/queue\.c:"
}

RULES="rule_dcmtk rule_infer rule_sqlite_include rule_sql rule_writers rule_jobs"
echo "1..13"
check "only src/dicom includes DCMTK" "$(rule_dcmtk "$top/src")"
check "src/infer includes neither sqlite3.h, db_sql.h nor the DICOM bridge" \
    "$(rule_infer "$top/src")"
check "only src/store includes sqlite3.h or store/db_sql.h" \
    "$(rule_sqlite_include "$top/src")"
check "no SQL outside src/store" "$(rule_sql "$top/src")"
check "each table is written only by its owner" "$(rule_writers "$top/src")"
check "only src/store/queue.c writes jobs" "$(rule_jobs "$top/src")"

# Planted violations: every rule must see the one made for it.
plant=$(mktemp -d) || exit 1
trap 'rm -rf "$plant"' EXIT
mkdir -p "$plant/src/node" "$plant/src/infer" "$plant/src/store"
printf '#include "dcmtk/config/osconfig.h"\n' > "$plant/src/node/a.c"
printf '#include <sqlite3.h>\n' > "$plant/src/infer/b.c"
printf '#include "store/db_sql.h"\n' > "$plant/src/node/c.c"
printf 'static const char q[] =\n    "SELECT 1 FROM studies";\n' > "$plant/src/node/d.c"
printf 'static const char q[] = "UPDATE reports SET x = 1";\n' \
    > "$plant/src/store/queue.c"
printf 'static const char q[] = "update jobs set state = 1";\n' \
    > "$plant/src/store/settle.c"
for r in $RULES; do
	check "$r fails on a planted violation" \
	    "$([ -n "$($r "$plant/src")" ] || echo "$r found nothing")"
done

if command -v mandoc >/dev/null 2>&1; then
	check "mandoc -Tlint -Wwarning man/*" "$(mandoc -Tlint -Wwarning "$top"/man/* 2>&1)"
else
	check "mandoc -Tlint -Wwarning man/*" "mandoc is not installed"
fi
exit $fail
