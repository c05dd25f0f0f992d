/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_stats - `radscribe stats`: counters (rows in the database now, jobs
 * by stage and state) and latency percentiles over the last N days, as an
 * aligned table, JSON or the Prometheus text exposition format (for
 * node_exporter's textfile collector).  Reads only; CLI main thread.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "store/catalog.h"
#include "store/queue.h"

#define DAY_MS	(24 * 60 * 60 * 1000LL)

/* The order of enum queue_stage and enum queue_state (queue.h). */
static const char *const stages[] = { "infer", "send" };
static const char *const states[] = {
	"INCOMING", "ACTIVE", "DEFERRED", "DONE", "FAILED", "HOLD"
};
#define NSTAGES	(int)(sizeof(stages) / sizeof(*stages))
#define NSTATES	(int)(sizeof(states) / sizeof(*states))
_Static_assert(NSTAGES == QUEUE_NSTAGES && NSTATES == QUEUE_NSTATES,
    "stats: stage or state names out of step with queue.h");

static const struct {
	const char	*name, *help;
	size_t		 off;	/* in struct catalog_counts */
} counters[] = {
	{ "instances", "Instances in the database.",
	    offsetof(struct catalog_counts, instances) },
	{ "studies", "Studies in the database.",
	    offsetof(struct catalog_counts, studies) },
	{ "reports", "Reports drafted (superseded ones included).",
	    offsetof(struct catalog_counts, reports) },
	{ "deliveries_accepted", "Report deliveries an archive accepted.",
	    offsetof(struct catalog_counts, deliveries_accepted) },
};
#define NCOUNTERS (int)(sizeof(counters) / sizeof(*counters))

/*
 * Latencies in ms, one per report whose end event falls in the window
 * (catalog_latency_read).
 */
static const struct {
	const char		*name, *help;
	enum catalog_latency	 kind;
} lats[] = {
	{ "settle_to_report", "Last instance of a study received to its report created.",
	    CATALOG_SETTLE_TO_REPORT },
	{ "report_to_accept", "Report created to its first acceptance by an archive.",
	    CATALOG_REPORT_TO_ACCEPT },
	{ "received_to_accept", "Last instance of a study received to the first acceptance of its report.",
	    CATALOG_RECEIVED_TO_ACCEPT },
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

/* latency - one kind's samples (ascending), their nearest ranks */
static int
latency(struct db *db, enum catalog_latency kind, int64_t since,
    struct lat *l)
{
	int64_t *v;
	size_t n;

	memset(l, 0, sizeof(*l));
	if (catalog_latency_read(db, kind, since, &v, &n) == -1)
		return -1;
	if (n > 0) {
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
	struct catalog_counts c;

	if (catalog_counts_read(db, &c) == -1)
		return -1;
	for (int i = 0; i < NCOUNTERS; i++)
		s->counters[i] = *(const int64_t *)(const void *)
		    ((const char *)&c + counters[i].off);
	for (int i = 0; i < NSTAGES; i++)
		for (int j = 0; j < NSTATES; j++)
			s->jobs[i][j] = c.jobs[i][j];
	for (int i = 0; i < NLATS; i++)
		if (latency(db, lats[i].kind, s->since, &s->lat[i]) == -1)
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
