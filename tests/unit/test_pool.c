/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pool - every task runs exactly once, on a valid thread index, for
 * pools of 1 to 4 threads, with workers both spinning and asleep; the
 * scratch buffer; argument checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "infer/pool.h"

#define MAXT 5000

struct count {
	atomic_int	hits[MAXT];
	atomic_int	bad_thread;
	atomic_int	per_thread[4];
	int		nthreads;
	int		sleep_us;
};

/* count_task - record who ran which task */
static void
count_task(void *arg, int64_t task, int thread)
{
	struct count *c = arg;

	if (task < 0 || task >= MAXT || thread < 0 || thread >= c->nthreads) {
		atomic_fetch_add(&c->bad_thread, 1);
		return;
	}
	atomic_fetch_add(&c->hits[task], 1);
	atomic_fetch_add(&c->per_thread[thread], 1);
	if (c->sleep_us > 0) {
		struct timespec ts = { 0, c->sleep_us * 1000L };

		nanosleep(&ts, NULL);
	}
}

/* run_check - one pool_run and the exactly-once check */
static void
run_check(struct pool *p, struct count *c, int64_t n)
{
	for (int i = 0; i < MAXT; i++)
		atomic_store(&c->hits[i], 0);
	pool_run(p, count_task, c, n);
	assert_int_equal(atomic_load(&c->bad_thread), 0);
	for (int64_t i = 0; i < MAXT; i++)
		assert_int_equal(atomic_load(&c->hits[i]), i < n ? 1 : 0);
}

/* exactly once, threads 1..4, many sizes, spinning workers */
static void
test_exactly_once(void **state)
{
	static struct count c;
	static const int64_t sizes[] = { 0, 1, 2, 3, 4, 5, 7, 64, 1000, MAXT };

	(void)state;
	for (int nt = 1; nt <= 4; nt++) {
		struct pool *p = pool_new(nt);

		assert_non_null(p);
		assert_int_equal(pool_threads(p), nt);
		memset(&c, 0, sizeof(c));
		c.nthreads = nt;
		for (int rep = 0; rep < 200; rep++)
			for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes);
			    k++)
				run_check(p, &c, sizes[k]);
		pool_free(p);
	}
}

/* workers that went to sleep wake up for the next run */
static void
test_sleeping_workers(void **state)
{
	static struct count c;
	struct timespec ts = { 0, 3 * 1000 * 1000 };

	(void)state;
	for (int nt = 2; nt <= 4; nt++) {
		struct pool *p = pool_new(nt);
		int used = 0;

		assert_non_null(p);
		memset(&c, 0, sizeof(c));
		c.nthreads = nt;
		for (int rep = 0; rep < 20; rep++) {
			pool_set_spin(p, rep & 1 ? 0 : 50);
			nanosleep(&ts, NULL);	/* past the spin: asleep */
			run_check(p, &c, 37);
		}
		/* with slow tasks the workers must take part */
		c.sleep_us = 500;
		for (int rep = 0; rep < 10; rep++)
			run_check(p, &c, 16);
		for (int t = 1; t < nt; t++)
			used += atomic_load(&c.per_thread[t]) > 0;
		assert_true(used >= 1);
		pool_free(p);
	}
}

/* scratch grows, keeps its size, is aligned */
static void
test_scratch(void **state)
{
	struct pool *p = pool_new(2);
	size_t sz = 1;
	void *s;

	(void)state;
	assert_non_null(p);
	assert_null(pool_scratch(p, &sz));
	assert_int_equal(sz, 0);
	assert_int_equal(pool_reserve(p, 1000), 0);
	s = pool_scratch(p, &sz);
	assert_non_null(s);
	assert_true(sz >= 1000);
	assert_int_equal((uintptr_t)s % 64, 0);
	assert_int_equal(pool_reserve(p, 10), 0);
	assert_ptr_equal(pool_scratch(p, NULL), s);
	memset(s, 0xab, sz);
	pool_free(p);
	pool_free(NULL);
}

/* bad thread counts are refused */
static void
test_bad_counts(void **state)
{
	(void)state;
	assert_null(pool_new(0));
	assert_null(pool_new(-3));
	assert_null(pool_new(257));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exactly_once),
		cmocka_unit_test(test_sleeping_workers),
		cmocka_unit_test(test_scratch),
		cmocka_unit_test(test_bad_counts),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
