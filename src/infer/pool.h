/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pool - the inference engine's only threads: a fixed set of workers that
 * run a parallel-for with the calling thread taking part.  Built for batch-1
 * decoding, which calls pool_run a few thousand times a second: workers spin
 * briefly after each run, then sleep on a condition variable, so an idle pool
 * costs no CPU.  Workers block all signals.  A pool also owns one scratch
 * buffer (pool_reserve) that the tensor kernels use, sized at load time.
 */
#ifndef RS_POOL_H
#define RS_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

/*
 * pool_fn - one task of a parallel-for: task is 0 .. n_tasks - 1, thread is
 * the index (0 .. pool_threads() - 1) of the thread running it, 0 being the
 * caller of pool_run.  Tasks run concurrently in any order; a task must not
 * call pool_run on the same pool.
 */
typedef void (*pool_fn)(void *arg, int64_t task, int thread);

/*
 * pool_new - a pool of nthreads threads in all: the caller of pool_run plus
 * nthreads - 1 workers, started here (nthreads 1 starts none).  nthreads
 * must be 1 .. 256.  Returns NULL on a bad count or when memory or threads
 * run out.  Free with pool_free.
 */
struct pool *pool_new(int nthreads);

/* pool_free - stop and join the workers and free the pool; NULL is a no-op. */
void	pool_free(struct pool *p);

/* pool_threads - the thread count given to pool_new. */
int	pool_threads(const struct pool *p);

/*
 * pool_run - call fn(arg, t, thread) exactly once for each t in
 * 0 .. n_tasks - 1, spread over the pool's threads, and return when all have
 * returned (every write a task made is then visible to the caller).  Tasks
 * are handed out one at a time from a shared counter, so uneven tasks
 * balance.  n_tasks <= 0 does nothing.  Not reentrant and not for concurrent
 * callers: one thread drives a pool at a time.  No allocation.
 */
void	pool_run(struct pool *p, pool_fn fn, void *arg, int64_t n_tasks);

/*
 * pool_set_spin - how long (microseconds, default POOL_SPIN_US) an idle
 * worker spins waiting for the next pool_run before it sleeps.  Longer cuts
 * wake-up latency between closely spaced runs; 0 makes workers sleep at once
 * (use it around long OpenBLAS calls so spinners do not steal its cores).
 * Call between runs, from the driving thread.  Returns the previous value.
 */
unsigned pool_set_spin(struct pool *p, unsigned usec);

#define POOL_SPIN_US	100

/*
 * pool_reserve - make the pool's scratch buffer at least bytes long (64-byte
 * aligned; contents not kept).  Call at load time with the largest size any
 * kernel will need (tensor_matvec_scratch_size); never from inside a run.
 * Returns 0, or -1 when out of memory (the old buffer is kept).
 */
int	pool_reserve(struct pool *p, size_t bytes);

/*
 * pool_scratch - the scratch buffer and, in *size (OUT, may be NULL), its
 * length.  Borrowed: valid until the next pool_reserve or pool_free.  The
 * tensor kernels overwrite it on every call.
 */
void   *pool_scratch(struct pool *p, size_t *size);

/*
 * pool_set_blas_threads - openblas_set_num_threads(n): give OpenBLAS the same
 * thread count as the pool (one count from the config governs both).
 * Process-wide; call once at start-up, before any sgemm.
 */
void	pool_set_blas_threads(int n);

#endif
