/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_list - `radscribe list [jobs|studies]`: the queue's jobs, or the
 * received studies, filtered by state, stage, time and calling AE.
 * Reads only, on the CLI's own connection.
 */
#include "store/db_sql.h"
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "store/queue.h"

struct filter {
	const char	*state;		/* NULL: any */
	const char	*stage;
	const char	*calling_ae;
	int64_t		 since;		/* ms; 0: any */
	int		 has_since;
};

/* ?1 state, ?2 stage, ?3 since (updated_at), ?4 calling AE */
static const char jobs_sql[] =
    "SELECT j.id, s.study_uid, j.stage, j.state, j.attempts, j.next_try,"
    " j.created_at, j.updated_at, j.last_error FROM jobs j"
    " JOIN studies s ON s.id = j.study_id"
    " WHERE (?1 IS NULL OR j.state = ?1) AND (?2 IS NULL OR j.stage = ?2)"
    " AND (?3 IS NULL OR j.updated_at >= ?3)"
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM instances i"
    "  WHERE i.study_id = s.id AND i.calling_ae = ?4))"
    " ORDER BY j.id";

/* ?3 since (last_received_at); state/stage: the study has such a job */
static const char studies_sql[] =
    "SELECT s.id, s.study_uid, s.first_received_at, s.last_received_at,"
    " (SELECT count(*) FROM instances i WHERE i.study_id = s.id),"
    " (SELECT group_concat(DISTINCT i.calling_ae) FROM instances i"
    "  WHERE i.study_id = s.id),"
    " (SELECT state FROM jobs j WHERE j.study_id = s.id AND stage = 'infer'),"
    " (SELECT state FROM jobs j WHERE j.study_id = s.id AND stage = 'send'),"
    " (SELECT count(*) FROM reports r WHERE r.study_id = s.id)"
    " FROM studies s"
    " WHERE (?1 IS NULL AND ?2 IS NULL OR EXISTS (SELECT 1 FROM jobs j"
    "  WHERE j.study_id = s.id AND (?1 IS NULL OR j.state = ?1)"
    "  AND (?2 IS NULL OR j.stage = ?2)))"
    " AND (?3 IS NULL OR s.last_received_at >= ?3)"
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM instances i"
    "  WHERE i.study_id = s.id AND i.calling_ae = ?4))"
    " ORDER BY s.id";

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int
bind(struct db *db, sqlite3_stmt *st, const struct filter *f)
{
	(void)db;
	if ((f->state != NULL &&
	    sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (f->stage != NULL &&
	    sqlite3_bind_text(st, 2, f->stage, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (f->has_since &&
	    sqlite3_bind_int64(st, 3, f->since) != SQLITE_OK) ||
	    (f->calling_ae != NULL &&
	    sqlite3_bind_text(st, 4, f->calling_ae, -1, SQLITE_STATIC) != SQLITE_OK))
		return -1;
	return 0;
}

/* One kind of listing: its table header and row conversions. */
struct listing {
	const char	*hdr[8];
	void		(*json_row)(sqlite3_stmt *, json_object *);
	void		(*cells)(sqlite3_stmt *, const char **, char (*)[32]);
};

static void
job_json(sqlite3_stmt *st, json_object *o)
{
	json_object_object_add(o, "id",
	    json_object_new_int64(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "study_uid", cli_json_str(col(st, 1)));
	json_object_object_add(o, "stage", cli_json_str(col(st, 2)));
	json_object_object_add(o, "state", cli_json_str(col(st, 3)));
	json_object_object_add(o, "attempts",
	    json_object_new_int(sqlite3_column_int(st, 4)));
	json_object_object_add(o, "next_try_ms",
	    sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL :
	    json_object_new_int64(sqlite3_column_int64(st, 5)));
	json_object_object_add(o, "created_at_ms",
	    json_object_new_int64(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "updated_at_ms",
	    json_object_new_int64(sqlite3_column_int64(st, 7)));
	json_object_object_add(o, "last_error", cli_json_str(col(st, 8)));
}

static void
job_cells(sqlite3_stmt *st, const char **cells, char (*buf)[32])
{
	snprintf(buf[0], sizeof(buf[0]), "%lld",
	    (long long)sqlite3_column_int64(st, 0));
	snprintf(buf[1], sizeof(buf[1]), "%d", sqlite3_column_int(st, 4));
	cells[0] = buf[0];
	cells[1] = col(st, 1);
	cells[2] = col(st, 2);
	cells[3] = col(st, 3);
	cells[4] = buf[1];
	cells[5] = cli_time(sqlite3_column_int64(st, 7), buf[2], sizeof(buf[2]));
	cells[6] = cli_time(sqlite3_column_int64(st, 5), buf[3], sizeof(buf[3]));
	cells[7] = col(st, 8);
}

static void
study_json(sqlite3_stmt *st, json_object *o)
{
	json_object_object_add(o, "study_uid", cli_json_str(col(st, 1)));
	json_object_object_add(o, "first_received_at_ms",
	    json_object_new_int64(sqlite3_column_int64(st, 2)));
	json_object_object_add(o, "last_received_at_ms",
	    json_object_new_int64(sqlite3_column_int64(st, 3)));
	json_object_object_add(o, "instances",
	    json_object_new_int64(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "calling_ae", cli_json_str(col(st, 5)));
	json_object_object_add(o, "infer", cli_json_str(col(st, 6)));
	json_object_object_add(o, "send", cli_json_str(col(st, 7)));
	json_object_object_add(o, "reports",
	    json_object_new_int64(sqlite3_column_int64(st, 8)));
}

static void
study_cells(sqlite3_stmt *st, const char **cells, char (*buf)[32])
{
	snprintf(buf[0], sizeof(buf[0]), "%lld",
	    (long long)sqlite3_column_int64(st, 4));
	snprintf(buf[1], sizeof(buf[1]), "%lld",
	    (long long)sqlite3_column_int64(st, 8));
	cells[0] = col(st, 1);
	cells[1] = buf[0];
	cells[2] = col(st, 5);
	cells[3] = cli_time(sqlite3_column_int64(st, 2), buf[2], sizeof(buf[2]));
	cells[4] = cli_time(sqlite3_column_int64(st, 3), buf[3], sizeof(buf[3]));
	cells[5] = col(st, 6);
	cells[6] = col(st, 7);
	cells[7] = buf[1];
}

static const struct listing jobs_listing = {
    { "JOB", "STUDY", "STAGE", "STATE", "ATTEMPTS", "UPDATED", "NEXT_TRY",
    "LAST_ERROR" }, job_json, job_cells };
static const struct listing studies_listing = {
    { "STUDY", "INSTANCES", "CALLING_AE", "FIRST_RECEIVED", "LAST_RECEIVED",
    "INFER", "SEND", "REPORTS" }, study_json, study_cells };

/* list - run sql with the filter, print a table or a JSON array. */
static int
list(struct db *db, const char *sql, const struct listing *l,
    const struct filter *f, int json)
{
	struct cli_table *t = NULL;
	json_object *arr = NULL;
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, sql)) == NULL || bind(db, st, f) == -1)
		return cli_error("list: %s", db_errmsg(db));
	if (json)
		arr = json_object_new_array();
	else
		t = cli_table_new(8, l->hdr);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (json) {
			json_object *o = json_object_new_object();

			l->json_row(st, o);
			json_object_array_add(arr, o);
		} else {
			char buf[4][32];
			const char *cells[8];

			l->cells(st, cells, buf);
			cli_table_add(t, cells);
		}
	}
	if (rc != SQLITE_DONE) {
		json_object_put(arr);
		cli_table_free(t);
		return cli_error("list: %s", db_errmsg(db));
	}
	if (json)
		return cli_json_print(arr, stdout) == 0 ? CLI_OK : CLI_ERROR;
	cli_table_print(t, stdout);
	cli_table_free(t);
	return CLI_OK;
}

/* cli_list - `list [jobs|studies] [filters] [--json]` */
int
cli_list(const char *conf_path, int argc, char *argv[])
{
	struct filter f;
	char state[16];
	struct conf conf;
	struct db *db;
	int json = 0, studies = 0, rc, i = 1;
	enum queue_state qs;
	enum queue_stage qg;

	memset(&f, 0, sizeof(f));
	if (i < argc && strcmp(argv[i], "jobs") == 0)
		i++;
	else if (i < argc && strcmp(argv[i], "studies") == 0) {
		studies = 1;
		i++;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			json = 1;
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage("list: unknown option or missing "
			    "value: %s", a);
		if (strcmp(a, "--state") == 0) {
			/* States are stored in upper case; accept either. */
			snprintf(state, sizeof(state), "%s", argv[++i]);
			for (char *p = state; *p != '\0'; p++)
				*p = (char)toupper((unsigned char)*p);
			f.state = state;
			if (queue_state_parse(f.state, &qs) == -1)
				return cli_usage("list: unknown state \"%s\"",
				    argv[i]);
		} else if (strcmp(a, "--stage") == 0) {
			f.stage = argv[++i];
			if (queue_stage_parse(f.stage, &qg) == -1)
				return cli_usage("list: unknown stage \"%s\"",
				    f.stage);
		} else if (strcmp(a, "--since") == 0) {
			if (cli_parse_since(argv[++i], &f.since) == -1)
				return cli_usage("list: bad --since \"%s\" "
				    "(2h, 7d, 2024-05-01T12:00:00)", argv[i]);
			f.has_since = 1;
		} else if (strcmp(a, "--calling-ae") == 0)
			f.calling_ae = argv[++i];
		else
			return cli_usage("list: unknown option %s", a);
	}
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	rc = studies ? list(db, studies_sql, &studies_listing, &f, json) :
	    list(db, jobs_sql, &jobs_listing, &f, json);
	cli_close(&conf, db);
	return rc;
}
