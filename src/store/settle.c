/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * settle - quiet studies become jobs.  The study row's last_received_at is
 * the clock; job_created_at marks a study as handed to the queue, so a
 * later instance flags it for a new draft instead (receive.c).
 */
#include "store/db_sql.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/queue.h"
#include "store/settle.h"

int
settle_run(struct db *db, int64_t settle_ms)
{
	static const char pick_sql[] =
	    "SELECT id, study_uid FROM studies WHERE job_created_at IS NULL"
	    " AND last_received_at <= ?1 ORDER BY last_received_at";
	static const char mark_sql[] =
	    "UPDATE studies SET job_created_at = ?2 WHERE id = ?1";
	sqlite3_stmt *pick, *mark;
	int64_t now = clock_now_ms(), job;
	int n = 0, rc;

	if (db_begin(db) == -1)
		return -1;
	if ((pick = db_prepare(db, pick_sql)) == NULL ||
	    (mark = db_prepare(db, mark_sql)) == NULL)
		goto fail;
	sqlite3_bind_int64(pick, 1, now - settle_ms);
	while ((rc = db_step(db, pick)) == SQLITE_ROW) {
		int64_t study = sqlite3_column_int64(pick, 0);

		switch (queue_create(db, study, QUEUE_INFER, &job)) {
		case QUEUE_OK:
			log_info("J%lld: stage=infer new->INCOMING study=%s",
			    (long long)job, sqlite3_column_text(pick, 1));
			break;
		case QUEUE_LOST:	/* a job exists already */
			break;
		default:
			goto fail;
		}
		sqlite3_reset(mark);
		sqlite3_bind_int64(mark, 1, study);
		sqlite3_bind_int64(mark, 2, now);
		if (db_step(db, mark) != SQLITE_DONE)
			goto fail;
		n++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_reset(pick);
	if (db_commit(db) == -1)
		return -1;
	return n;
fail:
	sqlite3_reset(pick);
	db_rollback(db);
	return -1;
}

int
settle_redraft(struct db *db, int64_t settle_ms)
{
	static const char sql[] =
	    "UPDATE jobs SET state = 'INCOMING', attempts = 0, next_try = NULL,"
	    " updated_at = ?1 WHERE stage = 'infer' AND state IN ('DONE', 'FAILED')"
	    " AND study_id IN (SELECT id FROM studies WHERE redraft = 1"
	    " AND last_received_at <= ?2) RETURNING id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int64_t now = clock_now_ms();
	int n = 0, rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now - settle_ms);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		log_info("J%lld: stage=infer ->INCOMING: late instance, drafting again",
		    (long long)sqlite3_column_int64(st, 0));
		n++;
	}
	return rc == SQLITE_DONE ? n : -1;
}
