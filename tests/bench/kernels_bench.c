/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernels_bench - figures for issue 3's kernels, not a test: a STREAM-like
 * triad (the bandwidth limit), tensor_matvec GB/s per type on 4096x4096 and
 * 11008x4096 weights (rotating copies so nothing stays in cache), and
 * tensor_matmul GFLOP/s against raw cblas_sgemm on ViT-L and 7B prefill
 * shapes.  Usage: kernels_bench [-q] [THREADS...]   (default: 1 2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "infer/pool.h"
#include "infer/quant.h"
#include "infer/tensor.h"

#define COLD_BYTES	(320u << 20)	/* rotate copies past a 32 MiB L3 */

static uint64_t rng = 88172645463325252ull;

/* rnd - xorshift64 */
static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* uni - uniform in [-1, 1) */
static float
uni(void)
{
	return (float)rnd() / 2147483648.0f - 1.0f;
}

/* now - monotonic seconds */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* fill - plausible random contents for a weight of type t */
static void
fill(enum dtype t, unsigned char *w, size_t bytes)
{
	size_t i;

	switch (t) {
	case DTYPE_F32:
		for (i = 0; i + 4 <= bytes; i += 4) {
			float f = uni();

			memcpy(w + i, &f, 4);
		}
		break;
	case DTYPE_F16:
	case DTYPE_BF16:
		for (i = 0; i + 2 <= bytes; i += 2) {
			uint16_t h = t == DTYPE_F16 ? quant_f32_to_fp16(uni()) :
			    quant_f32_to_bf16(uni());

			memcpy(w + i, &h, 2);
		}
		break;
	default: {
		/* random quants; then sane fp16 scales at each block's start */
		size_t bs = quant_type_size(t);
		uint16_t d = quant_f32_to_fp16(0.01f);

		for (i = 0; i < bytes; i++)
			w[i] = (unsigned char)rnd();
		for (i = 0; i + bs <= bytes; i += bs) {
			memcpy(w + i, &d, 2);
			if (t == DTYPE_Q8_0)
				for (size_t j = 2; j < bs; j++)
					if (w[i + j] == 0x80)
						w[i + j] = 0x81;
			if (t == DTYPE_Q4_K)
				memcpy(w + i + 2, &d, 2);
		}
		break;
	}
	}
}

struct triad {
	float		*a, *b, *c;
	int64_t		 n, chunk;
};

/* triad_task - a = b + s c over one chunk */
static void
triad_task(void *arg, int64_t task, int thread)
{
	struct triad *t = arg;
	int64_t i0 = task * t->chunk, i1 = i0 + t->chunk;

	(void)thread;
	if (i1 > t->n)
		i1 = t->n;
	for (int64_t i = i0; i < i1; i++)
		t->a[i] = t->b[i] + 3.0f * t->c[i];
}

/* triad_gbs - best of 5 triads over 3 x 128 MiB, GB/s (10^9) */
static double
triad_gbs(struct pool *p)
{
	struct triad t;
	double best = 0;

	t.n = 32 << 20;
	t.a = aligned_alloc(64, (size_t)t.n * 4);
	t.b = aligned_alloc(64, (size_t)t.n * 4);
	t.c = aligned_alloc(64, (size_t)t.n * 4);
	if (!t.a || !t.b || !t.c) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	t.chunk = t.n / (16 * pool_threads(p));
	for (int64_t i = 0; i < t.n; i++) {
		t.a[i] = 0;
		t.b[i] = 1;
		t.c[i] = 2;
	}
	for (int r = 0; r < 6; r++) {
		double t0 = now(), gbs;

		pool_run(p, triad_task, &t, (t.n + t.chunk - 1) / t.chunk);
		gbs = 3.0 * 4.0 * (double)t.n / (now() - t0) / 1e9;
		if (r > 0 && gbs > best)
			best = gbs;
	}
	free(t.a);
	free(t.b);
	free(t.c);
	return best;
}

/* bench_matvec - GB/s of weight bytes streamed by tensor_matvec */
static double
bench_matvec(struct pool *p, enum dtype t, int64_t ne0, int64_t ne1,
    double *tok_ms)
{
	size_t bytes = quant_row_size(t, ne0) * (size_t)ne1;
	int ncopy = (int)((COLD_BYTES + bytes - 1) / bytes);
	unsigned char *w = malloc(bytes * (size_t)ncopy);
	float *x = malloc((size_t)ne0 * 4), *y = malloc((size_t)ne1 * 4);
	struct tensor W;
	double t0, dt, best = 1e30;
	int reps;

	if (!w || !x || !y) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	if (ncopy < 2)
		ncopy = 2;
	fill(t, w, bytes * (size_t)ncopy);
	for (int64_t i = 0; i < ne0; i++)
		x[i] = uni();
	tensor_view(&W, t, ne0, ne1, w);
	for (int c = 0; c < ncopy; c++) {	/* touch every page first */
		W.data = w + (size_t)c * bytes;
		tensor_matvec(&W, x, y, p);
	}
	/* best of 5 passes over all copies, each pass cold in cache */
	for (int pass = 0; pass < 5; pass++) {
		reps = 0;
		t0 = now();
		for (int c = 0; c < ncopy; c++, reps++) {
			W.data = w + (size_t)c * bytes;
			tensor_matvec(&W, x, y, p);
		}
		dt = (now() - t0) / reps;
		if (dt < best)
			best = dt;
	}
	*tok_ms = best * 1e3;
	free(w);
	free(x);
	free(y);
	return (double)bytes / best / 1e9;
}

/* bench_small - microseconds per tensor_matvec on a cache-resident weight */
static double
bench_small(struct pool *p, enum dtype t, int64_t ne0, int64_t ne1)
{
	size_t bytes = quant_row_size(t, ne0) * (size_t)ne1;
	unsigned char *w = malloc(bytes);
	float *x = malloc((size_t)ne0 * 4), *y = malloc((size_t)ne1 * 4);
	struct tensor W;
	double best = 1e30;

	if (!w || !x || !y) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	fill(t, w, bytes);
	for (int64_t i = 0; i < ne0; i++)
		x[i] = uni();
	tensor_view(&W, t, ne0, ne1, w);
	for (int pass = 0; pass < 5; pass++) {
		double t0 = now(), dt;

		for (int r = 0; r < 200; r++)
			tensor_matvec(&W, x, y, p);
		dt = (now() - t0) / 200;
		if (pass > 0 && dt < best)
			best = dt;
	}
	free(w);
	free(x);
	free(y);
	return best * 1e6;
}

/* gflops - 2 m n k / seconds */
static double
gflops(int64_t m, int64_t n, int64_t k, double s)
{
	return 2.0 * (double)m * (double)n * (double)k / s / 1e9;
}

/* bench_matmul - tensor_matmul GFLOP/s for X (m x k) W^T, W n x k */
static double
bench_matmul(struct pool *p, enum dtype t, int64_t m, int64_t n, int64_t k)
{
	size_t bytes = quant_row_size(t, k) * (size_t)n;
	unsigned char *w = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	float *X = malloc((size_t)(m * k) * 4), *Y = malloc((size_t)(m * n) * 4);
	float *scr = NULL;
	struct tensor W;
	double best = 1e30;

	if (!w || !X || !Y) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	fill(t, w, bytes);
	for (int64_t i = 0; i < m * k; i++)
		X[i] = uni();
	tensor_view(&W, t, k, n, w);
	if (tensor_matmul_scratch_size(&W))
		scr = aligned_alloc(64, tensor_matmul_scratch_size(&W));
	for (int r = 0; r < 4; r++) {
		double t0 = now();

		tensor_matmul(&W, X, m, Y, scr, p);
		if (r > 0 && now() - t0 < best)
			best = now() - t0;
	}
	free(w);
	free(X);
	free(Y);
	free(scr);
	return gflops(m, n, k, best);
}

/* bench_sgemm - raw cblas_sgemm on the same shape, F32 */
static double
bench_sgemm(int64_t m, int64_t n, int64_t k)
{
	float *W = malloc((size_t)(n * k) * 4), *X = malloc((size_t)(m * k) * 4);
	float *Y = malloc((size_t)(m * n) * 4);
	double best = 1e30;

	if (!W || !X || !Y) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	fill(DTYPE_F32, (unsigned char *)W, (size_t)(n * k) * 4);
	fill(DTYPE_F32, (unsigned char *)X, (size_t)(m * k) * 4);
	for (int r = 0; r < 4; r++) {
		double t0 = now();

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m,
		    (int)n, (int)k, 1.0f, X, (int)k, W, (int)k, 0.0f, Y, (int)n);
		if (r > 0 && now() - t0 < best)
			best = now() - t0;
	}
	free(W);
	free(X);
	free(Y);
	return gflops(m, n, k, best);
}

int
main(int argc, char **argv)
{
	static const enum dtype types[] = { DTYPE_F32, DTYPE_F16, DTYPE_BF16,
	    DTYPE_Q8_0, DTYPE_Q4_0, DTYPE_Q4_K };
	static const int64_t mv[][2] = { { 4096, 4096 }, { 4096, 11008 } };
	static const int64_t mm[][4] = {	/* m, n (out), k (in), label */
		{ 577, 1024, 1024, 0 }, { 577, 4096, 1024, 0 },
		{ 577, 1024, 4096, 0 }, { 128, 4096, 4096, 1 },
		{ 128, 11008, 4096, 1 },
	};
	static const enum dtype mmt[] = { DTYPE_F32, DTYPE_F16, DTYPE_Q8_0,
	    DTYPE_Q4_0, DTYPE_Q4_K };
	int threads[8], nthr = 0, quick = 0;
	const char *ct = getenv("OPENBLAS_CORETYPE");

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0)
			quick = 1;
		else if (nthr < 8 && atoi(argv[i]) > 0)
			threads[nthr++] = atoi(argv[i]);
	}
	if (nthr == 0) {
		threads[nthr++] = 1;
		threads[nthr++] = 2;
	}
	printf("kernels_bench: nproc %ld, kernels %s, OpenBLAS core %s "
	    "(OPENBLAS_CORETYPE=%s)\n", sysconf(_SC_NPROCESSORS_ONLN),
	    tensor_isa_name(tensor_get_isa()), openblas_get_corename(),
	    ct ? ct : "unset");
	for (int ti = 0; ti < nthr; ti++) {
		int nt = threads[ti];
		struct pool *p = pool_new(nt);
		double tri;

		if (p == NULL || pool_reserve(p,
		    tensor_matvec_scratch_size(DTYPE_Q8_0, 11008)) != 0) {
			fprintf(stderr, "pool_new(%d) failed\n", nt);
			return 1;
		}
		pool_set_blas_threads(nt);
		tri = triad_gbs(p);
		printf("\n== %d thread%s: triad %.1f GB/s\n", nt,
		    nt > 1 ? "s" : "", tri);
		printf("matvec (rows x cols)   type   GB/s  %%triad   ms/call\n");
		for (size_t s = 0; s < sizeof(mv) / sizeof(*mv); s++) {
			for (size_t k = 0; k < sizeof(types) / sizeof(*types);
			    k++) {
				double ms, g = bench_matvec(p, types[k], mv[s][0],
				    mv[s][1], &ms);

				printf("  %5lld x %-5lld       %-5s %6.1f %6.0f%% "
				    "%9.3f\n", (long long)mv[s][1],
				    (long long)mv[s][0], quant_type_name(types[k]),
				    g, 100.0 * g / tri, ms);
				fflush(stdout);
			}
		}
		if (nt == 1 && tensor_get_isa() == TENSOR_ISA_AVX2) {
			/* the portable path, for scale */
			tensor_set_isa(TENSOR_ISA_PORTABLE);
			for (size_t k = 0; k < sizeof(types) / sizeof(*types);
			    k++) {
				double ms, g = bench_matvec(p, types[k], 4096,
				    4096, &ms);

				printf("  4096 x 4096 portable %-5s %6.1f %6.0f%% "
				    "%9.3f\n", quant_type_name(types[k]), g,
				    100.0 * g / tri, ms);
			}
			tensor_set_isa(TENSOR_ISA_AVX2);
		}
		printf("small matvec (33M-model shapes, in cache), us/call:\n");
		for (size_t k = 0; k < 4; k++) {
			printf("  %-5s", quant_type_name(types[k]));
			printf(" 512x512 %6.1f", bench_small(p, types[k], 512, 512));
			printf("  1376x512 %6.1f", bench_small(p, types[k], 512,
			    1376));
			printf("  8000x512 %6.1f\n", bench_small(p, types[k], 512,
			    8000));
		}
		if (quick) {
			pool_free(p);
			continue;
		}
		printf("matmul m x n x k      sgemm GFLOP/s | tensor_matmul "
		    "GFLOP/s (ratio to sgemm)\n");
		for (size_t s = 0; s < sizeof(mm) / sizeof(*mm); s++) {
			double raw = bench_sgemm(mm[s][0], mm[s][1], mm[s][2]);

			printf("  %s %4lld x %5lld x %4lld %7.1f |",
			    mm[s][3] ? "7B " : "ViT", (long long)mm[s][0],
			    (long long)mm[s][1], (long long)mm[s][2], raw);
			for (size_t k = 0; k < sizeof(mmt) / sizeof(*mmt); k++) {
				double g = bench_matmul(p, mmt[k], mm[s][0],
				    mm[s][1], mm[s][2]);

				printf(" %s %.1f (%.2f)", quant_type_name(mmt[k]),
				    g, g / raw);
				fflush(stdout);
			}
			printf("\n");
		}
		pool_free(p);
	}
	return 0;
}
