/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_stats - `radscribe stats`: counters (rows in the database now, jobs
 * by stage and state) and latency percentiles over the last N days, as an
 * aligned table, JSON or the Prometheus text exposition format (for
 * node_exporter's textfile collector).  Reads only; CLI main thread.
 */
#include "store/db_sql.h"
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <json-c/json.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/xmem.h"

#define DAY_MS	(24 * 60 * 60 * 1000LL)

static const char *const stages[] = { "infer", "send" };
static const char *const states[] = {
	"INCOMING", "ACTIVE", "DEFERRED", "DONE", "FAILED", "HOLD"
};
#define NSTAGES	(int)(sizeof(stages) / sizeof(*stages))
#define NSTATES	(int)(sizeof(states) / sizeof(*states))

static const struct {
	const char	*name, *help, *sql;
} counters[] = {
	{ "instances", "Instances in the database.",
	    "SELECT count(*) FROM instances" },
	{ "studies", "Studies in the database.",
	    "SELECT count(*) FROM studies" },
	{ "reports", "Reports drafted (superseded ones included).",
	    "SELECT count(*) FROM reports" },
	{ "deliveries_accepted", "Report deliveries an archive accepted.",
	    "SELECT count(*) FROM deliveries WHERE accepted_at IS NOT NULL" },
};
#define NCOUNTERS (int)(sizeof(counters) / sizeof(*counters))

/*
 * Latencies in ms; each query yields one per report whose end event falls
 * at or after ?1 (the start of the window).  "First acceptance" is the
 * earliest accepted_at among a report's deliveries.
 */
static const struct {
	const char	*name, *help, *sql;
} lats[] = {
	{ "settle_to_report", "Last instance of a study received to its report created.",
	    "SELECT r.created_at - s.last_received_at FROM reports r"
	    " JOIN studies s ON s.id = r.study_id WHERE r.created_at >= ?1" },
	{ "report_to_accept", "Report created to its first acceptance by an archive.",
	    "SELECT min(d.accepted_at) - r.created_at FROM reports r"
	    " JOIN deliveries d ON d.report_id = r.id"
	    " WHERE d.accepted_at IS NOT NULL GROUP BY r.id"
	    " HAVING min(d.accepted_at) >= ?1" },
	{ "received_to_accept", "Last instance of a study received to the first acceptance of its report.",
	    "SELECT min(d.accepted_at) - s.last_received_at FROM reports r"
	    " JOIN studies s ON s.id = r.study_id"
	    " JOIN deliveries d ON d.report_id = r.id"
	    " WHERE d.accepted_at IS NOT NULL GROUP BY r.id"
	    " HAVING min(d.accepted_at) >= ?1" },
};
#define NLATS	(int)(sizeof(lats) / sizeof(*lats))

/* Quantiles reported; the nearest-rank method (no interpolation). */
static const struct {
	const char	*name, *label;
	int		 pct;
} qs[] = {
	{ "p50", "0.5", 50 }, { "p90", "0.9", 90 }, { "p99", "0.99", 99 },
	{ "max", "1", 100 },
};
#define NQS	(int)(sizeof(qs) / sizeof(*qs))

struct lat {
	int64_t		 count, sum;
	int64_t		 q[NQS];	/* ms; meaningless when count is 0 */
};

struct stats {
	int		 days;
	int64_t		 since;
	int64_t		 counters[NCOUNTERS];
	int64_t		 jobs[NSTAGES][NSTATES];
	struct lat	 lat[NLATS];
};

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* latency - run one latency query, sort, take the nearest ranks */
static int
latency(struct db *db, const char *sql, int64_t since, struct lat *l)
{
	sqlite3_stmt *st;
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((st = db_prepare(db, sql)) == NULL ||
	    sqlite3_bind_int64(st, 1, since) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	if (n > 0) {
		qsort(v, n, sizeof(*v), cmp64);
		for (size_t i = 0; i < n; i++)
			l->sum += v[i];
		for (int i = 0; i < NQS; i++) {
			/* rank = ceil(pct/100 * n), 1-based */
			size_t rank = ((size_t)qs[i].pct * n + 99) / 100;

			l->q[i] = v[rank > 0 ? rank - 1 : 0];
		}
	}
	l->count = (int64_t)n;
	free(v);
	return 0;
}

static int
collect(struct db *db, struct stats *s)
{
	sqlite3_stmt *st;
	int rc;

	for (int i = 0; i < NCOUNTERS; i++) {
		if ((st = db_prepare(db, counters[i].sql)) == NULL)
			return -1;
		rc = db_step(db, st);
		s->counters[i] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return -1;
	}
	if ((st = db_prepare(db, "SELECT stage, state, count(*) FROM jobs"
	    " GROUP BY stage, state")) == NULL)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		const char *sg = (const char *)sqlite3_column_text(st, 0);
		const char *se = (const char *)sqlite3_column_text(st, 1);

		for (int i = 0; i < NSTAGES; i++)
			for (int j = 0; j < NSTATES; j++)
				if (sg != NULL && se != NULL &&
				    strcmp(sg, stages[i]) == 0 &&
				    strcmp(se, states[j]) == 0)
					s->jobs[i][j] = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	for (int i = 0; i < NLATS; i++)
		if (latency(db, lats[i].sql, s->since, &s->lat[i]) == -1)
			return -1;
	return 0;
}

/* secs - ms as seconds with 3 decimals into buf */
static const char *
secs(int64_t ms, char *buf, size_t sz)
{
	int64_t a = ms < 0 ? -ms : ms;

	snprintf(buf, sz, "%s%" PRId64 ".%03" PRId64, ms < 0 ? "-" : "",
	    a / 1000, a % 1000);
	return buf;
}

static void
print_table(const struct stats *s, FILE *fp)
{
	static const char *const h1[] = { "COUNTER", "VALUE" };
	static const char *const h2[] = {
		"LATENCY (s)", "COUNT", "P50", "P90", "P99", "MAX"
	};
	struct cli_table *t = cli_table_new(2, h1);
	char name[64], val[32], cells[NQS][32];

	for (int i = 0; i < NCOUNTERS; i++) {
		const char *row[2] = { counters[i].name, val };

		snprintf(val, sizeof(val), "%" PRId64, s->counters[i]);
		cli_table_add(t, row);
	}
	for (int i = 0; i < NSTAGES; i++)
		for (int j = 0; j < NSTATES; j++) {
			const char *row[2] = { name, val };

			snprintf(name, sizeof(name), "jobs %s %s", stages[i],
			    states[j]);
			snprintf(val, sizeof(val), "%" PRId64, s->jobs[i][j]);
			cli_table_add(t, row);
		}
	cli_table_print(t, fp);
	cli_table_free(t);

	fprintf(fp, "\nlast %d days (since %s):\n", s->days,
	    cli_time(s->since, name, sizeof(name)));
	t = cli_table_new(6, h2);
	for (int i = 0; i < NLATS; i++) {
		const char *row[6] = { lats[i].name, val };

		snprintf(val, sizeof(val), "%" PRId64, s->lat[i].count);
		for (int k = 0; k < NQS; k++)
			row[2 + k] = s->lat[i].count == 0 ? NULL :
			    secs(s->lat[i].q[k], cells[k], sizeof(cells[k]));
		cli_table_add(t, row);
	}
	cli_table_print(t, fp);
	cli_table_free(t);
}

static json_object *
to_json(const struct stats *s)
{
	json_object *o = json_object_new_object(), *c, *j, *l;

	json_object_object_add(o, "days", json_object_new_int(s->days));
	json_object_object_add(o, "since", json_object_new_int64(s->since));
	c = json_object_new_object();
	for (int i = 0; i < NCOUNTERS; i++)
		json_object_object_add(c, counters[i].name,
		    json_object_new_int64(s->counters[i]));
	json_object_object_add(o, "counters", c);
	j = json_object_new_object();
	for (int i = 0; i < NSTAGES; i++) {
		json_object *st = json_object_new_object();

		for (int k = 0; k < NSTATES; k++)
			json_object_object_add(st, states[k],
			    json_object_new_int64(s->jobs[i][k]));
		json_object_object_add(j, stages[i], st);
	}
	json_object_object_add(o, "jobs", j);
	l = json_object_new_object();
	for (int i = 0; i < NLATS; i++) {
		json_object *x = json_object_new_object();
		char key[16];

		json_object_object_add(x, "count",
		    json_object_new_int64(s->lat[i].count));
		for (int k = 0; k < NQS; k++) {
			snprintf(key, sizeof(key), "%s_ms", qs[k].name);
			json_object_object_add(x, key, s->lat[i].count == 0 ?
			    NULL : json_object_new_int64(s->lat[i].q[k]));
		}
		json_object_object_add(l, lats[i].name, x);
	}
	json_object_object_add(o, "latency", l);
	return o;
}

/* print_prom - the text exposition format, version 0.0.4 */
static void
print_prom(const struct stats *s, FILE *fp)
{
	char b[32];

	for (int i = 0; i < NCOUNTERS; i++)
		fprintf(fp, "# HELP radscribe_%s %s\n# TYPE radscribe_%s gauge\n"
		    "radscribe_%s %" PRId64 "\n", counters[i].name,
		    counters[i].help, counters[i].name, counters[i].name,
		    s->counters[i]);
	fprintf(fp, "# HELP radscribe_jobs Jobs by stage and state.\n"
	    "# TYPE radscribe_jobs gauge\n");
	for (int i = 0; i < NSTAGES; i++)
		for (int j = 0; j < NSTATES; j++)
			fprintf(fp, "radscribe_jobs{stage=\"%s\",state=\"%s\"} %"
			    PRId64 "\n", stages[i], states[j], s->jobs[i][j]);
	fprintf(fp, "# HELP radscribe_stats_window_days Days the latency "
	    "summaries cover.\n# TYPE radscribe_stats_window_days gauge\n"
	    "radscribe_stats_window_days %d\n", s->days);
	for (int i = 0; i < NLATS; i++) {
		const struct lat *l = &s->lat[i];
		const char *n = lats[i].name;

		fprintf(fp, "# HELP radscribe_%s_seconds %s Last %d days.\n"
		    "# TYPE radscribe_%s_seconds summary\n", n, lats[i].help,
		    s->days, n);
		for (int k = 0; k < NQS; k++)
			fprintf(fp, "radscribe_%s_seconds{quantile=\"%s\"} %s\n",
			    n, qs[k].label, l->count == 0 ? "NaN" :
			    secs(l->q[k], b, sizeof(b)));
		fprintf(fp, "radscribe_%s_seconds_sum %s\n", n,
		    secs(l->sum, b, sizeof(b)));
		fprintf(fp, "radscribe_%s_seconds_count %" PRId64 "\n", n,
		    l->count);
	}
}

/* cli_stats - `stats [--days N] [--json | --format table|json|prometheus]` */
int
cli_stats(const char *conf_path, int argc, char *argv[])
{
	static const char us[] = "usage: radscribe stats [--days N] "
	    "[--json | --format table|json|prometheus]";
	enum { TABLE, JSON, PROM } fmt = TABLE;
	struct stats s;
	struct conf conf;
	struct db *db;
	int rc;

	memset(&s, 0, sizeof(s));
	s.days = 7;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			fmt = JSON;
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			const char *f = argv[++i];

			if (strcmp(f, "table") == 0)
				fmt = TABLE;
			else if (strcmp(f, "json") == 0)
				fmt = JSON;
			else if (strcmp(f, "prometheus") == 0)
				fmt = PROM;
			else
				return cli_usage("%s", us);
		} else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			char *end;
			long d;

			errno = 0;
			d = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || end == argv[i] ||
			    d < 1 || d > 36500)
				return cli_usage("stats: --days wants 1 to "
				    "36500");
			s.days = (int)d;
		} else
			return cli_usage("%s", us);
	}
	s.since = clock_now_ms() - s.days * DAY_MS;
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	if (collect(db, &s) == -1) {
		rc = cli_error("stats: %s", db_errmsg(db));
		cli_close(&conf, db);
		return rc;
	}
	cli_close(&conf, db);
	switch (fmt) {
	case JSON:
		return cli_json_print(to_json(&s), stdout) == 0 ? CLI_OK :
		    CLI_ERROR;
	case PROM:
		print_prom(&s, stdout);
		break;
	case TABLE:
		print_table(&s, stdout);
		break;
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
}
