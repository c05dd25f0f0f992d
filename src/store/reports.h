/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reports - the only writer of tables reports, report_views and
 * deliveries: a drafted report recorded (superseding the last one), its
 * views, each archive's delivery, and purge.  Callers pass their own
 * thread's struct db; nothing is kept.
 */
#ifndef RS_REPORTS_H
#define RS_REPORTS_H

#include <stdint.h>

#include "store/db.h"

#define REPORTS_UID_MAX	64

/* A study's current report (superseded_by IS NULL, newest). */
struct reports_current {
	int64_t	id;			/* 0: the study has none */
	int64_t	created_at;		/* ms */
	char	study_uid[REPORTS_UID_MAX + 1];	/* "?" when no study */
	char	series_uid[REPORTS_UID_MAX + 1];
	char	sop_instance_uid[REPORTS_UID_MAX + 1];
	char	sop_class_uid[REPORTS_UID_MAX + 1];
	char	path[4096];		/* "" when it does not fit */
};

/*
 * reports_current - the study's current report into *r (OUT).  1 found, 0
 * none (r->study_uid is still set when the study exists), -1 on a
 * database error.
 */
int	reports_current(struct db *db, int64_t study_id,
	    struct reports_current *r /* OUT */);

/* One view a draft was made from. */
struct reports_view {
	const char	*sop_instance_uid, *kind, *view_position;
};

/* A drafted report, as the worker records it; all strings borrowed. */
struct reports_new {
	int64_t		 study_id;
	const char	*sop_instance_uid, *series_uid, *sop_class_uid;
	const char	*path;		/* the committed SR */
	int64_t		 size;
	int64_t		 predecessor_id;	/* 0: none */
	const char	*model, *findings, *impression;
	int64_t		 draft_ms, findings_ms, impression_ms;
	const struct reports_view *views;
	int		 nviews;
	const char *const *archives;	/* one delivery row each */
	size_t		 narchives;
};

/*
 * reports_record - in the caller's transaction: the report row, its views
 * in order, its predecessor marked superseded, a delivery per archive.
 * *id (OUT) gets the new row.  0, or -1 (see db_errmsg).
 */
int	reports_record(struct db *db, const struct reports_new *r,
	    int64_t *id /* OUT */);

/* reports_has_path - is a report recorded at path?  1 yes, 0 no, -1 error. */
int	reports_has_path(struct db *db, const char *path);

/*
 * reports_accepted - has archive accepted report_id?  1 yes, 0 no, -1 on
 * a database error.
 */
int	reports_accepted(struct db *db, int64_t report_id, const char *archive);

/*
 * reports_delivery_ensure - a deliveries row for report_id and archive,
 * unless it has one; in the caller's transaction.  0, or -1.
 */
int	reports_delivery_ensure(struct db *db, int64_t report_id,
	    const char *archive);

typedef int (*reports_delivery_fn)(void *arg, int64_t delivery_id,
	    const char *archive);
/*
 * reports_pending - fn for each delivery of report_id not yet accepted,
 * oldest first; fn's archive is borrowed for the call.  fn returning -1
 * stops the walk.  0, or -1 on a database error.
 */
int	reports_pending(struct db *db, int64_t report_id,
	    reports_delivery_fn fn, void *arg);

/*
 * reports_delivery_outcome - one attempt's outcome, in its own
 * transaction: accepted (the archive said success or warning) sets
 * accepted_at; status < 0 means no status came; err may be NULL.  A
 * delivery accepted already is left alone.  0, or -1.
 */
int	reports_delivery_outcome(struct db *db, int64_t delivery_id,
	    int accepted, long status, const char *err);

/*
 * reports_delivery_reset - report_id is to go to archive again: its
 * deliveries row, made when missing, loses accepted_at, status and
 * last_error (attempts are kept).  In the caller's transaction.  0, or
 * -1 (see db_errmsg).
 */
int	reports_delivery_reset(struct db *db, int64_t report_id,
	    const char *archive);

/*
 * reports_purge_study - delete every report of study_id with its views
 * and deliveries.  In the caller's transaction, after the study's
 * qr_index rows are gone (qr_index_purge_study).  0, or -1 (see
 * db_errmsg).
 */
int	reports_purge_study(struct db *db, int64_t study_id);

#endif
