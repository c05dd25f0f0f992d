/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_settle - studies become jobs after settle_time, per study, with a mock clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "node/receive.h"
#include "store/settle.h"
#include "util.h"




/* arrive - index one instance of study at time t (ms). */
static void
arrive(struct db *db, int64_t t, const char *study, const char *sop, int *is_new)
{
	struct instance_meta m;

	memset(&m, 0, sizeof(m));
	snprintf(m.study_uid, sizeof(m.study_uid), "%s", study);
	snprintf(m.sop_instance_uid, sizeof(m.sop_instance_uid), "%s", sop);
	snprintf(m.sop_class_uid, sizeof(m.sop_class_uid), "1.2.840.10008.5.1.4.1.1.1");
	snprintf(m.series_uid, sizeof(m.series_uid), "%s.1", study);
	snprintf(m.transfer_syntax, sizeof(m.transfer_syntax), "1.2.840.10008.1.2.1");
	snprintf(m.calling_ae, sizeof(m.calling_ae), "MOD");
	mock_clock_set(t);
	assert_int_equal(receive_index(db, &m, "/dev/null", 1, is_new), 0);
}

static int64_t
jobs(struct db *db)
{
	return util_count(db, "SELECT count(*) FROM jobs WHERE stage = 'infer'"
	    " AND state = 'INCOMING'");
}

static void
test_settles_per_study(void **state)
{
	struct util_fx *fx = *state;

	arrive(fx->db, 0, "1.1", "1.1.1", NULL);
	arrive(fx->db, 20000, "1.1", "1.1.2", NULL);	/* restarts 1.1's clock */
	arrive(fx->db, 5000, "1.2", "1.2.1", NULL);
	mock_clock_set(34999);
	assert_int_equal(settle_run(fx->db, 30000), 0);
	assert_int_equal(jobs(fx->db), 0);
	mock_clock_set(35000);		/* 1.2 quiet for 30 s */
	assert_int_equal(settle_run(fx->db, 30000), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM jobs j JOIN studies s"
	    " ON s.id = j.study_id WHERE s.study_uid = '1.2'"), 1);
	mock_clock_set(49999);
	assert_int_equal(settle_run(fx->db, 30000), 0);
	mock_clock_set(50000);
	assert_int_equal(settle_run(fx->db, 30000), 1);
	assert_int_equal(jobs(fx->db), 2);
	/* Nothing is made twice. */
	mock_clock_set(900000);
	assert_int_equal(settle_run(fx->db, 30000), 0);
	assert_int_equal(jobs(fx->db), 2);
}

static void
test_zero_settle(void **state)
{
	struct util_fx *fx = *state;

	arrive(fx->db, 100, "3.1", "3.1.1", NULL);
	assert_int_equal(settle_run(fx->db, 0), 1);
}

static void
test_late_instance_flags_redraft(void **state)
{
	struct util_fx *fx = *state;
	int is_new;

	arrive(fx->db, 0, "4.1", "4.1.1", &is_new);
	assert_true(is_new);
	mock_clock_set(30000);
	assert_int_equal(settle_run(fx->db, 30000), 1);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 0);
	/* The same instance again is a replacement, not new information. */
	arrive(fx->db, 40000, "4.1", "4.1.1", &is_new);
	assert_false(is_new);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 0);
	assert_int_equal(util_count(fx->db, "SELECT replaced FROM instances"), 1);
	/* A new instance after the job: recorded, flagged, no second job. */
	arrive(fx->db, 41000, "4.1", "4.1.2", &is_new);
	assert_true(is_new);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 2);
	mock_clock_set(900000);
	assert_int_equal(settle_run(fx->db, 30000), 0);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM jobs"), 1);
}

static void
test_redraft_requeues_finished_job(void **state)
{
	struct util_fx *fx = *state;

	arrive(fx->db, 0, "5.1", "5.1.1", NULL);
	mock_clock_set(30000);
	assert_int_equal(settle_run(fx->db, 30000), 1);
	/* Not flagged: nothing to do, whatever the job's state. */
	assert_int_equal(util_exec(fx->db, "UPDATE jobs SET state = 'DONE'"), 0);
	assert_int_equal(settle_redraft(fx->db, 30000), 0);
	/* A late instance: requeued only once the study is quiet again. */
	arrive(fx->db, 40000, "5.1", "5.1.2", NULL);
	mock_clock_set(69999);
	assert_int_equal(settle_redraft(fx->db, 30000), 0);
	mock_clock_set(70000);
	assert_int_equal(settle_redraft(fx->db, 30000), 1);
	assert_int_equal(jobs(fx->db), 1);
	/* An INCOMING or ACTIVE job is left alone (the worker clears the flag). */
	assert_int_equal(settle_redraft(fx->db, 30000), 0);
	assert_int_equal(util_exec(fx->db, "UPDATE jobs SET state = 'ACTIVE'"), 0);
	assert_int_equal(settle_redraft(fx->db, 30000), 0);
	/* FAILED counts too: the new image may be the one that was missing. */
	assert_int_equal(util_exec(fx->db, "UPDATE jobs SET state = 'FAILED'"), 0);
	assert_int_equal(settle_redraft(fx->db, 30000), 1);
}

/* The worker's start clears the flag; an instance during the draft sets it. */
static void
test_drafting_clears_flag(void **state)
{
	struct util_fx *fx = *state;
	char uid[65] = "";

	arrive(fx->db, 0, "6.1", "6.1.1", NULL);
	mock_clock_set(30000);
	assert_int_equal(settle_run(fx->db, 30000), 1);
	arrive(fx->db, 31000, "6.1", "6.1.2", NULL);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 1);
	assert_int_equal(settle_drafting(fx->db, util_count(fx->db,
	    "SELECT id FROM studies"), uid, sizeof(uid)), 0);
	assert_string_equal(uid, "6.1");
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 0);
	arrive(fx->db, 32000, "6.1", "6.1.3", NULL);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 1);
	/* A study that does not exist is an error, not an empty UID. */
	assert_int_equal(settle_drafting(fx->db, 999, uid, sizeof(uid)), -1);
	/* Held by an admin: the flag waits, the job stays HOLD. */
	assert_int_equal(util_exec(fx->db, "UPDATE jobs SET state = 'HOLD'"), 0);
	mock_clock_set(900000);
	assert_int_equal(settle_redraft(fx->db, 30000), 0);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM jobs WHERE "
	    "state = 'HOLD'"), 1);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_settles_per_study, util_fx_setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_zero_settle, util_fx_setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_late_instance_flags_redraft, util_fx_setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_redraft_requeues_finished_job, util_fx_setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_drafting_clears_flag, util_fx_setup, util_fx_teardown),
	};

	return cmocka_run_group_tests_name("settle", tests, NULL, NULL);
}
