/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status - queue and index counts, as a table or as JSON (json-c). */
#include <string.h>

#include <json-c/json.h>

#include "status.h"

static int
count(struct db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL || db_step(db, st) != SQLITE_ROW)
		return -1;
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
status_collect(struct db *db, struct status *s)
{
	static const char inst_sql[] = "SELECT count(*) FROM instances";
	static const char study_sql[] = "SELECT count(*) FROM studies";
	static const char unsettled_sql[] =
	    "SELECT count(*) FROM studies WHERE job_created_at IS NULL";
	static const char redraft_sql[] =
	    "SELECT count(*) FROM studies WHERE redraft = 1";
	static const char jobs_sql[] =
	    "SELECT stage, state, count(*) FROM jobs GROUP BY stage, state";
	sqlite3_stmt *st;
	enum queue_stage stage;
	enum queue_state state;
	int rc;

	memset(s, 0, sizeof(*s));
	if (count(db, inst_sql, &s->instances) == -1 ||
	    count(db, study_sql, &s->studies) == -1 ||
	    count(db, unsettled_sql, &s->studies_unsettled) == -1 ||
	    count(db, redraft_sql, &s->studies_redraft) == -1)
		return -1;
	if ((st = db_prepare(db, jobs_sql)) == NULL)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		if (queue_stage_parse((const char *)sqlite3_column_text(st, 0), &stage) == 0 &&
		    queue_state_parse((const char *)sqlite3_column_text(st, 1), &state) == 0)
			s->jobs[stage][state] = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
status_print_text(const struct status *s, FILE *fp)
{
	fprintf(fp, "instances  %lld\n", (long long)s->instances);
	fprintf(fp, "studies    %lld (%lld settling, %lld flagged for a new "
	    "draft)\n", (long long)s->studies, (long long)s->studies_unsettled,
	    (long long)s->studies_redraft);
	fprintf(fp, "\n%-6s", "STAGE");
	for (int j = 0; j < QUEUE_NSTATES; j++)
		fprintf(fp, " %9s", queue_state_name((enum queue_state)j));
	fputc('\n', fp);
	for (int i = 0; i < QUEUE_NSTAGES; i++) {
		fprintf(fp, "%-6s", queue_stage_name((enum queue_stage)i));
		for (int j = 0; j < QUEUE_NSTATES; j++)
			fprintf(fp, " %9lld", (long long)s->jobs[i][j]);
		fputc('\n', fp);
	}
}

int
status_print_json(const struct status *s, FILE *fp)
{
	json_object *o = json_object_new_object(), *jobs = json_object_new_array();
	int rc;

	json_object_object_add(o, "instances", json_object_new_int64(s->instances));
	json_object_object_add(o, "studies", json_object_new_int64(s->studies));
	json_object_object_add(o, "studies_settling",
	    json_object_new_int64(s->studies_unsettled));
	json_object_object_add(o, "studies_redraft",
	    json_object_new_int64(s->studies_redraft));
	for (int i = 0; i < QUEUE_NSTAGES; i++)
		for (int j = 0; j < QUEUE_NSTATES; j++) {
			json_object *row;

			if (s->jobs[i][j] == 0)
				continue;
			row = json_object_new_object();
			json_object_object_add(row, "stage", json_object_new_string(
			    queue_stage_name((enum queue_stage)i)));
			json_object_object_add(row, "state", json_object_new_string(
			    queue_state_name((enum queue_state)j)));
			json_object_object_add(row, "count",
			    json_object_new_int64(s->jobs[i][j]));
			json_object_array_add(jobs, row);
		}
	json_object_object_add(o, "jobs", jobs);
	rc = fprintf(fp, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN)) < 0 ? -1 : 0;
	json_object_put(o);
	return rc;
}
