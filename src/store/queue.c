/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * queue - compare-and-set transitions on the jobs table.  The database is
 * the only truth: a transition that finds the row in another state has
 * lost a race and changes nothing.
 */
#include <string.h>

#include "store/db_sql.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/queue.h"

static const char *const state_names[QUEUE_NSTATES] = {
	"INCOMING", "ACTIVE", "DEFERRED", "DONE", "FAILED", "HOLD"
};
static const char *const stage_names[QUEUE_NSTAGES] = { "infer", "send" };

/* The edges of the machine; see radscribed(8), QUEUE. */
static const unsigned char edges[QUEUE_NSTATES][QUEUE_NSTATES] = {
	/*		   INC ACT DEF DONE FAIL HOLD */
	[QUEUE_INCOMING] = { 0,  1,  0,  0,   1,   1 },
	[QUEUE_ACTIVE]	 = { 1,  0,  1,  1,   1,   0 },
	[QUEUE_DEFERRED] = { 0,  1,  0,  0,   1,   1 },
	[QUEUE_DONE]	 = { 1,  0,  0,  0,   0,   0 },
	[QUEUE_FAILED]	 = { 1,  0,  0,  0,   0,   0 },
	[QUEUE_HOLD]	 = { 1,  0,  0,  0,   0,   0 },
};

const char *
queue_state_name(enum queue_state s)
{
	return state_names[s];
}

const char *
queue_stage_name(enum queue_stage s)
{
	return stage_names[s];
}

int
queue_state_parse(const char *name, enum queue_state *out)
{
	for (int i = 0; i < QUEUE_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum queue_state)i;
			return 0;
		}
	return -1;
}

int
queue_stage_parse(const char *name, enum queue_stage *out)
{
	for (int i = 0; i < QUEUE_NSTAGES; i++)
		if (strcmp(name, stage_names[i]) == 0) {
			*out = (enum queue_stage)i;
			return 0;
		}
	return -1;
}

int
queue_legal(enum queue_state from, enum queue_state to)
{
	return edges[from][to];
}

enum queue_rc
queue_create(struct db *db, int64_t study_id, enum queue_stage stage,
    int64_t *id)
{
	static const char sql[] =
	    "INSERT INTO jobs (study_id, stage, state, created_at, updated_at)"
	    " VALUES (?1, ?2, 'INCOMING', ?3, ?3)"
	    " ON CONFLICT (study_id, stage) DO NOTHING";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return QUEUE_DBERR;
	sqlite3_bind_int64(st, 1, study_id);
	sqlite3_bind_text(st, 2, stage_names[stage], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, clock_now_ms());
	if (db_step(db, st) != SQLITE_DONE)
		return QUEUE_DBERR;
	if (sqlite3_changes(db_sqlite(db)) != 1)
		return QUEUE_LOST;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return QUEUE_OK;
}

/*
 * cas - the one UPDATE every transition goes through.  bump_attempts: 1
 * counts a claim, 0 keeps the count, -1 starts it over.
 */
static enum queue_rc
cas(struct db *db, int64_t id, enum queue_state from, enum queue_state to,
    const char *err, int64_t next_try, int bump_attempts)
{
	static const char sql[] =
	    "UPDATE jobs SET state = ?3, updated_at = ?4,"
	    " last_error = coalesce(?5, last_error), next_try = ?6,"
	    " attempts = CASE WHEN ?7 < 0 THEN 0 ELSE attempts + ?7 END"
	    " WHERE id = ?1 AND state = ?2";
	sqlite3_stmt *st;
	int own = sqlite3_get_autocommit(db_sqlite(db));
	enum queue_rc rc = QUEUE_DBERR;

	if (!queue_legal(from, to))
		return QUEUE_ILLEGAL;
	if (own && db_begin(db) == -1)
		return QUEUE_DBERR;
	if ((st = db_prepare(db, sql)) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state_names[from], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state_names[to], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, clock_now_ms());
	if (err != NULL)
		sqlite3_bind_text(st, 5, err, -1, SQLITE_TRANSIENT);
	if (next_try > 0)
		sqlite3_bind_int64(st, 6, next_try);
	sqlite3_bind_int(st, 7, bump_attempts);
	if (db_step(db, st) != SQLITE_DONE)
		goto out;
	rc = sqlite3_changes(db_sqlite(db)) == 1 ? QUEUE_OK : QUEUE_LOST;
	if (own && db_commit(db) == -1)
		return QUEUE_DBERR;
	if (rc == QUEUE_OK)
		log_info("J%lld: %s->%s%s%s", (long long)id,
		    state_names[from], state_names[to], err ? " error=" : "",
		    err ? err : "");
	return rc;
out:
	if (own)
		db_rollback(db);
	return rc;
}

enum queue_rc
queue_transition(struct db *db, int64_t id, enum queue_state from,
    enum queue_state to, const char *err)
{
	return cas(db, id, from, to, err, 0, 0);
}

int
queue_claim(struct db *db, enum queue_stage stage, struct queue_job *job)
{
	static const char sql[] =
	    "SELECT id, study_id, state, attempts, created_at FROM jobs"
	    " WHERE stage = ?1 AND (state = 'INCOMING'"
	    "  OR (state = 'DEFERRED' AND next_try <= ?2))"
	    " ORDER BY coalesce(next_try, created_at), id LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	for (;;) {
		if ((st = db_prepare(db, sql)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, stage_names[stage], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, clock_now_ms());
		rc = db_step(db, st);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return -1;
		memset(job, 0, sizeof(*job));
		job->id = sqlite3_column_int64(st, 0);
		job->study_id = sqlite3_column_int64(st, 1);
		job->stage = stage;
		if (queue_state_parse((const char *)sqlite3_column_text(st, 2),
		    &job->state) == -1)
			panic("queue: bad state in job %lld", (long long)job->id);
		job->attempts = sqlite3_column_int(st, 3);
		job->created_at = sqlite3_column_int64(st, 4);
		sqlite3_reset(st);
		switch (cas(db, job->id, job->state, QUEUE_ACTIVE, NULL, 0, 1)) {
		case QUEUE_OK:
			job->state = QUEUE_ACTIVE;
			job->attempts++;
			return 1;
		case QUEUE_LOST:
			continue;	/* someone else took it: look again */
		default:
			return -1;
		}
	}
}

int64_t
queue_backoff_ms(int attempts, int min_s, int max_s)
{
	int64_t d = (int64_t)min_s * 1000;

	for (int i = 1; i < attempts && d < (int64_t)max_s * 1000; i++)
		d *= 2;
	return d < (int64_t)max_s * 1000 ? d : (int64_t)max_s * 1000;
}

enum queue_rc
queue_defer(struct db *db, const struct queue_job *job, int min_s, int max_s,
    const char *err)
{
	return cas(db, job->id, QUEUE_ACTIVE, QUEUE_DEFERRED, err,
	    clock_now_ms() + queue_backoff_ms(job->attempts, min_s, max_s), 0);
}

enum queue_spent
queue_retry_spent(const struct queue_retry *rp, const struct queue_job *job,
    int64_t since_ms, int64_t now)
{
	if (rp->max_attempts > 0 && job->attempts >= rp->max_attempts)
		return QUEUE_SPENT_ATTEMPTS;
	if (rp->max_age_s > 0 && now - since_ms > (int64_t)rp->max_age_s * 1000)
		return QUEUE_SPENT_AGE;
	return QUEUE_SPENT_NO;
}

enum queue_rc
queue_finish(struct db *db, const struct queue_job *job, enum queue_outcome out,
    const struct queue_retry *rp, int64_t since_ms, const char *err,
    enum queue_spent *spent)
{
	enum queue_spent sp = QUEUE_SPENT_NO;

	if (out == QUEUE_OUT_DEFER &&
	    (sp = queue_retry_spent(rp, job, since_ms, clock_now_ms())) !=
	    QUEUE_SPENT_NO)
		out = QUEUE_OUT_REJECT;
	if (spent != NULL)
		*spent = sp;
	switch (out) {
	case QUEUE_OUT_OK:
		return cas(db, job->id, QUEUE_ACTIVE, QUEUE_DONE, err, 0, 0);
	case QUEUE_OUT_DEFER:
		return queue_defer(db, job, rp->min_s, rp->max_s, err);
	case QUEUE_OUT_REJECT:
		break;
	}
	return cas(db, job->id, QUEUE_ACTIVE, QUEUE_FAILED, err, 0, 0);
}

/* due_now - a DEFERRED job runs at the next claim, counting from 0. */
static enum queue_rc
due_now(struct db *db, int64_t id)
{
	static const char sql[] =
	    "UPDATE jobs SET next_try = ?2, attempts = 0, updated_at = ?2"
	    " WHERE id = ?1 AND state = 'DEFERRED'";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return QUEUE_DBERR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, clock_now_ms());
	if (db_step(db, st) != SQLITE_DONE)
		return QUEUE_DBERR;
	if (sqlite3_changes(db_sqlite(db)) != 1)
		return QUEUE_LOST;
	log_info("J%lld: DEFERRED, due now", (long long)id);
	return QUEUE_OK;
}

static enum queue_rc
reopen(struct db *db, int64_t study_id, enum queue_stage stage, int wake,
    int64_t *idp)
{
	struct queue_job j;
	int r;

	if ((r = queue_find(db, study_id, stage, &j)) != 1)
		return r == 0 ? QUEUE_LOST : QUEUE_DBERR;
	if (idp != NULL)
		*idp = j.id;
	switch (j.state) {
	case QUEUE_DONE:
	case QUEUE_FAILED:
		return cas(db, j.id, j.state, QUEUE_INCOMING, NULL, 0, -1);
	case QUEUE_DEFERRED:
		return wake ? due_now(db, j.id) : QUEUE_LOST;
	default:
		return QUEUE_LOST;
	}
}

enum queue_rc
queue_reopen(struct db *db, int64_t study_id, enum queue_stage stage,
    int64_t *id)
{
	return reopen(db, study_id, stage, 0, id);
}

enum queue_rc
queue_wake(struct db *db, int64_t study_id, enum queue_stage stage,
    int64_t *id)
{
	return reopen(db, study_id, stage, 1, id);
}

int
queue_next_due(struct db *db, enum queue_stage stage, int64_t *due)
{
	static const char sql[] =
	    "SELECT coalesce(min(next_try), 0) FROM jobs WHERE stage = ?1"
	    " AND state = 'DEFERRED'";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, stage_names[stage], -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == SQLITE_ROW)
		*due = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
queue_recover(struct db *db)
{
	static const char sql[] =
	    "UPDATE jobs SET state = 'INCOMING', updated_at = ?1"
	    " WHERE state = 'ACTIVE'";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, clock_now_ms());
	if (db_step(db, st) != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db_sqlite(db));
}

int
queue_get(struct db *db, int64_t id, struct queue_job *job)
{
	static const char sql[] =
	    "SELECT study_id, stage, state, attempts, coalesce(next_try, 0)"
	    " FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = db_step(db, st)) == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	job->id = id;
	job->study_id = sqlite3_column_int64(st, 0);
	if (queue_stage_parse((const char *)sqlite3_column_text(st, 1), &job->stage) == -1 ||
	    queue_state_parse((const char *)sqlite3_column_text(st, 2), &job->state) == -1)
		panic("queue: bad stage/state in job %lld", (long long)id);
	job->attempts = sqlite3_column_int(st, 3);
	job->next_try = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	return 1;
}

/* queue_find - the job of a study and stage (UNIQUE (study_id, stage)) */
int
queue_find(struct db *db, int64_t study_id, enum queue_stage stage,
    struct queue_job *job)
{
	static const char sql[] =
	    "SELECT id, state, attempts, coalesce(next_try, 0), created_at"
	    " FROM jobs WHERE study_id = ?1 AND stage = ?2";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	sqlite3_bind_text(st, 2, stage_names[stage], -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == SQLITE_ROW) {
		memset(job, 0, sizeof(*job));
		job->id = sqlite3_column_int64(st, 0);
		job->study_id = study_id;
		job->stage = stage;
		if (queue_state_parse((const char *)sqlite3_column_text(st, 1),
		    &job->state) == -1)
			panic("queue: bad state in job %lld",
			    (long long)job->id);
		job->attempts = sqlite3_column_int(st, 2);
		job->next_try = sqlite3_column_int64(st, 3);
		job->created_at = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* queue_purge_study - the one place job rows are deleted (radscribe purge) */
int
queue_purge_study(struct db *db, int64_t study_id)
{
	static const char sql[] = "DELETE FROM jobs WHERE study_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}
