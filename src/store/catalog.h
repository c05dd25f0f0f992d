/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog - the read model behind radscribe list, show, report, stats and
 * the lookups of its queue commands: queries over studies, instances,
 * jobs, reports and deliveries that change nothing.  Callers pass their
 * own struct db (CLI main thread); results are plain structs.  Writes
 * belong to the tables' owners (queue.c, instances.c, reports.c, ...).
 */
#ifndef RS_CATALOG_H
#define RS_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "store/queue.h"

/* A nullable integer column that is NULL. */
#define CATALOG_NULL	INT64_MIN

/*
 * What a listing takes; catalog_filter_init sets every field to "any".
 * state and stage: for jobs the job's own; for studies the study has a
 * job that matches both.
 */
struct catalog_filter {
	int		 state;	/* enum queue_state; -1: any */
	int		 stage;	/* enum queue_stage; -1: any */
	/* ms: jobs updated_at, studies last_received_at; CATALOG_NULL: any */
	int64_t		 since;
	/* an instance came from that AE; NULL: any */
	const char	*calling_ae;
	/* jobs only: of that study, or that job; NULL and 0: any */
	const char	*study_uid;
	int64_t		 job_id;
};

/* catalog_filter_init - every field to "any". */
void	catalog_filter_init(struct catalog_filter *f /* OUT */);

/* One job.  Strings are borrowed (see where it comes from). */
struct catalog_job {
	int64_t		 id;
	const char	*study_uid;	/* NULL in a catalog_study */
	enum queue_stage stage;
	enum queue_state state;
	int		 attempts;
	int64_t		 next_try;	/* ms; CATALOG_NULL: none */
	int64_t		 created_at, updated_at;
	const char	*last_error;	/* NULL: none */
};

/* One study as `radscribe list studies` shows it; strings borrowed. */
struct catalog_study_brief {
	int64_t		 id;
	const char	*study_uid;
	int64_t		 first_received_at, last_received_at;
	int64_t		 instances;
	/* the distinct calling AEs, comma separated; NULL: none */
	const char	*calling_aes;
	/* the states of its jobs (enum queue_state); -1: no such job */
	int		 infer, send;
	int64_t		 reports;
};

/*
 * A listing in progress, in id order.  It steps one cached statement of
 * db: at most one open listing of each kind per connection.  Other
 * catalog calls may run while it is open.
 */
struct catalog_iter;

/*
 * catalog_jobs_open, catalog_studies_open - start a listing of jobs or
 * studies that match f (copied).  NULL on a database error (db_errmsg).
 * Close with catalog_iter_close.
 */
struct catalog_iter *catalog_jobs_open(struct db *db,
	    const struct catalog_filter *f);
struct catalog_iter *catalog_studies_open(struct db *db,
	    const struct catalog_filter *f);
/*
 * catalog_jobs_next, catalog_studies_next - the next row into *row (OUT;
 * its strings stay valid until the next call or the close).  1 a row, 0
 * the end, -1 a database error (db_errmsg).  Each takes only an iterator
 * of its own kind.
 */
int	catalog_jobs_next(struct catalog_iter *it,
	    struct catalog_job *row /* OUT */);
int	catalog_studies_next(struct catalog_iter *it,
	    struct catalog_study_brief *row /* OUT */);
/* catalog_iter_close - NULL does nothing. */
void	catalog_iter_close(struct catalog_iter *it);

/*
 * catalog_study_id - the id of the study with that UID into *id (OUT).
 * 1 found, 0 no such study, -1 a database error.
 */
int	catalog_study_id(struct db *db, const char *study_uid,
	    int64_t *id /* OUT */);
/*
 * catalog_report_current - the study's newest report that is not
 * superseded, into *report_id (OUT).  1 found, 0 none, -1 an error.
 */
int	catalog_report_current(struct db *db, int64_t study_id,
	    int64_t *report_id /* OUT */);

/*
 * `radscribe show`: a study with everything recorded about it.  Every
 * string and array belongs to the record (catalog_study_free).
 */
struct catalog_instance {
	const char	*sop_instance_uid, *sop_class_uid, *transfer_syntax;
	const char	*calling_ae, *series_uid;
	int64_t		 size, received_at;
};

struct catalog_view {
	int		 ordinal;	/* 1 frontal or unknown, 2 lateral */
	const char	*kind;
	const char	*view_position;	/* "" when the file had none */
	const char	*sop_instance_uid;
};

struct catalog_delivery {
	const char	*archive;
	int64_t		 accepted_at;	/* CATALOG_NULL: not yet */
	int64_t		 status;	/* CATALOG_NULL: none kept */
	int		 attempts;
	const char	*last_error;	/* NULL: none */
};

struct catalog_report {
	int64_t		 id;
	const char	*sop_instance_uid;
	int64_t		 created_at;
	const char	*model, *findings, *impression, *path;
	int		 superseded;
	/* ms; CATALOG_NULL: drafted before the timings were kept */
	int64_t		 draft_ms, findings_ms, impression_ms;
	struct catalog_view	*views;		/* by ordinal */
	size_t			 nviews;
	struct catalog_delivery	*deliveries;	/* by id */
	size_t			 ndeliveries;
};

struct catalog_study {
	int64_t		 id;
	const char	*study_uid;
	int64_t		 first_received_at, last_received_at;
	int64_t		 job_created_at; /* CATALOG_NULL: not settled */
	int		 redraft;
	/* each by id: the order received, made or drafted */
	struct catalog_instance	*instances;
	size_t			 ninstances;
	struct catalog_job	*jobs;
	size_t			 njobs;
	struct catalog_report	*reports;
	size_t			 nreports;
};

/*
 * catalog_study_read - the study with that UID; catalog_study_read_job -
 * the study of that job.  1 with *out (OUT, the caller's: free with
 * catalog_study_free), 0 no such study or job, -1 a database error
 * (db_errmsg).  *out is NULL unless 1.
 */
int	catalog_study_read(struct db *db, const char *study_uid,
	    struct catalog_study **out /* OUT */);
int	catalog_study_read_job(struct db *db, int64_t job_id,
	    struct catalog_study **out /* OUT */);
/* catalog_study_free - NULL does nothing. */
void	catalog_study_free(struct catalog_study *s);

/*
 * `radscribe report`: the study's latest report (a redraft's row comes
 * after the one it replaces) and the instances it was drafted from.
 * Every string and array belongs to the record (catalog_latest_free).
 */
struct catalog_source {
	const char	*sop_instance_uid, *sop_class_uid, *series_uid;
};

struct catalog_latest {
	const char	*study_uid;
	const char	*sop_instance_uid, *series_uid, *sop_class_uid;
	const char	*path;		/* the SR file */
	int64_t		 size, created_at;
	const char	*model, *findings, *impression;
	/* the SOP Instance UID of the report it replaced; NULL: none */
	const char	*predecessor;
	struct catalog_source	*sources;	/* by id */
	size_t			 nsources;
};

/*
 * catalog_latest_read - the latest report of the study with that UID.
 * 1 with *out (OUT, the caller's: free with catalog_latest_free), 0 no
 * such study or it has no report, -1 a database error.  *out is NULL
 * unless 1.
 */
int	catalog_latest_read(struct db *db, const char *study_uid,
	    struct catalog_latest **out /* OUT */);
/* catalog_latest_free - NULL does nothing. */
void	catalog_latest_free(struct catalog_latest *r);

/* `radscribe stats`: rows in the database now. */
struct catalog_counts {
	int64_t		 instances, studies;
	int64_t		 reports;	/* superseded ones included */
	int64_t		 deliveries_accepted;
	int64_t		 jobs[QUEUE_NSTAGES][QUEUE_NSTATES];
};

/* catalog_counts_read - fills *c (OUT).  0, or -1 (db_errmsg). */
int	catalog_counts_read(struct db *db,
	    struct catalog_counts *c /* OUT */);

/*
 * Latencies, one per report whose end event falls at or after a start:
 * "first acceptance" is the earliest accepted_at of a report's
 * deliveries.
 */
enum catalog_latency {
	CATALOG_SETTLE_TO_REPORT,	/* last instance -> report made */
	CATALOG_REPORT_TO_ACCEPT,	/* report made -> first acceptance */
	CATALOG_RECEIVED_TO_ACCEPT	/* last instance -> 1st acceptance */
};
#define CATALOG_NLATENCIES	3

/*
 * catalog_latency_read - every latency of kind whose end is at or after
 * since (ms), ascending, into *ms (OUT, the caller's: free()) and *n
 * (OUT).  *ms is NULL when *n is 0.  0, or -1 on a database error.
 */
int	catalog_latency_read(struct db *db, enum catalog_latency kind,
	    int64_t since, int64_t **ms /* OUT */, size_t *n /* OUT */);

/*
 * `radscribe purge`: a study it may take is old (last received before
 * the cutoff, ms), has a job, and every job is DONE or in state finished
 * (QUEUE_DONE or QUEUE_FAILED), and with QUEUE_FAILED at least one is.
 */
struct catalog_purge {
	int64_t		 study_id;
	char		 study_uid[65];
	int		 instances, reports;
	int		 undelivered;	/* an archive lacks a report */
};

/*
 * catalog_purge_list - every study purge may take, by id, into *out (OUT,
 * the caller's: free(); NULL when none) and *n (OUT).  0, or -1 on a
 * database error.
 */
int	catalog_purge_list(struct db *db, int64_t cutoff,
	    enum queue_state finished, struct catalog_purge **out /* OUT */,
	    size_t *n /* OUT */);
/*
 * catalog_purge_check - is study_id still one purge may take, with every
 * report delivered?  For the deleting transaction (call it inside).  1
 * with its row counts in *instances and *reports (OUT), 0 no longer, -1
 * a database error.
 */
int	catalog_purge_check(struct db *db, int64_t study_id, int64_t cutoff,
	    enum queue_state finished, int *instances /* OUT */,
	    int *reports /* OUT */);
/*
 * catalog_study_files - the distinct paths of the study's instance and
 * report files into *paths (OUT) and *n (OUT); the caller frees them
 * with catalog_files_free.  0, or -1 on a database error (nothing to
 * free then).
 */
int	catalog_study_files(struct db *db, int64_t study_id,
	    char ***paths /* OUT */, size_t *n /* OUT */);
/* catalog_files_free - each path, then the array; NULL does nothing. */
void	catalog_files_free(char **paths, size_t n);

#endif
