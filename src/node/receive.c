/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * receive - spool then index, then (in the caller) the C-STORE response.
 * Runs on association threads.  A failure after the rename removes a new
 * file again, so no unindexed file outlives a failure status; a crash in
 * that window leaves a file that start-up recovery indexes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/db_sql.h"
#include "core/clock.h"
#include "store/events.h"
#include "core/log.h"
#include "node/receive.h"
#include "core/xmem.h"

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
	    " sop_class_uid, transfer_syntax, path, size, received_at, calling_ae,"
	    " patient_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	    " ON CONFLICT (sop_instance_uid) DO UPDATE SET study_id = excluded.study_id,"
	    " series_uid = excluded.series_uid, sop_class_uid = excluded.sop_class_uid,"
	    " transfer_syntax = excluded.transfer_syntax, path = excluded.path,"
	    " size = excluded.size, received_at = excluded.received_at,"
	    " calling_ae = excluded.calling_ae, patient_id = excluded.patient_id,"
	    " replaced = replaced + 1"
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
	sqlite3_bind_text(st, 10, m->patient_id, -1, SQLITE_STATIC);
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

/*
 * One lock per UID, striped: the check, the rename and the commit for one
 * SOP Instance UID are done by one association at a time, so two senders
 * racing on a UID cannot remove a file the other was told is stored.
 */
#define UID_LOCKS	64
static pthread_mutex_t uid_locks[UID_LOCKS] = {
	[0 ... UID_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER
};

static pthread_mutex_t *
uid_lock(const char *uid)
{
	uint32_t h = 2166136261u;

	for (const char *p = uid; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &uid_locks[h % UID_LOCKS];
}

struct held {
	int	found;
	char	study_uid[INSTANCE_UID_MAX + 1];
	char	patient_id[65];
	int	patient_known;		/* NULL before migration 0005 */
	char	path[SPOOL_PATH_MAX];
};

/* lookup - what the index holds for this UID now; -1 on a database error. */
static int
lookup(struct db *db, const char *uid, struct held *h)
{
	static const char sql[] =
	    "SELECT s.study_uid, i.patient_id, i.path FROM instances i"
	    " JOIN studies s ON s.id = i.study_id WHERE i.sop_instance_uid = ?1";
	sqlite3_stmt *st;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		h->found = 1;
		snprintf(h->study_uid, sizeof(h->study_uid), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		h->patient_known = sqlite3_column_type(st, 1) != SQLITE_NULL;
		if (h->patient_known)
			snprintf(h->patient_id, sizeof(h->patient_id), "%s",
			    (const char *)sqlite3_column_text(st, 1));
		snprintf(h->path, sizeof(h->path), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		rc = db_step(db, st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static enum receive_rc
commit_locked(struct receive *rc, const struct instance_meta *m, int fd,
    const char *tmp_path)
{
	char final[SPOOL_PATH_MAX], detail[256];
	struct held h;
	struct stat sb;
	int existed, is_new;

	if (spool_final_path(rc->sp, m->sop_instance_uid, final, sizeof(final)) == -1) {
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_BAD_UID;
	}
	if (lookup(rc->db, m->sop_instance_uid, &h) == -1) {
		log_err("sop=%s: cannot look up: %s", m->sop_instance_uid,
		    db_errmsg(rc->db));
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_NO_RESOURCES;
	}
	/* A SOP Instance UID stays with the study and patient it came with. */
	if (h.found && (strcmp(h.study_uid, m->study_uid) != 0 ||
	    (h.patient_known && strcmp(h.patient_id, m->patient_id) != 0))) {
		int other_study = strcmp(h.study_uid, m->study_uid) != 0;

		spool_tmp_discard(fd, tmp_path);
		snprintf(detail, sizeof(detail), "sop=%s stays in study=%s; the "
		    "resend named %s", m->sop_instance_uid, h.study_uid,
		    other_study ? "another study" : "another patient");
		log_warn("%s (from %s): refused", detail, m->calling_ae);
		if (events_add(rc->db, "sop-conflict", m->calling_ae, NULL, NULL,
		    detail) == -1)
			log_err("events: %s", db_errmsg(rc->db));
		return RECEIVE_CONFLICT;
	}
	/* A resend goes beside the file it replaces, which stays until the
	 * new row is committed. */
	if (h.found && spool_replace_path(h.path, final, sizeof(final)) == -1) {
		log_err("sop=%s: indexed path %s is not a spool name",
		    m->sop_instance_uid, h.path);
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_NO_RESOURCES;
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
		/* Leave no unindexed file behind a failure status; the file
		 * a resend would have replaced is untouched. */
		if (spool_unlink(final) == -1)
			log_err("sop=%s: cannot remove %s: %s",
			    m->sop_instance_uid, final, strerror(errno));
		return RECEIVE_NO_RESOURCES;
	}
	if (h.found && strcmp(h.path, final) != 0 && spool_unlink(h.path) == -1 &&
	    errno != ENOENT)
		log_err("sop=%s: cannot remove the replaced %s: %s",
		    m->sop_instance_uid, h.path, strerror(errno));
	(void)existed;
	log_info("stored sop=%s study=%s from=%s%s", m->sop_instance_uid,
	    m->study_uid, m->calling_ae, is_new ? "" : " (replaced)");
	return RECEIVE_OK;
}

/* receive_commit - fsync, rename into the spool, index, under the UID's lock */
enum receive_rc
receive_commit(struct receive *rc, const struct instance_meta *m, int fd,
    const char *tmp_path)
{
	pthread_mutex_t *mu;
	enum receive_rc r;

	if (!spool_uid_valid(m->sop_instance_uid)) {
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_BAD_UID;
	}
	mu = uid_lock(m->sop_instance_uid);
	pthread_mutex_lock(mu);
	r = commit_locked(rc, m, fd, tmp_path);
	pthread_mutex_unlock(mu);
	return r;
}
