/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_quant - fp16/bf16 conversions over every bit pattern against
 * straightforward references, row sizes, dequantisation of hand-built GGML
 * blocks (layout checked independently of our own quantisers), and known
 * answers for the Q8_0 and Q4_0 reference quantisers; the traits table
 * against GGUF's type definitions, and each row's round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "infer/quant.h"

/* bits of a float */
static uint32_t
f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

/* float from bits */
static float
u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* ref_h2f - binary16 value by its definition, in double */
static double
ref_h2f(uint16_t h)
{
	int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
	double v;

	if (e == 31)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(1024 + m, e - 25);
	return s ? -v : v;
}

/* every fp16 pattern converts to the value its definition gives */
static void
test_fp16_to_f32_exhaustive(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = quant_fp16_to_f32((uint16_t)h);
		double r = ref_h2f((uint16_t)h);

		if (isnan(r)) {
			assert_true(isnan(f));
			/* payload and sign kept */
			assert_int_equal(f2u(f), ((h & 0x8000) << 16) |
			    0x7f800000 | ((h & 0x3ff) << 13));
			continue;
		}
		assert_true((double)f == r);
		assert_int_equal(signbit(f) != 0, (h & 0x8000) != 0);
	}
}

/* the positive finite fp16 values in order, as doubles */
static double hpos[0x7c00];

/* ref_f2h - nearest fp16 (ties to even) by search; for |f| < 65520 */
static uint16_t
ref_f2h(float f)
{
	double a = fabs((double)f);
	uint16_t s = signbit(f) ? 0x8000 : 0;
	int lo = 0, hi = 0x7bff;

	if (a >= 65520.0)
		return s | 0x7c00;
	while (lo < hi) {			/* last index with hpos <= a */
		int mid = (lo + hi + 1) / 2;

		if (hpos[mid] <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (lo == 0x7bff || a - hpos[lo] < hpos[lo + 1] - a)
		return s | (uint16_t)lo;
	if (a - hpos[lo] > hpos[lo + 1] - a)
		return s | (uint16_t)(lo + 1);
	return s | (uint16_t)((lo & 1) ? lo + 1 : lo);
}

/* float to fp16: round trips, every midpoint, neighbours, random values */
static void
test_f32_to_fp16(void **state)
{
	static const uint32_t base[4] = { 0x30000000u, 0x38000000u,
	    0x40000000u, 0x40000000u };
	uint32_t seed = 12345;

	(void)state;
	for (int i = 0; i < 0x7c00; i++)
		hpos[i] = ref_h2f((uint16_t)i);
	for (uint32_t h = 0; h < 65536; h++) {
		float f = quant_fp16_to_f32((uint16_t)h);

		if (isnan(f)) {
			uint16_t r = quant_f32_to_fp16(f);

			assert_true((r & 0x7c00) == 0x7c00 && (r & 0x3ff) != 0);
			continue;
		}
		assert_int_equal(quant_f32_to_fp16(f), h);
	}
	/* midpoints (exact in float) and their float neighbours, both signs */
	for (int i = 0; i < 0x7bff + 1; i++) {
		double hi = i < 0x7bff ? hpos[i + 1] : 65536.0;
		float mid = (float)((hpos[i] + hi) / 2);

		assert_true((double)mid == (hpos[i] + hi) / 2);
		for (int sgn = 0; sgn < 2; sgn++) {
			float m = sgn ? -mid : mid;
			float a = nextafterf(m, -INFINITY);
			float b = nextafterf(m, INFINITY);

			assert_int_equal(quant_f32_to_fp16(m), ref_f2h(m));
			assert_int_equal(quant_f32_to_fp16(a), ref_f2h(a));
			assert_int_equal(quant_f32_to_fp16(b), ref_f2h(b));
		}
	}
	assert_int_equal(quant_f32_to_fp16(65520.0f), 0x7c00);
	assert_int_equal(quant_f32_to_fp16(nextafterf(65520.0f, 0)), 0x7bff);
	assert_int_equal(quant_f32_to_fp16(0x1p-25f), 0x0000);
	assert_int_equal(quant_f32_to_fp16(nextafterf(0x1p-25f, 1)), 0x0001);
	assert_int_equal(quant_f32_to_fp16(-0.0f), 0x8000);
	assert_int_equal(quant_f32_to_fp16(INFINITY), 0x7c00);
	assert_int_equal(quant_f32_to_fp16(-1e30f), 0xfc00);
	/* random float patterns in and around the fp16 range */
	for (int i = 0; i < 300000; i++) {
		float f;

		seed = seed * 1664525u + 1013904223u;
		/* exponents 2^-31 .. 2^16: subnormal, normal, overflow */
		f = u2f((seed & 0x87ffffffu) | base[(seed >> 27) & 3]);
		if (isnan(f))
			continue;
		assert_int_equal(quant_f32_to_fp16(f), ref_f2h(f));
	}
}

/* bf16: widening is a shift; narrowing rounds to nearest even (GGML) */
static void
test_bf16(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = quant_bf16_to_f32((uint16_t)h);
		uint32_t e = (h >> 7) & 0xff, m = h & 0x7f;
		double r = e == 0xff ? (m ? NAN : INFINITY) :
		    e == 0 ? ldexp(m, -133) : ldexp(128 + m, (int)e - 134);

		if (h & 0x8000)
			r = -r;
		if (isnan(r)) {
			assert_true(isnan(f));
			/* NaN stays NaN, quiet */
			assert_int_equal(quant_f32_to_bf16(f), h | 64);
			continue;
		}
		assert_true((double)f == r);
		assert_int_equal(quant_f32_to_bf16(f), h);
		if (e >= 0xfe)
			continue;
		/* the midpoint to the next pattern and its neighbours */
		uint32_t mid = (h << 16) | 0x8000;
		uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;

		assert_int_equal(quant_f32_to_bf16(u2f(mid)), even);
		assert_int_equal(quant_f32_to_bf16(u2f(mid - 1)), h);
		assert_int_equal(quant_f32_to_bf16(u2f(mid + 1)), h + 1);
	}
}

/* block and row sizes, including refusals */
static void
test_sizes(void **state)
{
	(void)state;
	assert_int_equal(quant_type_size(DTYPE_Q4_0), 18);
	assert_int_equal(quant_type_size(DTYPE_Q8_0), 34);
	assert_int_equal(quant_type_size(DTYPE_Q4_K), 144);
	assert_int_equal(quant_block_size(DTYPE_Q4_K), 256);
	assert_int_equal(quant_row_size(DTYPE_F32, 7), 28);
	assert_int_equal(quant_row_size(DTYPE_BF16, 7), 14);
	assert_int_equal(quant_row_size(DTYPE_Q8_0, 4096), 128 * 34);
	assert_int_equal(quant_row_size(DTYPE_Q4_0, 4096), 128 * 18);
	assert_int_equal(quant_row_size(DTYPE_Q4_K, 4096), 16 * 144);
	assert_int_equal(quant_row_size(DTYPE_Q4_K, 4000), 0);
	assert_int_equal(quant_row_size(DTYPE_Q8_0, 33), 0);
	assert_int_equal(quant_row_size((enum dtype)3, 32), 0);
	assert_int_equal(quant_row_size(DTYPE_F16, -2), 0);
	assert_false(quant_type_valid((enum dtype)6));
	assert_true(quant_type_valid(DTYPE_BF16));
	assert_int_equal(quant_dequantize_row(DTYPE_Q8_0, NULL, NULL, 31), -1);
	assert_int_equal(quant_quantize_row(DTYPE_Q4_K, NULL, NULL, 256), -1);
}

/* Q4_0: d = 0.5, low nibbles 0..15, high nibbles 15..0 */
static void
test_q4_0_block(void **state)
{
	struct dtype_block_q4_0 b, q;
	float y[32], x[32];

	(void)state;
	b.d = 0x3800;				/* 0.5 */
	for (int j = 0; j < 16; j++)
		b.qs[j] = (uint8_t)(j | (15 - j) << 4);
	assert_int_equal(quant_dequantize_row(DTYPE_Q4_0, &b, y, 32), 0);
	for (int j = 0; j < 16; j++) {
		assert_true(y[j] == -4.0f + 0.5f * j);
		assert_true(y[16 + j] == 3.5f - 0.5f * j);
	}
	/* the reference quantiser gives the block back */
	memcpy(x, y, sizeof(x));
	assert_int_equal(quant_quantize_row(DTYPE_Q4_0, x, &q, 32), 0);
	assert_memory_equal(&q, &b, sizeof(b));
}

/* Q8_0: d = 0.25 and quants spanning -124..127 */
static void
test_q8_0_block(void **state)
{
	struct dtype_block_q8_0 b, q;
	float y[32];

	(void)state;
	b.d = 0x3400;				/* 0.25 */
	for (int j = 0; j < 32; j++)
		b.qs[j] = (int8_t)(j < 31 ? j * 8 - 124 : 127);
	assert_int_equal(quant_dequantize_row(DTYPE_Q8_0, &b, y, 32), 0);
	for (int j = 0; j < 32; j++)
		assert_true(y[j] == 0.25f * b.qs[j]);
	/* amax 31.75 gives d = 0.25 exactly, so the block comes back */
	assert_int_equal(quant_quantize_row(DTYPE_Q8_0, y, &q, 32), 0);
	assert_memory_equal(&q, &b, sizeof(b));
}

/* pack_k4 - pack 6-bit scales and mins the way quantize_row_q4_K writes */
static void
pack_k4(uint8_t out[12], const uint8_t sc[8], const uint8_t m[8])
{
	memset(out, 0, 12);
	for (int j = 0; j < 8; j++) {
		if (j < 4) {
			out[j] = sc[j];
			out[j + 4] = m[j];
		} else {
			out[j + 4] = (uint8_t)((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
			out[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
			out[j] |= (uint8_t)((m[j] >> 4) << 6);
		}
	}
}

/* Q4_K: d = 2, dmin = 0.5, scales and mins using all six bits */
static void
test_q4_k_block(void **state)
{
	static const uint8_t sc[8] = { 1, 5, 17, 63, 32, 47, 60, 0 };
	static const uint8_t m[8] = { 0, 3, 63, 20, 33, 48, 1, 62 };
	struct dtype_block_q4_k b;
	float y[256];

	(void)state;
	b.d = 0x4000;				/* 2.0 */
	b.dmin = 0x3800;			/* 0.5 */
	pack_k4(b.scales, sc, m);
	memset(b.qs, 0, sizeof(b.qs));
	/* sub-block s, element l: value (3s + l) mod 16; pairs share bytes */
	for (int s = 0; s < 8; s++)
		for (int l = 0; l < 32; l++) {
			uint8_t v = (uint8_t)((3 * s + l) & 15);

			b.qs[32 * (s / 2) + l] |= (uint8_t)(s & 1 ? v << 4 : v);
		}
	assert_int_equal(quant_dequantize_row(DTYPE_Q4_K, &b, y, 256), 0);
	for (int s = 0; s < 8; s++)
		for (int l = 0; l < 32; l++) {
			float want = 2.0f * sc[s] * ((3 * s + l) & 15) -
			    0.5f * m[s];

			assert_true(y[32 * s + l] == want);
		}
}

/* the Q8_0 reference quantiser on random data: bounds and clamping */
static void
test_q8_0_random(void **state)
{
	enum { N = 32 * 64 };
	static float x[N], y[N];
	static struct dtype_block_q8_0 q[N / 32];
	static unsigned char act[N / 32 * 42];
	const float *sum = (const float *)act;
	const struct dtype_block_q8_0 *ab =
	    (const struct dtype_block_q8_0 *)(sum + 2 * (N / 32));
	uint32_t seed = 99;

	(void)state;
	for (int i = 0; i < N; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) *
		    (float)(1 + (i / 32) % 7) * 3.0f;
	}
	for (int i = 0; i < 32; i++)
		x[i] = 0.0f;			/* an all-zero block */
	assert_int_equal(quant_quantize_row(DTYPE_Q8_0, x, q, N), 0);
	quant_dequantize_row(DTYPE_Q8_0, q, y, N);
	for (int b = 0; b < N / 32; b++) {
		float amax = 0.0f, d;

		for (int j = 0; j < 32; j++)
			amax = fmaxf(amax, fabsf(x[32 * b + j]));
		d = amax / 127.0f;
		assert_int_equal(q[b].d, quant_f32_to_fp16(d));
		for (int j = 0; j < 32; j++) {
			double e = fabs((double)x[32 * b + j] - y[32 * b + j]);
			double dd = fabs((double)quant_fp16_to_f32(q[b].d) - d);

			assert_true(q[b].qs[j] >= -127 && q[b].qs[j] <= 127);
			/* half a step, plus the fp16 rounding of d */
			assert_true(e <= 0.5 * d * (1 + 1e-6) + 127 * dd + 1e-30);
		}
	}
	assert_int_equal(quant_q8_act_size(N), N / 32 * 42);
	quant_q8_act(x, act, N);
	assert_memory_equal(ab, q, sizeof(q));
	for (int b = 0; b < N / 32; b++) {
		int s = 0;

		for (int j = 0; j < 32; j++)
			s += q[b].qs[j];
		assert_true(sum[N / 32 + b] == quant_fp16_to_f32(q[b].d));
		assert_true(sum[b] == quant_fp16_to_f32(q[b].d) * (float)s);
	}
}

/*
 * GGUF's definitions, independent of dtype.c: GGMLQuantizationType's names
 * for ids 0..39 (gguf-py constants.py, as models/convert/gguf.py and
 * llama.cpp's ggml.h number them) and GGML_QUANT_SIZES (elements, bytes per
 * block) for the types radscribe runs; q8 marks the integer kernels.
 */
static const char *const gguf_names[40] = {
	"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0",
	"Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS",
	"IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
	"I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4",
	"Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8",
	"IQ4_NL_8_8", "MXFP4"
};
static const struct {
	int		 id;
	const char	*name;		/* ggml's type_name */
	int64_t		 blck;
	size_t		 bytes;
	int		 q8;
} gguf_sizes[] = {
	{ 0, "f32", 1, 4, 0 },
	{ 1, "f16", 1, 2, 0 },
	{ 2, "q4_0", 32, 2 + 16, 1 },
	{ 8, "q8_0", 32, 2 + 32, 1 },
	{ 12, "q4_K", 256, 2 + 2 + 256 / 2 + 12, 1 },
	{ 30, "bf16", 1, 2, 0 },
};

/* the traits table: names, geometry and kernels of every row */
static void
test_traits_table(void **state)
{
	size_t ns = sizeof(gguf_sizes) / sizeof(gguf_sizes[0]);

	(void)state;
	assert_int_equal(DTYPE_N_GGML, 40);
	for (int id = 0; id < 40; id++) {
		const struct dtype_traits *tr = dtype_traits((enum dtype)id);
		size_t k;

		assert_string_equal(dtype_name((enum dtype)id), gguf_names[id]);
		for (k = 0; k < ns && gguf_sizes[k].id != id; k++)
			;
		if (k == ns) {
			/* GGUF knows it, radscribe has no kernels: refused */
			assert_null(tr);
			assert_false(quant_type_valid((enum dtype)id));
			assert_string_equal(quant_type_name((enum dtype)id),
			    "?");
			continue;
		}
		assert_non_null(tr);
		assert_string_equal(tr->name, gguf_sizes[k].name);
		assert_string_equal(tr->gguf_name, gguf_names[id]);
		for (size_t i = 0; tr->name[i] != '\0'; i++)
			assert_int_equal(tr->gguf_name[i] & ~0x20,
			    tr->name[i] & ~0x20);
		assert_int_equal(tr->blck_size, gguf_sizes[k].blck);
		assert_int_equal(tr->type_size, gguf_sizes[k].bytes);
		assert_int_equal(tr->q8_act, gguf_sizes[k].q8);
		/* the Q8_0 activations come in blocks of 32 */
		assert_true(!tr->q8_act || tr->blck_size % DTYPE_QK8_0 == 0);
		/* tensor_matvec_ref dequantises 256 elements at a time */
		assert_int_equal(DTYPE_QK_K % tr->blck_size, 0);
		assert_non_null(tr->to_float);
		assert_non_null(tr->dot[0]);
		assert_non_null(tr->deq[0]);
		assert_int_equal(quant_block_size((enum dtype)id),
		    tr->blck_size);
		assert_int_equal(quant_type_size((enum dtype)id),
		    tr->type_size);
		assert_int_equal(quant_row_size((enum dtype)id,
		    3 * tr->blck_size), 3 * tr->type_size);
	}
	/* weights_lora stores a type without a quantiser as Q8_0 */
	assert_null(dtype_traits(DTYPE_Q4_K)->from_float);
	assert_non_null(dtype_traits(DTYPE_Q8_0)->from_float);
	assert_null(dtype_traits((enum dtype)40));
	assert_null(dtype_traits((enum dtype)1000));
	assert_null(dtype_traits((enum dtype)UINT32_MAX));
	assert_string_equal(dtype_name((enum dtype)40), "?");
	assert_string_equal(dtype_name((enum dtype)UINT32_MAX), "?");
}

/*
 * step_bound - the error bound of a block quantiser with step d: frac of a
 * step, plus qmax times d's fp16 rounding (absolute where d is subnormal).
 */
static double
step_bound(float d, double frac, int qmax)
{
	double dd = fabs((double)quant_fp16_to_f32(quant_f32_to_fp16(d)) - d);

	return frac * d * (1 + 1e-6) + qmax * dd + 1e-30;
}

/* every row's from_float then to_float comes back within its bound */
static void
test_traits_round_trip(void **state)
{
	enum { N = 256 * 8 };
	static float x[N], y[N];
	static unsigned char q[N * 4], q2[N * 4];
	uint32_t seed = 7;

	(void)state;
	for (int i = 0; i < N; i++) {
		seed = seed * 1664525u + 1013904223u;
		/* blocks of 32 from 2^-20 to 8 in magnitude */
		x[i] = ((float)(seed >> 8) / 8388608.0f - 1.0f) *
		    ldexpf(1.0f, 3 - 3 * ((i / 32) % 8));
	}
	for (int i = 64; i < 96; i++)
		x[i] = 0.0f;			/* an all-zero block */
	for (int id = 0; id < DTYPE_N_GGML; id++) {
		const struct dtype_traits *tr = dtype_traits((enum dtype)id);

		if (tr == NULL)
			continue;
		if (tr->from_float == NULL) {
			print_message("# %s: no quantiser, round trip skipped\n",
			    tr->name);
			continue;
		}
		memset(q, 0xa5, sizeof(q));
		memset(y, 0xa5, sizeof(y));
		tr->from_float(x, q, N);
		tr->to_float(q, y, N);
		for (int i = 0; i < N; i++) {
			float amax = 0.0f;
			double e = fabs((double)x[i] - y[i]), lim = 0;

			for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++)
				amax = fmaxf(amax, fabsf(x[j]));
			if (id == DTYPE_F32)
				lim = 0;
			else if (id == DTYPE_F16)
				lim = fabs(x[i]) * 0x1p-11 + 0x1p-25;
			else if (id == DTYPE_BF16)
				lim = fabs(x[i]) * 0x1p-8;
			else if (id == DTYPE_Q8_0)
				/* half a step, plus d's fp16 rounding */
				lim = step_bound(amax / 127.0f, 0.5, 127);
			else if (id == DTYPE_Q4_0)
				/* a step where level 8 is clamped to 7 */
				lim = step_bound(amax / 8.0f, 1.0, 8);
			else
				fail_msg("%s: no round-trip bound in this test",
				    tr->name);
			if (e > lim)
				fail_msg("%s [%d]: %.9g -> %.9g, error %.3g > "
				    "%.3g", tr->name, i, x[i], y[i], e, lim);
		}
		/* the table's kernels are what quant_*_row run */
		memset(q2, 0x5a, sizeof(q2));
		assert_int_equal(quant_quantize_row((enum dtype)id, x, q2, N),
		    0);
		assert_memory_equal(q, q2, quant_row_size((enum dtype)id, N));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp16_to_f32_exhaustive),
		cmocka_unit_test(test_f32_to_fp16),
		cmocka_unit_test(test_bf16),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_q4_0_block),
		cmocka_unit_test(test_q8_0_block),
		cmocka_unit_test(test_q4_k_block),
		cmocka_unit_test(test_q8_0_random),
		cmocka_unit_test(test_traits_table),
		cmocka_unit_test(test_traits_round_trip),
	};

	return cmocka_run_group_tests_name("quant", tests, NULL, NULL);
}
