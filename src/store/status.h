/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status - counts for `radscribe status`: instances, studies, jobs by
 * stage and state.  Reads only; caller's connection.
 */
#ifndef RS_STATUS_H
#define RS_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "store/db.h"
#include "store/queue.h"

#define STATUS_PROBLEMS	20

/* A FAILED or DEFERRED job, newest first, with its reason. */
struct status_problem {
	char	study_uid[65];
	enum queue_stage stage;
	enum queue_state state;
	int	attempts;
	int64_t	updated_at;
	char	reason[256];
};

/* One job, for the oldest waiting and the newest error. */
struct status_job {
	int64_t	id;			/* 0: none */
	char	study_uid[65];
	enum queue_stage stage;
	enum queue_state state;
	int	attempts;
	int64_t	created_at, updated_at;
	char	error[256];
};

struct status {
	int64_t	instances;
	int64_t	reports;
	int	nproblems;
	struct status_problem problems[STATUS_PROBLEMS];
	int64_t	studies;
	int64_t	studies_unsettled;
	int64_t	studies_redraft;
	int64_t	jobs[QUEUE_NSTAGES][QUEUE_NSTATES];
	struct status_job oldest;	/* INCOMING or DEFERRED, oldest made */
	struct status_job last_error;	/* newest job with an error */
};

/* status_collect - fills *st (OUT); 0 or -1 (see db_errmsg). */
int	status_collect(struct db *db, struct status *st /* OUT */);
/* status_print_text - the tables, to fp. */
void	status_print_text(const struct status *st, FILE *fp);
/* status_json - the same as one JSON object (caller puts). */
struct json_object *status_json(const struct status *st);

#endif
