/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * receive - spool then index, then (in the caller) the C-STORE response.
 * Runs on association threads.  A failure after the rename removes a new
 * file again, so no unindexed file outlives a failure status; a crash in
 * that window leaves a file that start-up recovery indexes.  The rows are
 * written by src/store (instances, settle, qr_index) in one transaction.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmem.h"
#include "node/receive.h"
#include "store/events.h"
#include "store/instances.h"
#include "store/qr_index.h"
#include "store/settle.h"

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

/* receive_index - the rows of an instance at path, in one transaction */
int
receive_index(struct db *db, const struct instance_meta *m, const char *path,
    int64_t size, int *is_new)
{
	struct instances_indexed ix;
	int late;

	if (db_begin(db) == -1)
		return -1;
	if (instances_index(db, m, path, size, clock_now_ms(), &ix) == -1)
		goto fail;
	/* A new image after the job was made: the report needs a new draft. */
	if (ix.is_new) {
		if ((late = settle_note_arrival(db, ix.study_id)) == -1)
			goto fail;
		if (late)
			log_info("study=%s late instance=%s: flagged for a new "
			    "draft", m->study_uid, m->sop_instance_uid);
	}
	/*
	 * Costs only the query index row if it fails (start-up recovery
	 * makes it); a failure that ended the transaction fails the commit.
	 */
	if (m->qr != NULL &&
	    qr_index_put_instance(db, ix.instance_id, path, m->qr) == -1)
		log_warn("sop=%s: not added to the query/retrieve index: %s",
		    m->sop_instance_uid, db_errmsg(db));
	if (db_commit(db) == -1)
		return -1;	/* rolled back */
	if (is_new != NULL)
		*is_new = ix.is_new;
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

static enum receive_rc
commit_locked(struct receive *rc, const struct instance_meta *m, int fd,
    const char *tmp_path)
{
	char final[SPOOL_PATH_MAX], detail[256];
	struct instances_held h;
	struct stat sb;
	int existed, is_new;

	if (spool_final_path(rc->sp, m->sop_instance_uid, final, sizeof(final)) == -1) {
		spool_tmp_discard(fd, tmp_path);
		return RECEIVE_BAD_UID;
	}
	if (instances_held(rc->db, m->sop_instance_uid, &h) == -1) {
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
