/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_tensor - tensor_matvec on every type, portable and AVX2 paths, 1 to 3
 * threads, odd shapes, against tensor_matvec_ref; the activation quantiser
 * bit-identical on both paths; tensor_matmul (sgemm and matvec routes)
 * against the reference; every traits-table row's dot and dequantise
 * kernels of each family called directly.  Weights are random (seeded) raw
 * blocks, so every bit pattern of scales and quants is exercised without
 * our quantisers.
 *
 * Tolerances (u = 2^-24, S = sum |w_i x_i| over the row, in double):
 * - float types: each kernel sums a row in at most 32 interleaved float
 *   chains plus a reduction, so its error is below (ne0/8 + 16) u S
 *   (first-order bound for recursive summation of ne0/8 terms per chain).
 * - integer types, against the reference on the quantised activations x^:
 *   the per-block integer sums are exact; each block adds at most 4
 *   roundings, and the Q4_0/Q4_K offsets (8 d, dmin m) add terms of that
 *   size, so we allow 4 (nb + 16) u B with B = sum |x^_i| (|w_i| + off_i).
 * - integer types, against the reference on x itself: the above plus the
 *   activation error, |x_i - x^_i| <= d_b/2 (1 + 2^-10) + 127 |d_b - fp16(d_b)|
 *   with d_b = amax(block)/127 (half a step, and the step's fp16 rounding).
 * - sgemm (tensor_matmul, n >= 4): OpenBLAS's order is unknown, so the
 *   recursive-summation bound (ne0 + 16) u S on the dequantised weights.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "infer/pool.h"
#include "infer/quant.h"
#include "infer/tensor.h"

#define U	(1.0 / 16777216.0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* rnd - xorshift64*, 32 bits */
static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* uni - uniform in [-1, 1) */
static float
uni(void)
{
	return (float)((double)rnd() / 2147483648.0 - 1.0);
}

/* make_w - random weights of a type: raw blocks for the quantised ones */
static void *
make_w(enum dtype t, int64_t ne0, int64_t ne1)
{
	size_t rb = quant_row_size(t, ne0);
	unsigned char *buf = malloc(rb * (size_t)ne1 + 4);
	unsigned char *w = buf + 4;	/* aligned to 4, not to 32 */
	int64_t nel = ne0 * ne1;

	assert_non_null(buf);
	switch (t) {
	case DTYPE_F32:
		for (int64_t i = 0; i < nel; i++) {
			float f = uni();

			memcpy(w + 4 * i, &f, 4);
		}
		break;
	case DTYPE_F16:
	case DTYPE_BF16:
		for (int64_t i = 0; i < nel; i++) {
			uint16_t h = t == DTYPE_F16 ? quant_f32_to_fp16(uni()) :
			    quant_f32_to_bf16(uni());

			memcpy(w + 2 * i, &h, 2);
		}
		break;
	case DTYPE_Q8_0:
		for (int64_t b = 0; b < nel / 32; b++) {
			struct dtype_block_q8_0 q;

			q.d = quant_f32_to_fp16(0.001f + 0.02f * fabsf(uni()));
			for (int j = 0; j < 32; j++)	/* GGML never stores -128 */
				q.qs[j] = (int8_t)((int)(rnd() % 255) - 127);
			memcpy(w + 34 * b, &q, 34);
		}
		break;
	case DTYPE_Q4_0:
		for (int64_t b = 0; b < nel / 32; b++) {
			struct dtype_block_q4_0 q;

			q.d = quant_f32_to_fp16(0.01f * uni());
			for (int j = 0; j < 16; j++)
				q.qs[j] = (uint8_t)rnd();
			memcpy(w + 18 * b, &q, 18);
		}
		break;
	case DTYPE_Q4_K:
		for (int64_t b = 0; b < nel / 256; b++) {
			struct dtype_block_q4_k q;

			q.d = quant_f32_to_fp16(0.001f * fabsf(uni()));
			q.dmin = quant_f32_to_fp16(0.002f * fabsf(uni()));
			for (int j = 0; j < 12; j++)
				q.scales[j] = (uint8_t)rnd();
			for (int j = 0; j < 128; j++)
				q.qs[j] = (uint8_t)rnd();
			memcpy(w + 144 * b, &q, 144);
		}
		break;
	default:
		fail_msg("make_w: no generator for %s", quant_type_name(t));
	}
	return buf;
}

/* is_int - types with Q8_0 activations */
static int
is_int(enum dtype t)
{
	return dtype_traits(t)->q8_act;
}

/* offset_of - |the block offset| added to |w_i| in the bound B */
static double
offset_of(enum dtype t, const void *row, int64_t i)
{
	if (t == DTYPE_Q4_0) {
		const struct dtype_block_q4_0 *b = row;

		return 8.0 * fabs(quant_fp16_to_f32(b[i / 32].d));
	}
	if (t == DTYPE_Q4_K) {
		const struct dtype_block_q4_k *b = row;

		/* dmin * m <= dmin * 63 */
		return 63.0 * quant_fp16_to_f32(b[i / 256].dmin);
	}
	return 0.0;
}

/* act_err - the bound on |x_i - x^_i| for x's block of 32 */
static double
act_err(const float *x, int64_t i)
{
	int64_t b0 = i / 32 * 32;
	float amax = 0.0f, d;

	for (int j = 0; j < 32; j++)
		amax = fmaxf(amax, fabsf(x[b0 + j]));
	d = amax / 127.0f;
	return 0.5 * d * (1.0 + 1.0 / 1024) +
	    127.0 * fabs((double)quant_fp16_to_f32(quant_f32_to_fp16(d)) - d);
}

/*
 * check_rows - y (rows of W times x) against the reference, with the bound
 * for the route taken: sgemm != 0 for the sgemm route.
 */
static void
check_rows(const struct tensor *W, const float *x, const float *y, int sgemm,
    const char *what)
{
	int64_t n = W->ne0;
	float *wf = malloc((size_t)n * sizeof(float));
	float *xh = malloc((size_t)n * sizeof(float));
	float *ref = malloc((size_t)W->ne1 * sizeof(float));
	float *refh = malloc((size_t)W->ne1 * sizeof(float));
	void *act = malloc(quant_q8_act_size(n) + 64);
	int q = is_int(W->type) && !sgemm;

	assert_true(wf && xh && ref && refh && act);
	tensor_matvec_ref(W, x, ref);
	if (q) {
		quant_q8_act(x, act, n);
		quant_dequantize_row(DTYPE_Q8_0, (float *)act + 2 * (n / 32),
		    xh, n);
		tensor_matvec_ref(W, xh, refh);
	}
	for (int64_t r = 0; r < W->ne1; r++) {
		const char *row = (const char *)W->data +
		    (size_t)r * W->row_bytes;
		double s = 0, b = 0, ea = 0, tol;

		quant_dequantize_row(W->type, row, wf, n);
		for (int64_t i = 0; i < n; i++) {
			s += fabs((double)wf[i] * x[i]);
			if (q) {
				b += fabs((double)xh[i]) * (fabs(wf[i]) +
				    offset_of(W->type, row, i));
				ea += fabs((double)wf[i]) * act_err(x, i);
			}
		}
		if (!q) {
			tol = (double)((sgemm ? n : n / 8) + 16) * U * s +
			    1e-30;
			if (fabs((double)y[r] - ref[r]) > tol)
				fail_msg("%s %s ne0=%lld row %lld: %.9g vs %.9g "
				    "(tol %.3g)", what, quant_type_name(W->type),
				    (long long)n, (long long)r, y[r], ref[r], tol);
			continue;
		}
		tol = 4.0 * (double)(n / 32 + 16) * U * b + 1e-30;
		if (fabs((double)y[r] - refh[r]) > tol)
			fail_msg("%s %s ne0=%lld row %lld: %.9g vs x^ ref %.9g "
			    "(tol %.3g)", what, quant_type_name(W->type),
			    (long long)n, (long long)r, y[r], refh[r], tol);
		if (fabs((double)y[r] - ref[r]) > tol + ea)
			fail_msg("%s %s row %lld: %.9g vs x ref %.9g (tol %.3g)",
			    what, quant_type_name(W->type), (long long)r, y[r],
			    ref[r], tol + ea);
	}
	free(wf);
	free(xh);
	free(ref);
	free(refh);
	free(act);
}

static const enum dtype all_types[] = {
	DTYPE_F32, DTYPE_F16, DTYPE_BF16, DTYPE_Q8_0, DTYPE_Q4_0, DTYPE_Q4_K
};

/* isas - the families to test on this CPU */
static int
isas(enum tensor_isa out[2])
{
	int n = 0;

	out[n++] = TENSOR_ISA_PORTABLE;
	if (tensor_isa_best() == TENSOR_ISA_AVX2)
		out[n++] = TENSOR_ISA_AVX2;
	else
		print_message("# AVX2 path not available on this CPU: "
		    "portable only\n");
	return n;
}

/* rand_x - activations with a spread of block magnitudes */
static float *
rand_x(int64_t n)
{
	float *x = malloc((size_t)n * sizeof(float));

	assert_non_null(x);
	for (int64_t i = 0; i < n; i++)
		x[i] = uni() * (float)(1 + (i / 32) % 5);
	return x;
}

/* matvec: every type, both paths, 1..3 threads, odd shapes */
static void
test_matvec(void **state)
{
	static const int64_t shapes[][2] = {
		{ 256, 1 }, { 256, 7 }, { 512, 33 }, { 768, 65 },
		{ 4096, 13 }, { 1024, 131 }, { 37, 5 }, { 100, 9 }, { 8, 3 },
	};
	enum tensor_isa is[2];
	int nisa = isas(is);

	(void)state;
	for (int nt = 1; nt <= 3; nt++) {
		struct pool *p = pool_new(nt);

		assert_non_null(p);
		assert_int_equal(pool_reserve(p,
		    tensor_matvec_scratch_size(DTYPE_Q8_0, 4096)), 0);
		for (size_t k = 0; k < sizeof(all_types) / sizeof(*all_types);
		    k++) {
			enum dtype t = all_types[k];

			for (size_t s = 0; s < sizeof(shapes) / sizeof(*shapes);
			    s++) {
				int64_t ne0 = shapes[s][0], ne1 = shapes[s][1];
				struct tensor W;
				unsigned char *buf;
				float *x, *y;

				if (quant_row_size(t, ne0) == 0)
					continue;
				buf = make_w(t, ne0, ne1);
				assert_int_equal(tensor_view(&W, t, ne0, ne1,
				    buf + 4), 0);
				x = rand_x(ne0);
				y = malloc((size_t)ne1 * sizeof(float));
				for (int a = 0; a < nisa; a++) {
					char what[64];

					assert_int_equal(tensor_set_isa(is[a]), 0);
					snprintf(what, sizeof(what),
					    "matvec %s %dt", tensor_isa_name(is[a]),
					    nt);
					for (int64_t r = 0; r < ne1; r++)
						y[r] = NAN;
					tensor_matvec(&W, x, y, p);
					check_rows(&W, x, y, 0, what);
				}
				free(buf);
				free(x);
				free(y);
			}
		}
		pool_free(p);
	}
}

/* the AVX2 activation quantiser equals the portable one bit for bit */
static void
test_act_identical(void **state)
{
	enum { N = 32 * 40 };
	static float x[N];
	static unsigned char a0[N / 32 * 42], a1[N / 32 * 42];

	(void)state;
	if (tensor_isa_best() != TENSOR_ISA_AVX2)
		skip();
	for (int i = 0; i < N; i++)
		x[i] = uni() * (float)(1 + i % 7);
	for (int j = 0; j < 32; j++) {
		x[j] = 0.0f;				/* d = 0 */
		x[32 + j] = (float)(j - 16) + 0.5f;	/* ties: d = 1 */
		x[64 + j] = -(float)(j - 16) - 0.5f;
	}
	x[32 + 31] = 127.0f;
	x[64 + 31] = -127.0f;
	x[96] = -1e-30f;				/* tiny block */
	for (int j = 1; j < 32; j++)
		x[96 + j] = 1e-31f * (float)j;
	assert_int_equal(tensor_set_isa(TENSOR_ISA_PORTABLE), 0);
	tensor_quantize_act(x, a0, N);
	assert_int_equal(tensor_set_isa(TENSOR_ISA_AVX2), 0);
	tensor_quantize_act(x, a1, N);
	assert_memory_equal(a0, a1, sizeof(a0));
	quant_q8_act(x, a1, N);
	assert_memory_equal(a0, a1, sizeof(a0));
}

/* matmul: the sgemm route (several blocks) and the matvec route */
static void
test_matmul(void **state)
{
	static const int64_t shapes[][2] = {
		{ 256, 9 }, { 4096, 300 }, { 1024, 2100 }, { 40, 6 },
	};
	static const int64_t ns[] = { 1, 2, 5, 17 };
	enum tensor_isa is[2];
	int nisa = isas(is);
	struct pool *p = pool_new(2);

	(void)state;
	assert_non_null(p);
	assert_int_equal(pool_reserve(p,
	    tensor_matvec_scratch_size(DTYPE_Q8_0, 4096)), 0);
	pool_set_blas_threads(2);
	for (size_t k = 0; k < sizeof(all_types) / sizeof(*all_types); k++) {
		enum dtype t = all_types[k];

		for (size_t s = 0; s < sizeof(shapes) / sizeof(*shapes); s++) {
			int64_t ne0 = shapes[s][0], ne1 = shapes[s][1];
			struct tensor W, R;
			unsigned char *buf;
			float *X, *Y, *scr;

			if (quant_row_size(t, ne0) == 0)
				continue;
			buf = make_w(t, ne0, ne1);
			assert_int_equal(tensor_view(&W, t, ne0, ne1, buf + 4),
			    0);
			X = rand_x(17 * ne0);
			Y = malloc((size_t)(17 * ne1) * sizeof(float));
			scr = tensor_matmul_scratch_size(&W) ?
			    malloc(tensor_matmul_scratch_size(&W)) : NULL;
			if (t != DTYPE_F32)
				assert_true(tensor_matmul_scratch_size(&W) <=
				    (size_t)ne0 * 4 * (size_t)ne1);
			for (int a = 0; a < nisa; a++) {
				assert_int_equal(tensor_set_isa(is[a]), 0);
				for (size_t m = 0; m < sizeof(ns) / sizeof(*ns);
				    m++) {
					int64_t n = ns[m];
					char what[64];
					int sg = n > 1 && (t == DTYPE_F32 || n >= 4);

					snprintf(what, sizeof(what),
					    "matmul %s n=%lld",
					    tensor_isa_name(is[a]), (long long)n);
					tensor_matmul(&W, X, n, Y, scr, p);
					for (int64_t i = 0; i < n; i++) {
						R = W;
						check_rows(&R, X + i * ne0,
						    Y + i * ne1, sg, what);
					}
				}
			}
			free(buf);
			free(X);
			free(Y);
			free(scr);
		}
	}
	pool_free(p);
}

/*
 * check_kernels - row tr's kernels of family isa on a random row w of n
 * elements: dot against dequantise-then-float-dot (to_float, in double;
 * x quantised first for a q8_act type) with check_rows's bounds, and deq
 * bit-identical to to_float.
 */
static void
check_kernels(const struct dtype_traits *tr, enum dtype t,
    enum tensor_isa isa, const unsigned char *w, int64_t n)
{
	float *x = rand_x(n), *xh = malloc((size_t)n * sizeof(float));
	float *wf = malloc((size_t)n * sizeof(float));
	float *wd = malloc((size_t)n * sizeof(float));
	void *act = malloc(quant_q8_act_size(n) + 64);
	const char *in = tensor_isa_name(isa);
	double ref = 0, s = 0, b = 0, tol;
	float got;

	assert_true(xh && wf && wd && act);
	tr->to_float(w, wf, n);
	memcpy(xh, x, (size_t)n * sizeof(float));
	if (tr->q8_act) {
		quant_q8_act(x, act, n);
		quant_dequantize_row(DTYPE_Q8_0, (float *)act + 2 * (n / 32),
		    xh, n);
	}
	if (tr->dot[isa] != NULL) {
		got = tr->dot[isa](w, tr->q8_act ? act : (void *)x, n);
		for (int64_t i = 0; i < n; i++) {
			ref += (double)wf[i] * xh[i];
			s += fabs((double)wf[i] * xh[i]);
			b += fabs((double)xh[i]) * (fabs(wf[i]) +
			    offset_of(t, w, i));
		}
		tol = tr->q8_act ? 4.0 * (double)(n / 32 + 16) * U * b :
		    (double)(n / 8 + 16) * U * s;
		if (fabs(got - ref) > tol + 1e-30)
			fail_msg("dot %s %s n=%lld: %.9g vs %.9g (tol %.3g)",
			    tr->name, in, (long long)n, got, ref, tol);
	} else
		print_message("# %s: no %s dot kernel (portable runs)\n",
		    tr->name, in);
	if (tr->deq[isa] != NULL) {
		memset(wd, 0xa5, (size_t)n * sizeof(float));
		tr->deq[isa](w, wd, n);
		if (memcmp(wd, wf, (size_t)n * sizeof(float)) != 0)
			fail_msg("deq %s %s n=%lld differs from to_float",
			    tr->name, in, (long long)n);
	}
	free(x);
	free(xh);
	free(wf);
	free(wd);
	free(act);
}

/* the traits table's kernels, called straight from each row, each family */
static void
test_traits_kernels(void **state)
{
	static const int64_t lens[] = { 8, 37, 256, 768, 4096 };
	enum tensor_isa is[2];
	int nisa = isas(is), nrows = 0;

	(void)state;
	for (int id = 0; id < DTYPE_N_GGML; id++) {
		const struct dtype_traits *tr = dtype_traits((enum dtype)id);

		if (tr == NULL)
			continue;
		nrows++;
		for (size_t l = 0; l < sizeof(lens) / sizeof(*lens); l++) {
			unsigned char *buf;

			if (quant_row_size((enum dtype)id, lens[l]) == 0)
				continue;
			buf = make_w((enum dtype)id, lens[l], 1);
			for (int a = 0; a < nisa; a++)
				check_kernels(tr, (enum dtype)id, is[a], buf + 4,
				    lens[l]);
			free(buf);
		}
	}
	assert_true(nrows >= 6);	/* today's types at least */
}

/* RADSCRIBE_KERNELS=portable forces the portable path (read once) */
static void
test_env(void **state)
{
	(void)state;
	assert_int_equal(setenv("RADSCRIBE_KERNELS", "portable", 1), 0);
	assert_int_equal(tensor_get_isa(), TENSOR_ISA_PORTABLE);
	assert_string_equal(tensor_isa_name(tensor_get_isa()), "portable");
	unsetenv("RADSCRIBE_KERNELS");
}

/* views: refusals and strides */
static void
test_view(void **state)
{
	struct tensor W;
	static const char data[64];

	(void)state;
	assert_int_equal(tensor_view(&W, DTYPE_Q8_0, 100, 2, data), -1);
	assert_int_equal(tensor_view(&W, DTYPE_Q4_K, 128, 2, data), -1);
	assert_int_equal(tensor_view(&W, DTYPE_F16, 8, 0, data), -1);
	assert_int_equal(tensor_view(&W, (enum dtype)5, 8, 1, data), -1);
	assert_int_equal(tensor_view(&W, DTYPE_Q4_0, 64, 3, data), 0);
	assert_int_equal(W.row_bytes, 36);
	assert_int_equal(tensor_matvec_scratch_size(DTYPE_F16, 4096), 0);
	assert_int_equal(tensor_matvec_scratch_size(DTYPE_Q4_K, 4096),
	    quant_q8_act_size(4096));
	assert_int_equal(tensor_set_isa((enum tensor_isa)7), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),	/* first: before any isa use */
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_act_identical),
		cmocka_unit_test(test_matvec),
		cmocka_unit_test(test_matmul),
		cmocka_unit_test(test_traits_kernels),
	};

	return cmocka_run_group_tests_name("tensor", tests, NULL, NULL);
}
