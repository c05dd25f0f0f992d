/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * queue - the job table's state machine, Postfix style: one row per study
 * and stage.  The only writer of table jobs (tests/lint.sh checks): every
 * transition, reopen and wake-up is a compare-and-set here, on the edge
 * table; both stages report an outcome (OK, DEFER, REJECT) that their
 * retry policy turns into the next state.  Callers pass their own
 * thread's struct db; no function keeps a pointer after it returns.
 */
#ifndef RS_QUEUE_H
#define RS_QUEUE_H

#include <stdint.h>

#include "store/db.h"

enum queue_state {
	QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_DONE,
	QUEUE_FAILED, QUEUE_HOLD
};
#define QUEUE_NSTATES 6

enum queue_stage { QUEUE_INFER, QUEUE_SEND };
#define QUEUE_NSTAGES 2

/* Results of a transition. */
enum queue_rc {
	QUEUE_OK = 0,
	QUEUE_LOST = 1,		/* the row was not in the expected state */
	QUEUE_ILLEGAL = 2,	/* from -> to is not an edge of the machine */
	QUEUE_DBERR = -1	/* see db_errmsg(); SQLITE_BUSY means retry */
};

struct queue_job {
	int64_t		 id;
	int64_t		 study_id;
	enum queue_stage stage;
	enum queue_state state;
	int		 attempts;
	int64_t		 next_try;
	int64_t		 created_at;	/* ms; the job's age for max_age */
};

/* What a stage made of a claimed job (STYLE.md 4): done, try again, never. */
enum queue_outcome { QUEUE_OUT_OK, QUEUE_OUT_DEFER, QUEUE_OUT_REJECT };

/*
 * A stage's retry policy, from radscribed.conf: backoff doubling from
 * min_s to max_s; a job is spent after max_attempts claims or once older
 * than max_age_s (each 0: no limit).
 */
struct queue_retry {
	int	min_s, max_s;
	int	max_attempts;
	int	max_age_s;
};

/* Why a policy is spent (queue_retry_spent). */
enum queue_spent { QUEUE_SPENT_NO, QUEUE_SPENT_ATTEMPTS, QUEUE_SPENT_AGE };

const char *queue_state_name(enum queue_state s);
const char *queue_stage_name(enum queue_stage s);
/* _parse - 0, or -1 on an unknown name. */
int	queue_state_parse(const char *name, enum queue_state *out /* OUT */);
int	queue_stage_parse(const char *name, enum queue_stage *out /* OUT */);
/* queue_legal - is from -> to an edge of the state machine? */
int	queue_legal(enum queue_state from, enum queue_state to);

/*
 * queue_create - insert an INCOMING job for study and stage; must run
 * inside the caller's transaction.  *id (OUT, may be NULL) gets the row.
 * QUEUE_LOST when the study already has a job for that stage.
 */
enum queue_rc queue_create(struct db *db, int64_t study_id,
	    enum queue_stage stage, int64_t *id /* OUT */);
/*
 * queue_transition - compare-and-set id from -> to.  err (may be NULL) is
 * kept as last_error.  Runs in its own transaction unless one is open.
 */
enum queue_rc queue_transition(struct db *db, int64_t id,
	    enum queue_state from, enum queue_state to, const char *err);
/*
 * queue_claim - the oldest job of stage that is INCOMING, or DEFERRED and
 * due, becomes ACTIVE (attempts + 1).  1 with *job filled, 0 when none,
 * -1 on a database error.
 */
int	queue_claim(struct db *db, enum queue_stage stage,
	    struct queue_job *job /* OUT */);
/*
 * queue_defer - ACTIVE -> DEFERRED with next_try = now + backoff, where
 * backoff doubles per attempt from min_s up to max_s seconds.
 */
enum queue_rc queue_defer(struct db *db, const struct queue_job *job,
	    int min_s, int max_s, const char *err);
/*
 * queue_retry_spent - may job, whose age counts from since_ms, be tried
 * again under rp at now?  QUEUE_SPENT_NO when it may.
 */
enum queue_spent queue_retry_spent(const struct queue_retry *rp,
	    const struct queue_job *job, int64_t since_ms, int64_t now);
/*
 * queue_finish - apply out to job, which must be ACTIVE: OK -> DONE,
 * REJECT -> FAILED, DEFER -> DEFERRED after rp's backoff, or FAILED when
 * queue_retry_spent says so (*spent, OUT, may be NULL, tells the caller,
 * who logs).  err (may be NULL) is kept as last_error.  Runs in the
 * caller's transaction, if any.
 */
enum queue_rc queue_finish(struct db *db, const struct queue_job *job,
	    enum queue_outcome out, const struct queue_retry *rp,
	    int64_t since_ms, const char *err, enum queue_spent *spent /* OUT */);
/*
 * queue_reopen - the study's job of stage starts over: DONE or FAILED ->
 * INCOMING with attempts 0.  QUEUE_LOST when there is no such job or it
 * is in another state (a running or waiting job will see the new data
 * anyway; HOLD is the admin's).  *id (OUT, may be NULL) gets the job.
 */
enum queue_rc queue_reopen(struct db *db, int64_t study_id,
	    enum queue_stage stage, int64_t *id /* OUT */);
/*
 * queue_wake - queue_reopen, and a DEFERRED job becomes due now with
 * attempts 0 (it stays DEFERRED: the machine has no DEFERRED -> INCOMING
 * edge).  For new work on a study, such as a new report to send.
 */
enum queue_rc queue_wake(struct db *db, int64_t study_id,
	    enum queue_stage stage, int64_t *id /* OUT */);
/*
 * queue_next_due - the earliest next_try of a DEFERRED job of stage, in
 * *due (OUT; 0 when none).  0, or -1 on a database error.
 */
int	queue_next_due(struct db *db, enum queue_stage stage, int64_t *due /* OUT */);
/* queue_backoff_ms - the delay queue_defer uses after attempts tries. */
int64_t	queue_backoff_ms(int attempts, int min_s, int max_s);
/* queue_recover - start-up: every ACTIVE row back to INCOMING.  Count or -1. */
int	queue_recover(struct db *db);
/* queue_get - read one job; 1 found, 0 not, -1 error. */
int	queue_get(struct db *db, int64_t id, struct queue_job *job /* OUT */);

/*
 * queue_find - the job of study_id and stage into *job (OUT).  1 found,
 * 0 none, -1 on a database error.
 */
int	queue_find(struct db *db, int64_t study_id, enum queue_stage stage,
	    struct queue_job *job /* OUT */);
/*
 * queue_purge_study - delete every job of study_id, whatever its state:
 * only for radscribe purge, which checked that they are finished.  In
 * the caller's transaction.  0, or -1 (see db_errmsg).
 */
int	queue_purge_study(struct db *db, int64_t study_id);

#endif
