/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status - queue and index counts, as a table or as JSON (json-c). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "store/db_sql.h"
#include "store/status.h"

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

/* one_job - the first row of sql (status_job's columns) into *j. */
static int
one_job(struct db *db, const char *sql, struct status_job *j)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	memset(j, 0, sizeof(*j));
	if (st == NULL)
		return -1;
	if ((rc = db_step(db, st)) == SQLITE_ROW &&
	    queue_stage_parse((const char *)sqlite3_column_text(st, 2), &j->stage) == 0 &&
	    queue_state_parse((const char *)sqlite3_column_text(st, 3), &j->state) == 0) {
		j->id = sqlite3_column_int64(st, 0);
		snprintf(j->study_uid, sizeof(j->study_uid), "%s",
		    sqlite3_column_text(st, 1));
		j->attempts = sqlite3_column_int(st, 4);
		j->created_at = sqlite3_column_int64(st, 5);
		j->updated_at = sqlite3_column_int64(st, 6);
		snprintf(j->error, sizeof(j->error), "%s",
		    sqlite3_column_type(st, 7) == SQLITE_NULL ? "" :
		    (const char *)sqlite3_column_text(st, 7));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
status_collect(struct db *db, struct status *s)
{
#define JOB_COLS "SELECT j.id, s.study_uid, j.stage, j.state, j.attempts," \
	" j.created_at, j.updated_at, j.last_error FROM jobs j" \
	" JOIN studies s ON s.id = j.study_id"
	static const char oldest_sql[] = JOB_COLS
	    " WHERE j.state IN ('INCOMING', 'DEFERRED')"
	    " ORDER BY j.created_at, j.id LIMIT 1";
	static const char lasterr_sql[] = JOB_COLS
	    " WHERE j.last_error IS NOT NULL AND j.last_error <> ''"
	    " ORDER BY j.updated_at DESC, j.id DESC LIMIT 1";
#undef JOB_COLS
	static const char inst_sql[] = "SELECT count(*) FROM instances";
	static const char study_sql[] = "SELECT count(*) FROM studies";
	static const char unsettled_sql[] =
	    "SELECT count(*) FROM studies WHERE job_created_at IS NULL";
	static const char redraft_sql[] =
	    "SELECT count(*) FROM studies WHERE redraft = 1";
	static const char rep_sql[] = "SELECT count(*) FROM reports";
	static const char prob_sql[] =
	    "SELECT s.study_uid, j.stage, j.state, j.attempts, j.updated_at,"
	    " coalesce(j.last_error, '') FROM jobs j JOIN studies s ON s.id = j.study_id"
	    " WHERE j.state IN ('FAILED', 'DEFERRED') ORDER BY j.updated_at DESC, j.id DESC"
	    " LIMIT 20";
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
	    count(db, redraft_sql, &s->studies_redraft) == -1 ||
	    count(db, rep_sql, &s->reports) == -1 ||
	    one_job(db, oldest_sql, &s->oldest) == -1 ||
	    one_job(db, lasterr_sql, &s->last_error) == -1)
		return -1;
	if ((st = db_prepare(db, prob_sql)) == NULL)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW && s->nproblems < STATUS_PROBLEMS) {
		struct status_problem *p = &s->problems[s->nproblems];

		if (queue_stage_parse((const char *)sqlite3_column_text(st, 1), &p->stage) == -1 ||
		    queue_state_parse((const char *)sqlite3_column_text(st, 2), &p->state) == -1)
			continue;
		snprintf(p->study_uid, sizeof(p->study_uid), "%s", sqlite3_column_text(st, 0));
		p->attempts = sqlite3_column_int(st, 3);
		p->updated_at = sqlite3_column_int64(st, 4);
		snprintf(p->reason, sizeof(p->reason), "%s", sqlite3_column_text(st, 5));
		s->nproblems++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
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
	fprintf(fp, "\nreports    %lld\n", (long long)s->reports);
	if (s->nproblems > 0)
		fprintf(fp, "\nFAILED and DEFERRED jobs, newest first:\n");
	for (int i = 0; i < s->nproblems; i++) {
		const struct status_problem *p = &s->problems[i];

		fprintf(fp, "  %s %s %s (attempt %d): %s\n", p->study_uid,
		    queue_stage_name(p->stage), queue_state_name(p->state),
		    p->attempts, p->reason);
	}
}

static json_object *
job_json(const struct status_job *j)
{
	json_object *o;

	if (j->id == 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "job", json_object_new_int64(j->id));
	json_object_object_add(o, "study_uid", json_object_new_string(j->study_uid));
	json_object_object_add(o, "stage",
	    json_object_new_string(queue_stage_name(j->stage)));
	json_object_object_add(o, "state",
	    json_object_new_string(queue_state_name(j->state)));
	json_object_object_add(o, "attempts", json_object_new_int(j->attempts));
	json_object_object_add(o, "created_at_ms", json_object_new_int64(j->created_at));
	json_object_object_add(o, "updated_at_ms", json_object_new_int64(j->updated_at));
	json_object_object_add(o, "error", j->error[0] != '\0' ?
	    json_object_new_string(j->error) : NULL);
	return o;
}

json_object *
status_json(const struct status *s)
{
	json_object *o = json_object_new_object(), *jobs = json_object_new_array();

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
	json_object_object_add(o, "reports", json_object_new_int64(s->reports));
	{
		json_object *pr = json_object_new_array();

		for (int i = 0; i < s->nproblems; i++) {
			const struct status_problem *p = &s->problems[i];
			json_object *row = json_object_new_object();

			json_object_object_add(row, "study_uid",
			    json_object_new_string(p->study_uid));
			json_object_object_add(row, "stage",
			    json_object_new_string(queue_stage_name(p->stage)));
			json_object_object_add(row, "state",
			    json_object_new_string(queue_state_name(p->state)));
			json_object_object_add(row, "attempts",
			    json_object_new_int(p->attempts));
			json_object_object_add(row, "updated_at_ms",
			    json_object_new_int64(p->updated_at));
			json_object_object_add(row, "reason",
			    json_object_new_string(p->reason));
			json_object_array_add(pr, row);
		}
		json_object_object_add(o, "problems", pr);
	}
	json_object_object_add(o, "oldest_waiting", job_json(&s->oldest));
	json_object_object_add(o, "last_job_error", job_json(&s->last_error));
	return o;
}
