#!/bin/bash
# radscribe stats against a database in a known state: radscribed migrates
# an empty database, then sqlite3 inserts studies, reports and deliveries
# with chosen timestamps so that every percentile is known (nearest rank).
# The table, --json (parsed) and --format prometheus (parsed by $PY).
. "$(dirname "$0")/lib.sh"

tap_plan 12
need "$RADSCRIBED" "$RADSCRIBE" sqlite3 "$PY"

write_conf stats
start_daemon || tap_bail_rest "radscribed did not start"
stop_daemon

# Ten studies settled a day ago (last instance at B); report i made i s
# later.  Reports 1-4 went to two archives, the first accepting 2i s after
# the report; report 5 was never accepted.  Study 11 is 30 days old.
NOW=$(($(date +%s) * 1000))
B=$((NOW - 86400000))
OLD=$((NOW - 30 * 86400000))
q="BEGIN;"
row() { # id last_received report_created
    q="$q
INSERT INTO studies (id, study_uid, first_received_at, last_received_at, job_created_at)
  VALUES ($1, '2.25.9$1', $2, $2, $2);
INSERT INTO instances (sop_instance_uid, study_id, series_uid, sop_class_uid,
  transfer_syntax, path, size, received_at, calling_ae)
  VALUES ('2.25.8$1', $1, '2.25.7$1', '1.2.840.10008.5.1.4.1.1.1.1',
  '1.2.840.10008.1.2.1', '/nonexistent', 1, $2, 'MOD');
INSERT INTO reports (id, study_id, sop_instance_uid, series_uid, sop_class_uid,
  path, size, created_at, model, findings, impression)
  VALUES ($1, $1, '2.25.6$1', '2.25.5$1', '1.2.840.10008.5.1.4.1.1.88.33',
  '/nonexistent', 1, $3, 'm', 'f', 'i');"
}
for i in 1 2 3 4 5 6 7 8 9 10; do
    row $i $B $((B + i * 1000))
    q="$q INSERT INTO jobs (study_id, stage, state, created_at, updated_at)
      VALUES ($i, 'infer', 'DONE', $B, $B);"
done
for i in 1 2 3 4; do
    c=$((B + i * 1000))
    q="$q INSERT INTO deliveries (report_id, archive, accepted_at, status)
      VALUES ($i, 'a', $((c + i * 2000 + 500)), 0), ($i, 'b', $((c + i * 2000)), 0);
      INSERT INTO jobs (study_id, stage, state, created_at, updated_at)
      VALUES ($i, 'send', 'DONE', $c, $c);"
done
row 11 $OLD $((OLD + 100000))
q="$q INSERT INTO deliveries (report_id, archive, accepted_at, status)
      VALUES (5, 'a', NULL, NULL), (11, 'a', $((OLD + 300000)), 0);
    INSERT INTO jobs (study_id, stage, state, created_at, updated_at)
      VALUES (5, 'send', 'DEFERRED', $B, $B), (11, 'infer', 'FAILED', $OLD, $OLD);
    COMMIT;"
sql "$q" || tap_bail_rest "could not insert the known rows"

# 1-3: the table
out=$(rs stats 2>&1)
tap_is "stats exits 0" "$?" 0
tap_is "table: instances and accepted deliveries" \
    "$(printf '%s\n' "$out" | awk '$1 == "instances" || $1 == "deliveries_accepted" { printf "%s=%s ", $1, $2 }')" \
    "instances=11 deliveries_accepted=9 "
tap_is "table: the latency rows (count p50 p90 p99 max, seconds)" \
    "$(printf '%s\n' "$out" | awk '$1 ~ /_to_/ { $1 = $1; print }')" \
    "settle_to_report 10 5.000 9.000 10.000 10.000
report_to_accept 4 4.000 8.000 8.000 8.000
received_to_accept 4 6.000 12.000 12.000 12.000"

# 4-6: --json
jq_py() { "$PY" -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
js=$(rs stats --json)
tap_is "json: counters and jobs" \
    "$(printf '%s' "$js" | jq_py '[j["counters"][k] for k in ("instances", "studies", "reports", "deliveries_accepted")] + [j["jobs"]["infer"]["DONE"], j["jobs"]["infer"]["FAILED"], j["jobs"]["send"]["DONE"], j["jobs"]["send"]["DEFERRED"], j["jobs"]["send"]["HOLD"], j["days"]]')" \
    "[11, 11, 11, 9, 10, 1, 4, 1, 0, 7]"
tap_is "json: latencies in ms" \
    "$(printf '%s' "$js" | jq_py '[(k, [j["latency"][k][f] for f in ("count", "p50_ms", "p90_ms", "p99_ms", "max_ms")]) for k in ("settle_to_report", "report_to_accept", "received_to_accept")]')" \
    "[('settle_to_report', [10, 5000, 9000, 10000, 10000]), ('report_to_accept', [4, 4000, 8000, 8000, 8000]), ('received_to_accept', [4, 6000, 12000, 12000, 12000])]"
tap_is "json: --days 60 takes in the old study" \
    "$(rs stats --days 60 --json | jq_py '[j["latency"]["settle_to_report"][f] for f in ("count", "max_ms")] + [j["latency"]["received_to_accept"]["max_ms"]]')" \
    "[11, 100000, 300000]"

# 7-9: Prometheus text exposition format
cat > "$T/prom.py" <<'PYEOF'
import re, sys
sample = re.compile(r'^(radscribe_[a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (\S+)$')
helped, typed, vals, bad = set(), {}, {}, []
for line in sys.stdin.read().splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split()[2])
    elif line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        typed[name] = kind
    else:
        m = sample.match(line)
        if not m:
            bad.append(line); continue
        name = m.group(1)
        fam = re.sub(r'_(sum|count)$', '', name) if name not in typed else name
        if fam not in typed or fam not in helped:
            bad.append("no HELP/TYPE before: " + line)
        float(m.group(4))
        vals[name + (m.group(2) or "")] = m.group(4)
if bad:
    print("bad lines:", bad); sys.exit(1)
want = sys.argv[1:]
print(" ".join("%s=%s" % (w, vals.get(w)) for w in want))
print(" ".join(sorted(set(typed.values()))))
PYEOF
pr=$(rs stats --format prometheus)
tap_is "prometheus: well formed, gauges and summaries" \
    "$(printf '%s\n' "$pr" | "$PY" "$T/prom.py" | tail -n 1)" "gauge summary"
tap_is "prometheus: counts" \
    "$(printf '%s\n' "$pr" | "$PY" "$T/prom.py" radscribe_instances radscribe_deliveries_accepted \
        'radscribe_jobs{stage="infer",state="DONE"}' 'radscribe_jobs{stage="send",state="DEFERRED"}' | head -n 1)" \
    'radscribe_instances=11 radscribe_deliveries_accepted=9 radscribe_jobs{stage="infer",state="DONE"}=10 radscribe_jobs{stage="send",state="DEFERRED"}=1'
tap_is "prometheus: summaries in seconds" \
    "$(printf '%s\n' "$pr" | "$PY" "$T/prom.py" 'radscribe_settle_to_report_seconds{quantile="0.5"}' \
        'radscribe_settle_to_report_seconds{quantile="0.99"}' radscribe_settle_to_report_seconds_sum \
        radscribe_settle_to_report_seconds_count 'radscribe_received_to_accept_seconds{quantile="0.9"}' | head -n 1)" \
    'radscribe_settle_to_report_seconds{quantile="0.5"}=5.000 radscribe_settle_to_report_seconds{quantile="0.99"}=10.000 radscribe_settle_to_report_seconds_sum=55.000 radscribe_settle_to_report_seconds_count=10 radscribe_received_to_accept_seconds{quantile="0.9"}=12.000'

# 10-12: an empty window, usage errors
tap_is "prometheus: NaN quantiles and count 0 for an empty window" \
    "$(sql "DELETE FROM deliveries;" && rs stats --format prometheus | grep '^radscribe_report_to_accept_seconds' | tr '\n' ' ')" \
    'radscribe_report_to_accept_seconds{quantile="0.5"} NaN radscribe_report_to_accept_seconds{quantile="0.9"} NaN radscribe_report_to_accept_seconds{quantile="0.99"} NaN radscribe_report_to_accept_seconds{quantile="1"} NaN radscribe_report_to_accept_seconds_sum 0.000 radscribe_report_to_accept_seconds_count 0 '
rs stats --days 0 > /dev/null 2>&1
tap_is "--days 0 is a usage error (exit 2)" "$?" 2
rs stats --format xml > /dev/null 2>&1
tap_is "an unknown --format is a usage error (exit 2)" "$?" 2

tap_done
