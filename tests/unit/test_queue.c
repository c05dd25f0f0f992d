/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_queue - compare-and-set transitions, claim order, backoff, recovery. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/db_sql.h"
#include "store/queue.h"
#include "util.h"


static int
setup(void **state)
{
	mock_clock_set(1000000);
	return util_fx_setup(state);
}


static int64_t
add_study(struct db *db, const char *uid)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO studies (study_uid, "
	    "first_received_at, last_received_at) VALUES ('%s', 0, 0)", uid);
	assert_int_equal(sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL), SQLITE_OK);
	return sqlite3_last_insert_rowid(db_sqlite(db));
}

static int64_t
new_job(struct db *db, const char *uid)
{
	int64_t id;

	assert_int_equal(queue_create(db, add_study(db, uid), QUEUE_INFER, &id),
	    QUEUE_OK);
	return id;
}

static enum queue_state
state_of(struct db *db, int64_t id)
{
	struct queue_job j;

	assert_int_equal(queue_get(db, id, &j), 1);
	return j.state;
}

static void
test_cas(void **state)
{
	struct util_fx *fx = *state;
	int64_t id = new_job(fx->db, "1.2.3");

	assert_int_equal(state_of(fx->db, id), QUEUE_INCOMING);
	/* Wrong expected state: nothing changes. */
	assert_int_equal(queue_transition(fx->db, id, QUEUE_ACTIVE, QUEUE_DONE, NULL),
	    QUEUE_LOST);
	assert_int_equal(state_of(fx->db, id), QUEUE_INCOMING);
	assert_int_equal(queue_transition(fx->db, id, QUEUE_INCOMING, QUEUE_ACTIVE, NULL),
	    QUEUE_OK);
	/* The same transition again loses: the row moved on. */
	assert_int_equal(queue_transition(fx->db, id, QUEUE_INCOMING, QUEUE_ACTIVE, NULL),
	    QUEUE_LOST);
	assert_int_equal(queue_transition(fx->db, id, QUEUE_ACTIVE, QUEUE_FAILED,
	    "not a chest study"), QUEUE_OK);
	assert_int_equal(state_of(fx->db, id), QUEUE_FAILED);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM jobs WHERE "
	    "last_error = 'not a chest study'"), 1);
}

static void
test_illegal(void **state)
{
	struct util_fx *fx = *state;
	int64_t id = new_job(fx->db, "1.2.4");

	/* INCOMING -> DONE skips ACTIVE: refused, row untouched. */
	assert_int_equal(queue_transition(fx->db, id, QUEUE_INCOMING, QUEUE_DONE, NULL),
	    QUEUE_ILLEGAL);
	assert_int_equal(queue_transition(fx->db, id, QUEUE_INCOMING, QUEUE_DEFERRED, NULL),
	    QUEUE_ILLEGAL);
	assert_int_equal(state_of(fx->db, id), QUEUE_INCOMING);
	assert_false(queue_legal(QUEUE_DONE, QUEUE_ACTIVE));
	assert_false(queue_legal(QUEUE_HOLD, QUEUE_ACTIVE));
	assert_true(queue_legal(QUEUE_HOLD, QUEUE_INCOMING));
	assert_true(queue_legal(QUEUE_INCOMING, QUEUE_HOLD));
	assert_true(queue_legal(QUEUE_ACTIVE, QUEUE_DEFERRED));
}

static void
test_one_job_per_stage(void **state)
{
	struct util_fx *fx = *state;
	int64_t study = add_study(fx->db, "1.2.5");

	assert_int_equal(queue_create(fx->db, study, QUEUE_INFER, NULL), QUEUE_OK);
	assert_int_equal(queue_create(fx->db, study, QUEUE_INFER, NULL), QUEUE_LOST);
	assert_int_equal(queue_create(fx->db, study, QUEUE_SEND, NULL), QUEUE_OK);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM jobs"), 2);
}

static void
test_claim_order_and_defer(void **state)
{
	struct util_fx *fx = *state;
	struct queue_job j;
	int64_t a, b;

	mock_clock_set(1000);
	a = new_job(fx->db, "1.1");
	mock_clock_set(2000);
	b = new_job(fx->db, "1.2");
	assert_int_equal(queue_claim(fx->db, QUEUE_SEND, &j), 0);	/* other stage */
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(j.id, a);			/* oldest first */
	assert_int_equal(j.state, QUEUE_ACTIVE);
	assert_int_equal(j.attempts, 1);
	assert_int_equal(queue_defer(fx->db, &j, 10, 300, "archive down"), QUEUE_OK);
	assert_int_equal(state_of(fx->db, a), QUEUE_DEFERRED);
	/* Deferred and not due: the other job comes next, then nothing. */
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(j.id, b);
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 0);
	/* Once due it is claimed again, attempts counting up. */
	mock_clock_set(2000 + 10000);
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(j.id, a);
	assert_int_equal(j.attempts, 2);
}

static void
test_backoff(void **state)
{
	(void)state;
	assert_int_equal(queue_backoff_ms(1, 10, 300), 10000);
	assert_int_equal(queue_backoff_ms(2, 10, 300), 20000);
	assert_int_equal(queue_backoff_ms(3, 10, 300), 40000);
	assert_int_equal(queue_backoff_ms(6, 10, 300), 300000);	/* ceiling */
	assert_int_equal(queue_backoff_ms(60, 10, 300), 300000);
}

static void
test_recover(void **state)
{
	struct util_fx *fx = *state;
	struct queue_job j;
	int64_t a = new_job(fx->db, "2.1"), b = new_job(fx->db, "2.2");

	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(queue_transition(fx->db, b, QUEUE_ACTIVE, QUEUE_DONE, NULL),
	    QUEUE_OK);
	assert_int_equal(queue_recover(fx->db), 1);
	assert_int_equal(state_of(fx->db, a), QUEUE_INCOMING);
	assert_int_equal(state_of(fx->db, b), QUEUE_DONE);
	assert_int_equal(queue_get(fx->db, a, &j), 1);
	assert_int_equal(j.attempts, 1);	/* attempts kept */
}

static void
test_names(void **state)
{
	enum queue_state s;
	enum queue_stage g;

	(void)state;
	for (int i = 0; i < QUEUE_NSTATES; i++) {
		assert_int_equal(queue_state_parse(queue_state_name((enum queue_state)i), &s), 0);
		assert_int_equal((int)s, i);
	}
	assert_int_equal(queue_state_parse("RUNNING", &s), -1);
	assert_int_equal(queue_stage_parse("send", &g), 0);
	assert_int_equal(g, QUEUE_SEND);
	assert_int_equal(queue_stage_parse("print", &g), -1);
}

/* The stages' outcomes under one retry policy. */
static void
test_finish_policy(void **state)
{
	struct util_fx *fx = *state;
	struct queue_retry rp = { 10, 600, 3, 0 };
	struct queue_job j;
	enum queue_spent sp;
	int64_t a = new_job(fx->db, "1.2.10"), b, c;

	/* OK -> DONE. */
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(j.id, a);
	assert_int_equal(j.created_at, 1000000);
	assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_OK, &rp, 0, NULL,
	    &sp), QUEUE_OK);
	assert_int_equal(sp, QUEUE_SPENT_NO);
	assert_int_equal(state_of(fx->db, a), QUEUE_DONE);
	/* REJECT -> FAILED with its reason, whatever the policy. */
	b = new_job(fx->db, "1.2.11");
	assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
	assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_REJECT, &rp, 0,
	    "no frontal view", NULL), QUEUE_OK);
	assert_int_equal(state_of(fx->db, b), QUEUE_FAILED);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM jobs WHERE "
	    "last_error = 'no frontal view'"), 1);
	/* DEFER: DEFERRED twice, then the third attempt is spent. */
	c = new_job(fx->db, "1.2.12");
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(queue_claim(fx->db, QUEUE_INFER, &j), 1);
		assert_int_equal(j.id, c);
		assert_int_equal(j.attempts, i);
		assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_DEFER, &rp,
		    j.created_at, "disk full", &sp), QUEUE_OK);
		if (i < 3) {
			assert_int_equal(sp, QUEUE_SPENT_NO);
			assert_int_equal(state_of(fx->db, c), QUEUE_DEFERRED);
			mock_clock_set(1000000 + 1000000 * i);
		}
	}
	assert_int_equal(sp, QUEUE_SPENT_ATTEMPTS);
	assert_int_equal(state_of(fx->db, c), QUEUE_FAILED);
	/* A job that is not ACTIVE is not finished: the CAS loses. */
	assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_OK, &rp, 0, NULL,
	    NULL), QUEUE_LOST);
	assert_int_equal(state_of(fx->db, c), QUEUE_FAILED);
}

static void
test_retry_spent(void **state)
{
	struct queue_retry none = { 10, 600, 0, 0 }, age = { 10, 600, 0, 60 };
	struct queue_job j = { .attempts = 1000 };

	(void)state;
	assert_int_equal(queue_retry_spent(&none, &j, 0, 1000000000), QUEUE_SPENT_NO);
	assert_int_equal(queue_retry_spent(&age, &j, 0, 60000), QUEUE_SPENT_NO);
	assert_int_equal(queue_retry_spent(&age, &j, 0, 60001), QUEUE_SPENT_AGE);
	none.max_attempts = 1000;
	assert_int_equal(queue_retry_spent(&none, &j, 0, 0), QUEUE_SPENT_ATTEMPTS);
}

/* Reopen and wake: compare-and-set, edges of the machine only. */
static void
test_reopen_wake(void **state)
{
	struct util_fx *fx = *state;
	struct queue_retry rp = { 10, 600, 0, 0 };
	struct queue_job j;
	int64_t study = add_study(fx->db, "1.2.20"), id, got = 0, due;

	assert_int_equal(queue_reopen(fx->db, study, QUEUE_SEND, &got), QUEUE_LOST);
	assert_int_equal(queue_create(fx->db, study, QUEUE_SEND, &id), QUEUE_OK);
	/* INCOMING, ACTIVE and HOLD are not reopened. */
	assert_int_equal(queue_wake(fx->db, study, QUEUE_SEND, &got), QUEUE_LOST);
	assert_int_equal(got, id);
	assert_int_equal(queue_claim(fx->db, QUEUE_SEND, &j), 1);
	assert_int_equal(queue_wake(fx->db, study, QUEUE_SEND, NULL), QUEUE_LOST);
	assert_int_equal(state_of(fx->db, id), QUEUE_ACTIVE);
	/* DEFERRED: reopen leaves it, wake makes it due now from 0 attempts. */
	assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_DEFER, &rp, 0,
	    "refused", NULL), QUEUE_OK);
	assert_int_equal(queue_next_due(fx->db, QUEUE_SEND, &due), 0);
	assert_int_equal(due, 1000000 + 10000);
	assert_int_equal(queue_claim(fx->db, QUEUE_SEND, &j), 0);
	assert_int_equal(queue_reopen(fx->db, study, QUEUE_SEND, NULL), QUEUE_LOST);
	assert_int_equal(queue_wake(fx->db, study, QUEUE_SEND, NULL), QUEUE_OK);
	assert_int_equal(state_of(fx->db, id), QUEUE_DEFERRED);
	assert_int_equal(queue_claim(fx->db, QUEUE_SEND, &j), 1);
	assert_int_equal(j.attempts, 1);
	/* DONE -> INCOMING with attempts 0, and FAILED likewise. */
	assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_OK, &rp, 0, NULL,
	    NULL), QUEUE_OK);
	assert_int_equal(queue_reopen(fx->db, study, QUEUE_SEND, NULL), QUEUE_OK);
	assert_int_equal(state_of(fx->db, id), QUEUE_INCOMING);
	assert_int_equal(util_count(fx->db, "SELECT attempts FROM jobs"), 0);
	assert_int_equal(queue_claim(fx->db, QUEUE_SEND, &j), 1);
	assert_int_equal(queue_finish(fx->db, &j, QUEUE_OUT_REJECT, &rp, 0,
	    "bad", NULL), QUEUE_OK);
	assert_int_equal(queue_wake(fx->db, study, QUEUE_SEND, NULL), QUEUE_OK);
	assert_int_equal(state_of(fx->db, id), QUEUE_INCOMING);
	/* HOLD is the admin's. */
	assert_int_equal(queue_transition(fx->db, id, QUEUE_INCOMING, QUEUE_HOLD,
	    NULL), QUEUE_OK);
	assert_int_equal(queue_wake(fx->db, study, QUEUE_SEND, NULL), QUEUE_LOST);
	assert_int_equal(state_of(fx->db, id), QUEUE_HOLD);
	assert_int_equal(queue_next_due(fx->db, QUEUE_SEND, &due), 0);
	assert_int_equal(due, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cas, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_illegal, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_job_per_stage, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_claim_order_and_defer, setup, util_fx_teardown),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_recover, setup, util_fx_teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_finish_policy, setup, util_fx_teardown),
		cmocka_unit_test(test_retry_spent),
		cmocka_unit_test_setup_teardown(test_reopen_wake, setup, util_fx_teardown),
	};

	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
