/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tensor - dot and dequantise kernels per stored type (portable C and
 * AVX2/FMA/F16C, the latter compiled with target attributes), which the
 * traits table in dtype.c lists; matvec and matmul find them there for the
 * family picked by cpuid at run time.  Also the sgemm wrapper and the naive
 * reference.  The only state is the chosen kernel family (an atomic).  No
 * allocation anywhere in this file.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "infer/pool.h"
#include "infer/quant.h"
#include "infer/tensor.h"

#if TENSOR_HAVE_AVX2
#include <cpuid.h>
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

#define MATMUL_MIN_N	4		/* below this, non-F32 uses matvec */
#define MATMUL_BLOCK	(2048 * 1024)	/* floats per dequantised block */

static atomic_int cur_isa = -1;

/* ---------------------------------------------------------------- ISA */

/* tensor_isa_best - what this CPU can run */
enum tensor_isa
tensor_isa_best(void)
{
#if TENSOR_HAVE_AVX2
	unsigned a, b, c, d;

	/* F16C from cpuid: clang before 16 has no "f16c" for the builtin */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	    __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0)
		return TENSOR_ISA_AVX2;
#endif
	return TENSOR_ISA_PORTABLE;
}

/* tensor_get_isa - the family in use, resolved once */
enum tensor_isa
tensor_get_isa(void)
{
	int isa = atomic_load_explicit(&cur_isa, memory_order_relaxed);
	const char *env;

	if (isa >= 0)
		return (enum tensor_isa)isa;
	isa = tensor_isa_best();
	env = getenv("RADSCRIBE_KERNELS");
	if (env != NULL && strcmp(env, "portable") == 0)
		isa = TENSOR_ISA_PORTABLE;
	atomic_store(&cur_isa, isa);
	return (enum tensor_isa)isa;
}

/* tensor_set_isa - force a family */
int
tensor_set_isa(enum tensor_isa isa)
{
	if (isa != TENSOR_ISA_PORTABLE &&
	    (isa != TENSOR_ISA_AVX2 || tensor_isa_best() != TENSOR_ISA_AVX2))
		return -1;
	atomic_store(&cur_isa, (int)isa);
	return 0;
}

/* tensor_isa_name - printable name */
const char *
tensor_isa_name(enum tensor_isa isa)
{
	return isa == TENSOR_ISA_AVX2 ? "avx2" : "portable";
}

/* tensor_view - a dense view */
int
tensor_view(struct tensor *t, enum dtype type, int64_t ne0, int64_t ne1,
    const void *data)
{
	size_t rb = quant_row_size(type, ne0);

	if (rb == 0 || ne1 < 1)
		return -1;
	t->type = type;
	t->ne0 = ne0;
	t->ne1 = ne1;
	t->data = data;
	t->row_bytes = rb;
	return 0;
}

/* act_blocks - the Q8_0 blocks of an activation buffer */
static const struct dtype_block_q8_0 *
act_blocks(const void *act, int64_t n)
{
	return (const struct dtype_block_q8_0 *)((const float *)act +
	    2 * (n / DTYPE_QK8_0));
}

/* ---------------------------------------------------------------- portable */

/* tensor_dot_f32_c - eight running sums, so the compiler may vectorise */
float
tensor_dot_f32_c(const void *w_, const void *x_, int64_t n)
{
	const float *w = w_, *x = x_;
	float acc[8] = { 0 };
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++)
			acc[k] += w[i + k] * x[i + k];
	for (; i < n; i++)
		acc[0] += w[i] * x[i];
	return ((acc[0] + acc[4]) + (acc[1] + acc[5])) +
	    ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/*
 * dot_u16_c - a 16-bit float row (fp16 or bf16, by cvt), converted on the
 * fly.  Inlined with a constant cvt, so each type gets its own loop.
 */
static inline __attribute__((always_inline)) float
dot_u16_c(const void *w_, const void *x_, int64_t n, float (*cvt)(uint16_t))
{
	const uint16_t *w = w_;
	const float *x = x_;
	float acc[8] = { 0 };
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++)
			acc[k] += cvt(w[i + k]) * x[i + k];
	for (; i < n; i++)
		acc[0] += cvt(w[i]) * x[i];
	return ((acc[0] + acc[4]) + (acc[1] + acc[5])) +
	    ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* tensor_dot_f16_c - fp16 row */
float
tensor_dot_f16_c(const void *w, const void *x, int64_t n)
{
	return dot_u16_c(w, x, n, quant_fp16_to_f32);
}

/* tensor_dot_bf16_c - bf16 row */
float
tensor_dot_bf16_c(const void *w, const void *x, int64_t n)
{
	return dot_u16_c(w, x, n, quant_bf16_to_f32);
}

/* tensor_dot_q8_0_c - ggml_vec_dot_q8_0_q8_0, scalar */
float
tensor_dot_q8_0_c(const void *w_, const void *act, int64_t n)
{
	const struct dtype_block_q8_0 *w = w_, *x = act_blocks(act, n);
	float sum = 0.0f;

	for (int64_t b = 0; b < n / DTYPE_QK8_0; b++) {
		int isum = 0;

		for (int j = 0; j < DTYPE_QK8_0; j++)
			isum += w[b].qs[j] * x[b].qs[j];
		sum += (quant_fp16_to_f32(w[b].d) *
		    quant_fp16_to_f32(x[b].d)) * (float)isum;
	}
	return sum;
}

/* tensor_dot_q4_0_c - sum (q - 8) y = sum q y - 8 sum y per block */
float
tensor_dot_q4_0_c(const void *w_, const void *act, int64_t n)
{
	const struct dtype_block_q4_0 *w = w_;
	const struct dtype_block_q8_0 *x = act_blocks(act, n);
	const float *xs = act;
	float sum = 0.0f, corr = 0.0f;

	for (int64_t b = 0; b < n / DTYPE_QK4_0; b++) {
		const float dw = quant_fp16_to_f32(w[b].d);
		int isum = 0;

		for (int j = 0; j < DTYPE_QK4_0 / 2; j++) {
			isum += (w[b].qs[j] & 0xF) * x[b].qs[j];
			isum += (w[b].qs[j] >> 4) * x[b].qs[j + 16];
		}
		sum += dw * (quant_fp16_to_f32(x[b].d) * (float)isum);
		corr += dw * xs[b];
	}
	return sum - 8.0f * corr;
}

/* q4k_scales - the 8 sub-block scales (d*sc) and minima (dmin*m) */
static void
q4k_scales(const struct dtype_block_q4_k *b, float dsc[8], float dm[8])
{
	const uint8_t *q = b->scales;
	const float d = quant_fp16_to_f32(b->d);
	const float dmin = quant_fp16_to_f32(b->dmin);

	for (int j = 0; j < 8; j++) {
		int sc, m;

		if (j < 4) {
			sc = q[j] & 63;
			m = q[j + 4] & 63;
		} else {
			sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
			m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
		}
		dsc[j] = d * (float)sc;
		dm[j] = dmin * (float)m;
	}
}

/* tensor_dot_q4_k_c - Q4_K against Q8_0 activations, one scale per 32 */
float
tensor_dot_q4_k_c(const void *w_, const void *act, int64_t n)
{
	const struct dtype_block_q4_k *w = w_;
	const struct dtype_block_q8_0 *x = act_blocks(act, n);
	const float *xs = act;
	float sum = 0.0f, msum = 0.0f;

	for (int64_t i = 0; i < n / DTYPE_QK_K; i++) {
		float dsc[8], dm[8];

		q4k_scales(&w[i], dsc, dm);
		for (int j = 0; j < 4; j++) {
			const uint8_t *q = w[i].qs + 32 * j;
			const struct dtype_block_q8_0 *lo = &x[8 * i + 2 * j];
			const struct dtype_block_q8_0 *hi = lo + 1;
			int s0 = 0, s1 = 0;

			for (int l = 0; l < 32; l++) {
				s0 += (q[l] & 0xF) * lo->qs[l];
				s1 += (q[l] >> 4) * hi->qs[l];
			}
			sum += dsc[2 * j] * (quant_fp16_to_f32(lo->d) *
			    (float)s0);
			sum += dsc[2 * j + 1] * (quant_fp16_to_f32(hi->d) *
			    (float)s1);
			msum += dm[2 * j] * xs[8 * i + 2 * j];
			msum += dm[2 * j + 1] * xs[8 * i + 2 * j + 1];
		}
	}
	return sum - msum;
}

/* ---------------------------------------------------------------- AVX2 */
#if TENSOR_HAVE_AVX2

/* hsum8 - horizontal sum of 8 floats */
AVX2 static inline float
hsum8(__m256 v)
{
	__m128 lo = _mm_add_ps(_mm256_castps256_ps128(v),
	    _mm256_extractf128_ps(v, 1));

	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
	return _mm_cvtss_f32(lo);
}

/* h2f - one fp16 to float with F16C */
AVX2 static inline float
h2f(uint16_t h)
{
	return _cvtsh_ss(h);
}

/* tensor_dot_f32_avx2 - four 8-wide FMA chains */
AVX2 float
tensor_dot_f32_avx2(const void *w_, const void *x_, int64_t n)
{
	const float *w = w_, *x = x_;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	int64_t i = 0;
	float s;

	for (; i + 32 <= n; i += 32) {
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i),
		    _mm256_loadu_ps(x + i), a0);
		a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8),
		    _mm256_loadu_ps(x + i + 8), a1);
		a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16),
		    _mm256_loadu_ps(x + i + 16), a2);
		a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24),
		    _mm256_loadu_ps(x + i + 24), a3);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i),
		    _mm256_loadu_ps(x + i), a0);
	s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
	for (; i < n; i++)
		s += w[i] * x[i];
	return s;
}

/* ld_f16 - 8 fp16 to floats */
AVX2 static inline __m256
ld_f16(const uint16_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* ld_bf16 - 8 bf16 to floats */
AVX2 static inline __m256
ld_bf16(const uint16_t *p)
{
	return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(
	    _mm_loadu_si128((const __m128i *)p)), 16));
}

/*
 * dot_u16_avx2 - fp16 (vcvtph2ps) or bf16 (widened by a shift) rows; the
 * flag is a constant where it is inlined, so each type gets its own loop.
 */
AVX2 static inline __attribute__((always_inline)) float
dot_u16_avx2(const void *w_, const void *x_, int64_t n, int bf16)
{
	const uint16_t *w = w_;
	const float *x = x_;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	int64_t i = 0;
	float s;

#define LD(p) (bf16 ? ld_bf16(p) : ld_f16(p))
	for (; i + 32 <= n; i += 32) {
		a0 = _mm256_fmadd_ps(LD(w + i), _mm256_loadu_ps(x + i), a0);
		a1 = _mm256_fmadd_ps(LD(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
		a2 = _mm256_fmadd_ps(LD(w + i + 16), _mm256_loadu_ps(x + i + 16),
		    a2);
		a3 = _mm256_fmadd_ps(LD(w + i + 24), _mm256_loadu_ps(x + i + 24),
		    a3);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(LD(w + i), _mm256_loadu_ps(x + i), a0);
#undef LD
	s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
	for (; i < n; i++)
		s += (bf16 ? quant_bf16_to_f32(w[i]) : h2f(w[i])) * x[i];
	return s;
}

/* tensor_dot_f16_avx2 - fp16 row */
AVX2 float
tensor_dot_f16_avx2(const void *w, const void *x, int64_t n)
{
	return dot_u16_avx2(w, x, n, 0);
}

/* tensor_dot_bf16_avx2 - bf16 row */
AVX2 float
tensor_dot_bf16_avx2(const void *w, const void *x, int64_t n)
{
	return dot_u16_avx2(w, x, n, 1);
}

/* isum_q8 - int32x8 partial sums of 32 signed x 32 signed bytes */
AVX2 static inline __m256i
isum_q8(__m256i a, __m256i b)
{
	/* |a| * sign(b, a): maddubs needs one unsigned side (GGML's trick) */
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a),
	    _mm256_sign_epi8(b, a));

	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* isum_u4 - int32x8 partial sums of 32 nibbles (0..15) x 32 signed bytes */
AVX2 static inline __m256i
isum_u4(__m256i u, __m256i b)
{
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, b),
	    _mm256_set1_epi16(1));
}

/* ld_d8 - the fp16 scales of 8 consecutive blocks of stride sz as floats */
AVX2 static inline __m256
ld_d8(const void *blk, size_t sz)
{
	const unsigned char *p = blk;
	uint16_t h[8];

	for (int k = 0; k < 8; k++)
		memcpy(&h[k], p + k * sz, 2);
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

/* lane - broadcast lane k of v */
AVX2 static inline __m256
lane(__m256 v, int k)
{
	return _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(k));
}

/* tensor_dot_q8_0_avx2 - ggml_vec_dot_q8_0_q8_0, eight block scales at once */
AVX2 float
tensor_dot_q8_0_avx2(const void *w_, const void *act, int64_t n)
{
	const struct dtype_block_q8_0 *w = w_, *x = act_blocks(act, n);
	int64_t nb = n / DTYPE_QK8_0, b = 0;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0;

	for (; b + 8 <= nb; b += 8) {
		__m256 sc = _mm256_mul_ps(ld_d8(&w[b], sizeof(*w)),
		    _mm256_loadu_ps((const float *)act + nb + b));

		for (int k = 0; k < 8; k += 2) {
			__m256i p0 = isum_q8(
			    _mm256_loadu_si256((const __m256i *)w[b + k].qs),
			    _mm256_loadu_si256((const __m256i *)x[b + k].qs));
			__m256i p1 = isum_q8(
			    _mm256_loadu_si256((const __m256i *)w[b + k + 1].qs),
			    _mm256_loadu_si256((const __m256i *)x[b + k + 1].qs));

			a0 = _mm256_fmadd_ps(lane(sc, k), _mm256_cvtepi32_ps(p0),
			    a0);
			a1 = _mm256_fmadd_ps(lane(sc, k + 1),
			    _mm256_cvtepi32_ps(p1), a1);
		}
	}
	for (; b < nb; b++) {
		__m256i p0 = isum_q8(
		    _mm256_loadu_si256((const __m256i *)w[b].qs),
		    _mm256_loadu_si256((const __m256i *)x[b].qs));

		a0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)),
		    _mm256_cvtepi32_ps(p0), a0);
	}
	return hsum8(_mm256_add_ps(a0, a1));
}

/* nib32 - a Q4_0 block's 16 bytes as 32 nibbles in element order */
AVX2 static inline __m256i
nib32(const uint8_t *qs)
{
	__m128i q = _mm_loadu_si128((const __m128i *)qs);

	return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q),
	    _mm256_set1_epi8(0x0F));
}

/* tensor_dot_q4_0_avx2 - unsigned nibbles times q8, minus 8 times block sums */
AVX2 float
tensor_dot_q4_0_avx2(const void *w_, const void *act, int64_t n)
{
	const struct dtype_block_q4_0 *w = w_;
	const struct dtype_block_q8_0 *x = act_blocks(act, n);
	const float *xs = act;
	int64_t nb = n / DTYPE_QK4_0, b = 0;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, cv = a0;
	float corr = 0.0f;

	for (; b + 8 <= nb; b += 8) {
		__m256 dw = ld_d8(&w[b], sizeof(*w));
		__m256 sc = _mm256_mul_ps(dw, _mm256_loadu_ps(xs + nb + b));

		cv = _mm256_fmadd_ps(dw, _mm256_loadu_ps(xs + b), cv);
		for (int k = 0; k < 8; k += 2) {
			__m256i p0 = isum_u4(nib32(w[b + k].qs),
			    _mm256_loadu_si256((const __m256i *)x[b + k].qs));
			__m256i p1 = isum_u4(nib32(w[b + k + 1].qs),
			    _mm256_loadu_si256((const __m256i *)x[b + k + 1].qs));

			a0 = _mm256_fmadd_ps(lane(sc, k), _mm256_cvtepi32_ps(p0),
			    a0);
			a1 = _mm256_fmadd_ps(lane(sc, k + 1),
			    _mm256_cvtepi32_ps(p1), a1);
		}
	}
	for (; b < nb; b++) {
		const float d0 = h2f(w[b].d);
		__m256i p0 = isum_u4(nib32(w[b].qs),
		    _mm256_loadu_si256((const __m256i *)x[b].qs));

		a0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * h2f(x[b].d)),
		    _mm256_cvtepi32_ps(p0), a0);
		corr += d0 * xs[b];
	}
	return hsum8(_mm256_add_ps(a0, a1)) - 8.0f * (hsum8(cv) + corr);
}

/* q4k_scales_avx2 - d*sc and dmin*m for the 8 sub-blocks (GGML's utmp) */
AVX2 static inline void
q4k_scales_avx2(const struct dtype_block_q4_k *b, __m256 *dsc, __m256 *dm)
{
	uint32_t u[4], ua;
	__m128i v;

	memcpy(u, b->scales, 12);
	u[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
	ua = u[1] & 0x3f3f3f3f;
	u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
	u[2] = ua;
	u[0] &= 0x3f3f3f3f;
	v = _mm_loadu_si128((const __m128i *)u);	/* sc[0..7], m[0..7] */
	*dsc = _mm256_mul_ps(_mm256_set1_ps(h2f(b->d)),
	    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)));
	*dm = _mm256_mul_ps(_mm256_set1_ps(h2f(b->dmin)),
	    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8))));
}

/* tensor_dot_q4_k_avx2 - Q4_K super-blocks against Q8_0 activations */
AVX2 float
tensor_dot_q4_k_avx2(const void *w_, const void *act, int64_t n)
{
	const struct dtype_block_q4_k *w = w_;
	const struct dtype_block_q8_0 *x = act_blocks(act, n);
	const float *xs = act;
	const __m256i m4 = _mm256_set1_epi8(0x0F);
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, mv = a0;

	for (int64_t i = 0; i < n / DTYPE_QK_K; i++) {
		const struct dtype_block_q8_0 *xb = x + 8 * i;
		__m256 dsc, dm, sc;

		q4k_scales_avx2(&w[i], &dsc, &dm);
		sc = _mm256_mul_ps(dsc, _mm256_loadu_ps(xs + n / 32 + 8 * i));
		mv = _mm256_fmadd_ps(dm, _mm256_loadu_ps(xs + 8 * i), mv);
		for (int j = 0; j < 4; j++) {
			__m256i q = _mm256_loadu_si256(
			    (const __m256i *)(w[i].qs + 32 * j));
			__m256i lo = _mm256_and_si256(q, m4);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4),
			    m4);
			__m256i p0 = isum_u4(lo, _mm256_loadu_si256(
			    (const __m256i *)xb[2 * j].qs));
			__m256i p1 = isum_u4(hi, _mm256_loadu_si256(
			    (const __m256i *)xb[2 * j + 1].qs));

			a0 = _mm256_fmadd_ps(lane(sc, 2 * j),
			    _mm256_cvtepi32_ps(p0), a0);
			a1 = _mm256_fmadd_ps(lane(sc, 2 * j + 1),
			    _mm256_cvtepi32_ps(p1), a1);
		}
	}
	return hsum8(_mm256_add_ps(a0, a1)) - hsum8(mv);
}

/*
 * deq_u16_avx2 - fp16 or bf16 row to floats; the flag is a constant where
 * it is inlined, so each type gets its own loop.
 */
AVX2 static inline __attribute__((always_inline)) void
deq_u16_avx2(const void *w_, float *y, int64_t n, int bf16)
{
	const uint16_t *w = w_;
	int64_t i = 0;

	if (bf16) {
		for (; i + 8 <= n; i += 8)
			_mm256_storeu_ps(y + i, ld_bf16(w + i));
		for (; i < n; i++)
			y[i] = quant_bf16_to_f32(w[i]);
	} else {
		for (; i + 8 <= n; i += 8)
			_mm256_storeu_ps(y + i, ld_f16(w + i));
		for (; i < n; i++)
			y[i] = h2f(w[i]);
	}
}

/* tensor_deq_f16_avx2 - fp16 row (vcvtph2ps) */
AVX2 void
tensor_deq_f16_avx2(const void *w, float *y, int64_t n)
{
	deq_u16_avx2(w, y, n, 0);
}

/* tensor_deq_bf16_avx2 - bf16 row (widened by a shift) */
AVX2 void
tensor_deq_bf16_avx2(const void *w, float *y, int64_t n)
{
	deq_u16_avx2(w, y, n, 1);
}

/* st_i8x8 - 8 int8 at p times d, stored as floats */
AVX2 static inline void
st_i8x8(float *y, const void *p, __m256 d)
{
	__m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));

	_mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(v), d));
}

/* tensor_deq_q8_0_avx2 - q * d, as dequantize_row_q8_0 */
AVX2 void
tensor_deq_q8_0_avx2(const void *w_, float *y, int64_t n)
{
	const struct dtype_block_q8_0 *w = w_;

	for (int64_t b = 0; b < n / DTYPE_QK8_0; b++, y += 32) {
		__m256 d = _mm256_set1_ps(h2f(w[b].d));

		for (int k = 0; k < 32; k += 8)
			st_i8x8(y + k, w[b].qs + k, d);
	}
}

/* tensor_deq_q4_0_avx2 - (q - 8) * d, as dequantize_row_q4_0 */
AVX2 void
tensor_deq_q4_0_avx2(const void *w_, float *y, int64_t n)
{
	const struct dtype_block_q4_0 *w = w_;
	uint8_t t[32];

	for (int64_t b = 0; b < n / DTYPE_QK4_0; b++, y += 32) {
		__m256 d = _mm256_set1_ps(h2f(w[b].d));

		_mm256_storeu_si256((__m256i *)t, _mm256_sub_epi8(nib32(w[b].qs),
		    _mm256_set1_epi8(8)));
		for (int k = 0; k < 32; k += 8)
			st_i8x8(y + k, t + k, d);
	}
}

/* tensor_deq_q4_k_avx2 - d1 * q - m1 (a multiply, then a subtract: no FMA) */
AVX2 void
tensor_deq_q4_k_avx2(const void *w_, float *y, int64_t n)
{
	const struct dtype_block_q4_k *w = w_;
	const __m256i m4 = _mm256_set1_epi8(0x0F);
	uint8_t t[64];

	for (int64_t i = 0; i < n / DTYPE_QK_K; i++) {
		__m256 vsc, vm;

		q4k_scales_avx2(&w[i], &vsc, &vm);
		for (int j = 0; j < 4; j++) {
			__m256i q = _mm256_loadu_si256(
			    (const __m256i *)(w[i].qs + 32 * j));

			_mm256_storeu_si256((__m256i *)t,
			    _mm256_and_si256(q, m4));
			_mm256_storeu_si256((__m256i *)(t + 32),
			    _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
			for (int h = 0; h < 2; h++) {
				__m256 d = lane(vsc, 2 * j + h);
				__m256 m = lane(vm, 2 * j + h);

				for (int k = 0; k < 32; k += 8) {
					__m256 v = _mm256_cvtepi32_ps(
					    _mm256_cvtepu8_epi32(_mm_loadl_epi64(
					    (const __m128i *)(t + 32 * h + k))));

					_mm256_storeu_ps(y + k, _mm256_sub_ps(
					    _mm256_mul_ps(d, v), m));
				}
				y += 32;
			}
		}
	}
}

/* act_avx2 - quant_q8_act, bit for bit (roundf: ties away from zero) */
AVX2 static void
act_avx2(const float *x, void *dst, int64_t n)
{
	int64_t nb = n / DTYPE_QK8_0;
	float *sum = dst, *dd = sum + nb;
	struct dtype_block_q8_0 *y = (struct dtype_block_q8_0 *)(dd + nb);
	const __m256 absm = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);

	for (int64_t b = 0; b < nb; b++, x += 32) {
		__m256 v[4], mx;
		__m256i q[4], s;
		__m128 m;
		float amax, d, id;

		for (int k = 0; k < 4; k++)
			v[k] = _mm256_loadu_ps(x + 8 * k);
		mx = _mm256_max_ps(
		    _mm256_max_ps(_mm256_and_ps(v[0], absm),
		    _mm256_and_ps(v[1], absm)),
		    _mm256_max_ps(_mm256_and_ps(v[2], absm),
		    _mm256_and_ps(v[3], absm)));
		m = _mm_max_ps(_mm256_castps256_ps128(mx),
		    _mm256_extractf128_ps(mx, 1));
		m = _mm_max_ps(m, _mm_movehl_ps(m, m));
		m = _mm_max_ss(m, _mm_movehdup_ps(m));
		amax = _mm_cvtss_f32(m);
		d = amax / 127.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		y[b].d = quant_f32_to_fp16(d);
		s = _mm256_setzero_si256();
		for (int k = 0; k < 4; k++) {
			__m256 p = _mm256_mul_ps(v[k], _mm256_set1_ps(id));
			__m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO |
			    _MM_FROUND_NO_EXC);
			__m256 f = _mm256_and_ps(_mm256_sub_ps(p, t), absm);
			__m256 up = _mm256_and_ps(_mm256_cmp_ps(f, half,
			    _CMP_GE_OQ), _mm256_or_ps(one,
			    _mm256_andnot_ps(absm, p)));

			q[k] = _mm256_cvtps_epi32(_mm256_add_ps(t, up));
			s = _mm256_add_epi32(s, q[k]);
		}
		/* pack 32 int32 to int8 in order (packs interleave lanes) */
		__m256i p16 = _mm256_packs_epi32(q[0], q[1]);
		__m256i p16b = _mm256_packs_epi32(q[2], q[3]);
		__m256i p8 = _mm256_packs_epi16(p16, p16b);

		p8 = _mm256_permutevar8x32_epi32(p8,
		    _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
		_mm256_storeu_si256((__m256i *)y[b].qs, p8);
		__m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s),
		    _mm256_extracti128_si256(s, 1));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
		dd[b] = quant_fp16_to_f32(y[b].d);
		sum[b] = dd[b] * (float)_mm_cvtsi128_si32(s4);
	}
}

#endif /* TENSOR_HAVE_AVX2 */

/* ---------------------------------------------------------------- dispatch */

/* pick_dot - the row's dot kernel in the current family */
static dtype_dot_fn
pick_dot(const struct dtype_traits *tr)
{
	dtype_dot_fn f = tr->dot[tensor_get_isa()];

	return f != NULL ? f : tr->dot[TENSOR_ISA_PORTABLE];
}

/* pick_deq - the row's dequantiser in the current family */
static dtype_to_float_fn
pick_deq(const struct dtype_traits *tr)
{
	dtype_to_float_fn f = tr->deq[tensor_get_isa()];

	return f != NULL ? f : tr->deq[TENSOR_ISA_PORTABLE];
}

/* broken - a contract violation: report and abort */
static void
broken(const char *what)
{
	fprintf(stderr, "tensor: %s\n", what);
	abort();
}

/*
 * tensor_quantize_act - activation quantiser of the current family.  Not
 * in the traits table: it is per family, not per type (every q8_act dot
 * kernel reads the same format).
 */
void
tensor_quantize_act(const float *x, void *dst, int64_t n)
{
#if TENSOR_HAVE_AVX2
	if (tensor_get_isa() == TENSOR_ISA_AVX2) {
		act_avx2(x, dst, n);
		return;
	}
#endif
	quant_q8_act(x, dst, n);
}

/* ---------------------------------------------------------------- matvec */

struct mv_job {
	const struct tensor *W;
	const void	*x;
	float		*y;
	dtype_dot_fn	 dot;
	int64_t		 chunk;		/* rows per task */
};

/* mv_task - one chunk of rows */
static void
mv_task(void *arg, int64_t task, int thread)
{
	const struct mv_job *j = arg;
	const struct tensor *W = j->W;
	int64_t r0 = task * j->chunk, r1 = r0 + j->chunk;
	const char *row = (const char *)W->data + (size_t)r0 * W->row_bytes;

	(void)thread;
	if (r1 > W->ne1)
		r1 = W->ne1;
	for (int64_t r = r0; r < r1; r++, row += W->row_bytes)
		j->y[r] = j->dot(row, j->x, W->ne0);
}

/* tensor_matvec_scratch_size - pool scratch for one matvec */
size_t
tensor_matvec_scratch_size(enum dtype type, int64_t ne0)
{
	const struct dtype_traits *tr = dtype_traits(type);

	return tr != NULL && tr->q8_act ? quant_q8_act_size(ne0) : 0;
}

/* chunk_rows - rows per task: about 8 tasks per thread, 4 rows at least */
static int64_t
chunk_rows(int64_t rows, int nthreads)
{
	int64_t c = (rows + 8 * nthreads - 1) / (8 * nthreads);

	return c < 4 ? 4 : c;
}

/* tensor_matvec - y = W x on the stored type */
void
tensor_matvec(const struct tensor *W, const float *x, float *y,
    struct pool *p)
{
	const struct dtype_traits *tr = dtype_traits(W->type);
	struct mv_job j;

	if (tr == NULL)
		broken("matvec: unknown type");
	j.W = W;
	j.y = y;
	j.x = x;
	j.dot = pick_dot(tr);
	if (tr->q8_act) {
		size_t have, need = quant_q8_act_size(W->ne0);
		void *s = pool_scratch(p, &have);

		if (have < need)
			broken("matvec: pool scratch too small "
			    "(pool_reserve tensor_matvec_scratch_size)");
		tensor_quantize_act(x, s, W->ne0);
		j.x = s;
	}
	j.chunk = chunk_rows(W->ne1, pool_threads(p));
	pool_run(p, mv_task, &j, (W->ne1 + j.chunk - 1) / j.chunk);
}

/* tensor_matvec_ref - dequantise and dot in double */
void
tensor_matvec_ref(const struct tensor *W, const float *x, float *y)
{
	float buf[DTYPE_QK_K];

	for (int64_t r = 0; r < W->ne1; r++) {
		const char *row = (const char *)W->data +
		    (size_t)r * W->row_bytes;
		double acc = 0.0;

		for (int64_t i = 0; i < W->ne0; i += DTYPE_QK_K) {
			int64_t len = W->ne0 - i < DTYPE_QK_K ?
			    W->ne0 - i : DTYPE_QK_K;

			/* 256 is a multiple of every block size */
			quant_dequantize_row(W->type, row +
			    quant_row_size(W->type, i), buf, len);
			for (int64_t k = 0; k < len; k++)
				acc += (double)buf[k] * (double)x[i + k];
		}
		y[r] = (float)acc;
	}
}

/* ---------------------------------------------------------------- matmul */

struct dq_job {
	const struct tensor *W;
	float		*dst;
	dtype_to_float_fn deq;
	int64_t		 r0;		/* first row of the block */
	int64_t		 nrows;
	int64_t		 chunk;
};

/* dq_task - dequantise a few rows of the block */
static void
dq_task(void *arg, int64_t task, int thread)
{
	const struct dq_job *j = arg;
	int64_t a = task * j->chunk, b = a + j->chunk;

	(void)thread;
	if (b > j->nrows)
		b = j->nrows;
	for (int64_t r = a; r < b; r++)
		j->deq((const char *)j->W->data +
		    (size_t)(j->r0 + r) * j->W->row_bytes,
		    j->dst + r * j->W->ne0, j->W->ne0);
}

/* block_rows - rows dequantised per sgemm call */
static int64_t
block_rows(const struct tensor *W)
{
	int64_t br = MATMUL_BLOCK / W->ne0;

	br -= br % 16;
	if (br < 64)
		br = 64;
	return br < W->ne1 ? br : W->ne1;
}

/* tensor_matmul_scratch_size - one block of dequantised rows */
size_t
tensor_matmul_scratch_size(const struct tensor *W)
{
	if (W->type == DTYPE_F32)	/* sgemm reads the weights in place */
		return 0;
	return (size_t)block_rows(W) * (size_t)W->ne0 * sizeof(float);
}

/* tensor_matmul - Y = X W^T through sgemm */
void
tensor_matmul(const struct tensor *W, const float *X, int64_t n, float *Y,
    float *scratch, struct pool *p)
{
	const struct dtype_traits *tr;
	struct dq_job j;
	int64_t br;
	unsigned spin;

	if (n <= 0)
		return;
	if (n == 1 || (W->type != DTYPE_F32 && n < MATMUL_MIN_N)) {
		for (int64_t i = 0; i < n; i++)
			tensor_matvec(W, X + i * W->ne0, Y + i * W->ne1, p);
		return;
	}
	/* not a table lookup: F32 rows are sgemm's operand as they are */
	if (W->type == DTYPE_F32) {
		if (W->row_bytes % sizeof(float) != 0)
			broken("matmul: F32 row stride not a multiple of 4");
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
		    (int)n, (int)W->ne1, (int)W->ne0, 1.0f, X, (int)W->ne0,
		    W->data, (int)(W->row_bytes / sizeof(float)), 0.0f,
		    Y, (int)W->ne1);
		return;
	}
	if ((tr = dtype_traits(W->type)) == NULL)
		broken("matmul: unknown type");
	j.deq = pick_deq(tr);
	if (scratch == NULL)
		broken("matmul: no scratch (tensor_matmul_scratch_size)");
	j.W = W;
	j.dst = scratch;
	br = block_rows(W);
	/* workers sleep through each sgemm instead of spinning on its cores */
	spin = pool_set_spin(p, 0);
	for (int64_t r0 = 0; r0 < W->ne1; r0 += br) {
		j.r0 = r0;
		j.nrows = W->ne1 - r0 < br ? W->ne1 - r0 : br;
		j.chunk = (j.nrows + 4 * pool_threads(p) - 1) /
		    (4 * pool_threads(p));
		pool_run(p, dq_task, &j, (j.nrows + j.chunk - 1) / j.chunk);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
		    (int)n, (int)j.nrows, (int)W->ne0, 1.0f, X, (int)W->ne0,
		    scratch, (int)W->ne0, 0.0f, Y + r0, (int)W->ne1);
	}
	pool_set_spin(p, spin);
}
