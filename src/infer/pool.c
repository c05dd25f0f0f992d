/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pool - fixed worker threads for the inference kernels.  A run is published
 * by bumping a generation counter; workers spin on it for a short while and
 * then sleep on a condvar, and the driver signals only when someone sleeps.
 * Tasks come from an atomic counter; completion is an atomic count of
 * finished workers.  Only the driving thread calls pool_run.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "infer/pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax()	_mm_pause()
#else
#define cpu_relax()	do { } while (0)
#endif

#define POOL_MAX_THREADS 256

struct pool_worker {
	struct pool	*pool;
	int		 index;
	pthread_t	 tid;
};

struct pool {
	/* read by spinning workers: keep away from the task counter */
	alignas(64) atomic_uint gen;
	atomic_int	 stop;
	atomic_int	 sleepers;
	atomic_uint	 spin_us;
	/* the current run, written by the driver before gen is bumped */
	pool_fn		 fn;
	void		*arg;
	int64_t		 n_tasks;
	alignas(64) atomic_llong next;
	alignas(64) atomic_int done;
	alignas(64) pthread_mutex_t mtx;
	pthread_cond_t	 cv;
	int		 nthreads;
	int		 nstarted;
	struct pool_worker *w;
	void		*scratch;
	size_t		 scratch_size;
};

/* now_us - monotonic microseconds */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* run_tasks - claim and run tasks until none are left */
static void
run_tasks(struct pool *p, int thread)
{
	pool_fn fn = p->fn;
	void *arg = p->arg;
	int64_t n = p->n_tasks;
	int64_t t;

	while ((t = atomic_fetch_add_explicit(&p->next, 1,
	    memory_order_relaxed)) < n)
		fn(arg, t, thread);
}

/* wait_gen - spin, then sleep, until the generation moves past seen */
static unsigned
wait_gen(struct pool *p, unsigned seen)
{
	unsigned spin = atomic_load_explicit(&p->spin_us, memory_order_relaxed);
	uint64_t t0 = 0;
	unsigned g;

	for (unsigned i = 0; spin > 0; i++) {
		g = atomic_load_explicit(&p->gen, memory_order_acquire);
		if (g != seen)
			return g;
		cpu_relax();
		if ((i & 127) == 0) {
			uint64_t t = now_us();

			if (t0 == 0)
				t0 = t;
			else if (t - t0 >= spin)
				break;
		}
	}
	pthread_mutex_lock(&p->mtx);
	atomic_fetch_add(&p->sleepers, 1);
	while ((g = atomic_load(&p->gen)) == seen)
		pthread_cond_wait(&p->cv, &p->mtx);
	atomic_fetch_sub(&p->sleepers, 1);
	pthread_mutex_unlock(&p->mtx);
	return g;
}

/* worker - a pool thread's loop */
static void *
worker(void *a)
{
	struct pool_worker *w = a;
	struct pool *p = w->pool;
	unsigned seen = 0;

	for (;;) {
		seen = wait_gen(p, seen);
		if (atomic_load_explicit(&p->stop, memory_order_acquire))
			break;
		run_tasks(p, w->index);
		atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
	}
	return NULL;
}

/* publish - bump the generation and wake sleepers */
static void
publish(struct pool *p)
{
	atomic_fetch_add(&p->gen, 1);
	if (atomic_load(&p->sleepers) > 0) {
		pthread_mutex_lock(&p->mtx);
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mtx);
	}
}

/* pool_free - stop, join, free */
void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	if (p->nstarted > 0) {
		atomic_store(&p->stop, 1);
		publish(p);
		for (int i = 0; i < p->nstarted; i++)
			pthread_join(p->w[i].tid, NULL);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
	free(p->w);
	free(p->scratch);
	free(p);
}

/* pool_new - start nthreads - 1 workers */
struct pool *
pool_new(int nthreads)
{
	struct pool *p;
	sigset_t all, old;
	size_t sz = (sizeof(*p) + 63) & ~(size_t)63;

	if (nthreads < 1 || nthreads > POOL_MAX_THREADS)
		return NULL;
	if ((p = aligned_alloc(64, sz)) == NULL)
		return NULL;
	memset(p, 0, sz);
	atomic_init(&p->gen, 0);
	atomic_init(&p->stop, 0);
	atomic_init(&p->sleepers, 0);
	atomic_init(&p->spin_us, POOL_SPIN_US);
	atomic_init(&p->next, 0);
	atomic_init(&p->done, 0);
	p->nthreads = nthreads;
	if (pthread_mutex_init(&p->mtx, NULL) != 0) {
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mtx);
		free(p);
		return NULL;
	}
	if (nthreads == 1)
		return p;
	if ((p->w = calloc((size_t)nthreads - 1, sizeof(*p->w))) == NULL)
		goto fail;
	/* workers inherit a full mask: signals belong to main's sigwait */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < nthreads - 1; i++) {
		p->w[i].pool = p;
		p->w[i].index = i + 1;
		if (pthread_create(&p->w[i].tid, NULL, worker, &p->w[i]) != 0)
			break;
		p->nstarted++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nstarted != nthreads - 1)
		goto fail;
	return p;
fail:
	pool_free(p);
	return NULL;
}

/* pool_threads - thread count */
int
pool_threads(const struct pool *p)
{
	return p->nthreads;
}

/* pool_run - parallel for over n_tasks, caller included */
void
pool_run(struct pool *p, pool_fn fn, void *arg, int64_t n_tasks)
{
	int nw = p->nthreads - 1;
	uint64_t t0 = 0;

	if (n_tasks <= 0)
		return;
	if (nw == 0 || n_tasks == 1) {
		for (int64_t t = 0; t < n_tasks; t++)
			fn(arg, t, 0);
		return;
	}
	p->fn = fn;
	p->arg = arg;
	p->n_tasks = n_tasks;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	atomic_store_explicit(&p->done, 0, memory_order_relaxed);
	publish(p);
	run_tasks(p, 0);
	/* the workers are awake now; a long wait means one was preempted */
	for (unsigned i = 0; atomic_load_explicit(&p->done,
	    memory_order_acquire) != nw; i++) {
		cpu_relax();
		if ((i & 127) == 127) {
			if (t0 == 0)
				t0 = now_us();
			else if (now_us() - t0 > 200)
				sched_yield();
		}
	}
}

/* pool_set_spin - idle spin time */
unsigned
pool_set_spin(struct pool *p, unsigned usec)
{
	return atomic_exchange_explicit(&p->spin_us, usec,
	    memory_order_relaxed);
}

/* pool_reserve - grow the scratch buffer */
int
pool_reserve(struct pool *p, size_t bytes)
{
	void *b;

	if (bytes <= p->scratch_size)
		return 0;
	bytes = (bytes + 63) & ~(size_t)63;
	if ((b = aligned_alloc(64, bytes)) == NULL)
		return -1;
	free(p->scratch);
	p->scratch = b;
	p->scratch_size = bytes;
	return 0;
}

/* pool_scratch - borrowed scratch buffer */
void *
pool_scratch(struct pool *p, size_t *size)
{
	if (size != NULL)
		*size = p->scratch_size;
	return p->scratch;
}

/* pool_set_blas_threads - one thread count for OpenBLAS too */
void
pool_set_blas_threads(int n)
{
	openblas_set_num_threads(n);
}
