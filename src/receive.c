/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * receive - spool then index, then (in the caller) the C-STORE response.
 * Runs on association threads.  A failure after the rename removes a new
 * file again, so no unindexed file outlives a failure status; a crash in
 * that window leaves a file that start-up recovery indexes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "receive.h"
#include "xmem.h"

struct receive {
	struct spool	*sp;
	struct db	*db;
};

struct receive *
receive_new(struct spool *sp, const char *dbpath, char *err, size_t errsz)
{
	struct receive *rc = xcalloc(1, sizeof(*rc));

	rc->sp = sp;
	if ((rc->db = db_open(dbpath, DB_EXISTING, err, errsz)) == NULL) {
		free(rc);
		return NULL;
	}
	return rc;
}

void
receive_free(struct receive *rc)
{
	if (rc == NULL)
		return;
	db_close(rc->db);
	free(rc);
}

struct db *
receive_db(struct receive *rc)
{
	return rc->db;
}

int
receive_tmp_open(struct receive *rc, char *path, size_t pathsz)
{
	return spool_tmp_open(rc->sp, path, pathsz);
}

int
receive_index(struct db *db, const struct instance_meta *m, const char *path,
    int64_t size, int *is_new)
{
	static const char study_sql[] =
	    "INSERT INTO studies (study_uid, first_received_at, last_received_at)"
	    " VALUES (?1, ?2, ?2) ON CONFLICT (study_uid) DO UPDATE"
	    " SET last_received_at = max(last_received_at, excluded.last_received_at)"
	    " RETURNING id, job_created_at IS NOT NULL";
	static const char inst_sql[] =
	    "INSERT INTO instances (sop_instance_uid, study_id, series_uid,"
	    " sop_class_uid, transfer_syntax, path, size, received_at, calling_ae)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " ON CONFLICT (sop_instance_uid) DO UPDATE SET study_id = excluded.study_id,"
	    " series_uid = excluded.series_uid, sop_class_uid = excluded.sop_class_uid,"
	    " transfer_syntax = excluded.transfer_syntax, path = excluded.path,"
	    " size = excluded.size, received_at = excluded.received_at,"
	    " calling_ae = excluded.calling_ae, replaced = replaced + 1"
	    " RETURNING replaced";
	static const char redraft_sql[] =
	    "UPDATE studies SET redraft = 1 WHERE id = ?1";
	sqlite3_stmt *st;
	int64_t now = clock_now_ms(), study_id;
	int drafted, fresh;

	if (db_begin(db) == -1)
		return -1;
	if ((st = db_prepare(db, study_sql)) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, m->study_uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (db_step(db, st) != SQLITE_ROW)
		goto fail;
	study_id = sqlite3_column_int64(st, 0);
	drafted = sqlite3_column_int(st, 1);
	if (db_step(db, st) != SQLITE_DONE)
		goto fail;

	if ((st = db_prepare(db, inst_sql)) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, m->sop_instance_uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, study_id);
	sqlite3_bind_text(st, 3, m->series_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->sop_class_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->transfer_syntax, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, size);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_text(st, 9, m->calling_ae, -1, SQLITE_STATIC);
	if (db_step(db, st) != SQLITE_ROW)
		goto fail;
	fresh = sqlite3_column_int(st, 0) == 0;
	if (db_step(db, st) != SQLITE_DONE)
		goto fail;

	/* A new image after the job was made: the report needs a new draft. */
	if (fresh && drafted) {
		if ((st = db_prepare(db, redraft_sql)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, study_id);
		if (db_step(db, st) != SQLITE_DONE)
			goto fail;
		log_info("study=%s late instance=%s: flagged for a new draft",
		    m->study_uid, m->sop_instance_uid);
	}
	if (db_commit(db) == -1)
		return -1;
	if (is_new != NULL)
		*is_new = fresh;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

enum receive_rc
receive_commit(struct receive *rc, const struct instance_meta *m, int fd,
    const char *tmp_path)
{
	char final[SPOOL_PATH_MAX];
	struct stat sb;
	int existed, is_new;

	if (spool_final_path(rc->sp, m->sop_instance_uid, final, sizeof(final)) == -1) {
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_BAD_UID;
	}
	if (fstat(fd, &sb) == -1) {
		log_err("sop=%s: fstat %s: %s", m->sop_instance_uid, tmp_path,
		    strerror(errno));
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_NO_RESOURCES;
	}
	if (spool_commit(fd, tmp_path, final, &existed) == -1) {
		log_err("sop=%s: cannot store %s: %s", m->sop_instance_uid,
		    final, strerror(errno));
		return RECEIVE_NO_RESOURCES;
	}
	if (receive_index(rc->db, m, final, (int64_t)sb.st_size, &is_new) == -1) {
		log_err("sop=%s: cannot index: %s", m->sop_instance_uid,
		    db_errmsg(rc->db));
		/* Leave no unindexed file behind a failure status. */
		if (!existed && spool_unlink(final) == -1)
			log_err("sop=%s: cannot remove %s: %s",
			    m->sop_instance_uid, final, strerror(errno));
		return RECEIVE_NO_RESOURCES;
	}
	log_info("stored sop=%s study=%s from=%s%s", m->sop_instance_uid,
	    m->study_uid, m->calling_ae, is_new ? "" : " (replaced)");
	return RECEIVE_OK;
}
