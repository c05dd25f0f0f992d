/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * settle - quiet studies become jobs.  The study row's last_received_at is
 * the clock; job_created_at marks a study as handed to the queue, so a
 * later instance flags it for a new draft instead (redraft).
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/db_sql.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/queue.h"
#include "store/settle.h"
#include "core/xmem.h"

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
settle_note_arrival(struct db *db, int64_t study_id)
{
	static const char sql[] =
	    "UPDATE studies SET redraft = 1 WHERE id = ?1"
	    " AND job_created_at IS NOT NULL";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	if (db_step(db, st) != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db_sqlite(db)) == 1;
}

int
settle_drafting(struct db *db, int64_t study_id, char *uid, size_t uidsz)
{
	static const char sql[] =
	    "UPDATE studies SET redraft = 0 WHERE id = ?1 RETURNING study_uid";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	uid[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	if ((rc = db_step(db, st)) == SQLITE_ROW) {
		snprintf(uid, uidsz, "%s", sqlite3_column_text(st, 0));
		rc = db_step(db, st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE && uid[0] != '\0' ? 0 : -1;
}

/*
 * settle_redraft - each flagged study quiet since settle_ms has its
 * finished infer job reopened through the queue; the flag stays until the
 * worker starts (settle_drafting), so a job still running is reopened at
 * a later pass.
 */
int
settle_redraft(struct db *db, int64_t settle_ms)
{
	static const char sql[] =
	    "SELECT id FROM studies WHERE redraft = 1 AND last_received_at <= ?1"
	    " ORDER BY last_received_at";
	sqlite3_stmt *st;
	int64_t *ids = NULL, now = clock_now_ms(), job;
	size_t nids = 0;
	int n = 0, rc;

	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now - settle_ms);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		ids = xrealloc(ids, (nids + 1) * sizeof(*ids));
		ids[nids++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return -1;
	}
	for (size_t i = 0; i < nids; i++) {
		switch (queue_reopen(db, ids[i], QUEUE_INFER, &job)) {
		case QUEUE_OK:
			log_info("J%lld: stage=infer ->INCOMING: late instance, "
			    "drafting again", (long long)job);
			n++;
			break;
		case QUEUE_LOST:	/* no job, or not finished yet */
			break;
		default:
			free(ids);
			return -1;
		}
	}
	free(ids);
	return n;
}
