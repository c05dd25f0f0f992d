/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * instances - the only writer of tables studies (identity columns) and
 * instances: the receive index, the lookups recovery and the worker need,
 * and purge.  Settle state (job_created_at, redraft) belongs to settle.c.
 * Callers pass their own thread's struct db; nothing is kept.
 */
#ifndef RS_INSTANCES_H
#define RS_INSTANCES_H

#include <stdint.h>

#include "node/instance.h"
#include "store/db.h"

typedef int (*instances_fn)(void *arg, const char *path,
	    const char *sop_instance_uid);
/*
 * instances_of_study - fn for each instance of study_id, in the order
 * they arrived; the strings are borrowed for the call.  fn returning -1
 * stops the walk.  0, or -1 on a database error.
 */
int	instances_of_study(struct db *db, int64_t study_id, instances_fn fn,
	    void *arg);

/*
 * instances_path - the path of the instance with this SOP Instance UID
 * into path (OUT).  1 found, 0 not, -1 on a database error.
 */
int	instances_path(struct db *db, const char *sop_instance_uid,
	    char *path /* OUT */, size_t pathsz);

/*
 * instances_purge_study - delete study_id's instances rows and its
 * studies row.  In the caller's transaction, last: after the study's
 * qr_index rows, reports and jobs are gone (qr_index_purge_study,
 * reports_purge_study, queue_purge_study).  The files are the caller's.
 * 0, or -1 (see db_errmsg).
 */
int	instances_purge_study(struct db *db, int64_t study_id);

/* What the index holds for one SOP Instance UID (instances_held). */
struct instances_held {
	int	found;			/* 0: nothing; the rest is empty */
	char	study_uid[INSTANCE_UID_MAX + 1];
	char	patient_id[65];
	int	patient_known;		/* patient_id is NULL before migration 0005 */
	char	path[4096];
};

/*
 * instances_held - what the index holds for sop_instance_uid into *h
 * (OUT).  0, or -1 on a database error (see db_errmsg) or a path longer
 * than h->path.
 */
int	instances_held(struct db *db, const char *sop_instance_uid,
	    struct instances_held *h /* OUT */);

/* What instances_index did. */
struct instances_indexed {
	int64_t	study_id;
	int64_t	instance_id;
	int	is_new;			/* no row had the SOP Instance UID */
};

/*
 * instances_index - in the caller's transaction: the studies row of
 * m->study_uid (made, or its last_received_at moved up to now) and the
 * instances row of m at path (size bytes, received at now ms), replacing
 * the row of the same SOP Instance UID (its id kept, replaced counted).
 * *ix (OUT) gets the rows' ids.  m->qr is not looked at.  0, or -1 (see
 * db_errmsg).
 */
int	instances_index(struct db *db, const struct instance_meta *m,
	    const char *path, int64_t size, int64_t now,
	    struct instances_indexed *ix /* OUT */);

#endif
