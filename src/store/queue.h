/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * queue - the job table's state machine, Postfix style: one row per study
 * and stage.  Every transition is a compare-and-set here and nowhere
 * else.  Callers pass their own thread's struct db; no function keeps a
 * pointer after it returns.
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
};

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
/* queue_backoff_ms - the delay queue_defer uses after attempts tries. */
int64_t	queue_backoff_ms(int attempts, int min_s, int max_s);
/* queue_recover - start-up: every ACTIVE row back to INCOMING.  Count or -1. */
int	queue_recover(struct db *db);
/* queue_get - read one job; 1 found, 0 not, -1 error. */
int	queue_get(struct db *db, int64_t id, struct queue_job *job /* OUT */);

#endif
