/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quant - portable, exact conversions for GGML's storage types: the
 * traits table's to_float and from_float kernels.  They repeat GGML's
 * reference arithmetic (ggml-quants.c) operation for operation, so a
 * llama.cpp model decodes to the same floats.  No allocation and no state;
 * any thread may call anything here.
 */
#include <math.h>
#include <string.h>

#include "infer/quant.h"

/* bits of a float, without aliasing trouble */
static uint32_t
f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* a float from its bits */
static float
u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* quant_fp16_to_f32 - binary16 to float, exact */
float
quant_fp16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;
	uint32_t e;

	if (exp == 0x1f)
		return u2f(sign | 0x7f800000 | man << 13);
	if (exp != 0)
		return u2f(sign | (exp + 112) << 23 | man << 13);
	if (man == 0)
		return u2f(sign);
	/* subnormal: man * 2^-24; shift the leading one up to bit 10 */
	e = 113;
	while ((man & 0x400) == 0) {
		man <<= 1;
		e--;
	}
	return u2f(sign | e << 23 | (man & 0x3ff) << 13);
}

/* quant_f32_to_fp16 - float to binary16, nearest even */
uint16_t
quant_f32_to_fp16(float f)
{
	uint32_t x = f2u(f);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t m, r, rem, half;
	int shift;

	x &= 0x7fffffff;
	if (x > 0x7f800000)		/* NaN: quiet, top payload bits */
		return sign | 0x7e00 | ((x >> 13) & 0x3ff);
	if (x >= 0x477ff000)		/* >= 65520 rounds to infinity */
		return sign | 0x7c00;
	if (x >= 0x38800000) {		/* normal in binary16 */
		r = x + 0xfff + ((x >> 13) & 1);
		return sign | (uint16_t)((r >> 13) - (112 << 10));
	}
	if (x <= 0x33000000)		/* <= 2^-25: the tie goes to 0 */
		return sign;
	/* subnormal result: value / 2^-24 = m * 2^(e - 126) */
	m = (x & 0x7fffff) | 0x800000;
	shift = 126 - (int)(x >> 23);
	r = m >> shift;
	rem = m & ((1u << shift) - 1);
	half = 1u << (shift - 1);
	if (rem > half || (rem == half && (r & 1)))
		r++;
	return sign | (uint16_t)r;
}

/* quant_bf16_to_f32 - bfloat16 to float */
float
quant_bf16_to_f32(uint16_t h)
{
	return u2f((uint32_t)h << 16);
}

/* quant_f32_to_bf16 - float to bfloat16 as ggml_compute_fp32_to_bf16 */
uint16_t
quant_f32_to_bf16(float f)
{
	uint32_t u = f2u(f);

	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 64);
	return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

/* quant_type_valid - does t have a row */
int
quant_type_valid(enum dtype t)
{
	return dtype_traits(t) != NULL;
}

/* quant_type_name - short lower-case name */
const char *
quant_type_name(enum dtype t)
{
	const struct dtype_traits *tr = dtype_traits(t);

	return tr != NULL ? tr->name : "?";
}

/* quant_block_size - elements per block */
int64_t
quant_block_size(enum dtype t)
{
	const struct dtype_traits *tr = dtype_traits(t);

	return tr != NULL ? tr->blck_size : 0;
}

/* quant_type_size - bytes per block */
size_t
quant_type_size(enum dtype t)
{
	const struct dtype_traits *tr = dtype_traits(t);

	return tr != NULL ? tr->type_size : 0;
}

/* quant_row_size - bytes per row of n elements */
size_t
quant_row_size(enum dtype t, int64_t n)
{
	const struct dtype_traits *tr = dtype_traits(t);

	if (tr == NULL || n < 0 || n % tr->blck_size != 0)
		return 0;
	return (size_t)(n / tr->blck_size) * tr->type_size;
}

/* get_scale_min_k4 - GGML's unpacking of the 6-bit Q4_K scales and mins */
static void
get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
	if (j < 4) {
		*d = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
	}
}

/* quant_to_float_f32 - a copy */
void
quant_to_float_f32(const void *src, float *dst, int64_t n)
{
	memcpy(dst, src, (size_t)n * sizeof(float));
}

/* quant_to_float_f16 - ggml_fp16_to_fp32_row */
void
quant_to_float_f16(const void *src, float *dst, int64_t n)
{
	const uint16_t *h = src;

	for (int64_t i = 0; i < n; i++)
		dst[i] = quant_fp16_to_f32(h[i]);
}

/* quant_to_float_bf16 - ggml_bf16_to_fp32_row */
void
quant_to_float_bf16(const void *src, float *dst, int64_t n)
{
	const uint16_t *h = src;

	for (int64_t i = 0; i < n; i++)
		dst[i] = quant_bf16_to_f32(h[i]);
}

/* quant_to_float_q8_0 - dequantize_row_q8_0 */
void
quant_to_float_q8_0(const void *src, float *y, int64_t n)
{
	const struct dtype_block_q8_0 *x = src;

	for (int64_t i = 0; i < n / DTYPE_QK8_0; i++) {
		const float d = quant_fp16_to_f32(x[i].d);

		for (int j = 0; j < DTYPE_QK8_0; j++)
			y[i * DTYPE_QK8_0 + j] = x[i].qs[j] * d;
	}
}

/* quant_to_float_q4_0 - dequantize_row_q4_0 */
void
quant_to_float_q4_0(const void *src, float *y, int64_t n)
{
	const struct dtype_block_q4_0 *x = src;
	const int qk = DTYPE_QK4_0;

	for (int64_t i = 0; i < n / qk; i++) {
		const float d = quant_fp16_to_f32(x[i].d);

		for (int j = 0; j < qk / 2; j++) {
			const int x0 = (x[i].qs[j] & 0x0F) - 8;
			const int x1 = (x[i].qs[j] >> 4) - 8;

			y[i * qk + j] = x0 * d;
			y[i * qk + j + qk / 2] = x1 * d;
		}
	}
}

/* quant_to_float_q4_k - dequantize_row_q4_K */
void
quant_to_float_q4_k(const void *src, float *y, int64_t n)
{
	const struct dtype_block_q4_k *x = src;

	for (int64_t i = 0; i < n / DTYPE_QK_K; i++) {
		const uint8_t *q = x[i].qs;
		const float d = quant_fp16_to_f32(x[i].d);
		const float min = quant_fp16_to_f32(x[i].dmin);
		int is = 0;
		uint8_t sc, m;

		for (int j = 0; j < DTYPE_QK_K; j += 64) {
			get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
			const float d1 = d * sc;
			const float m1 = min * m;
			get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
			const float d2 = d * sc;
			const float m2 = min * m;
			for (int l = 0; l < 32; l++)
				*y++ = d1 * (q[l] & 0xF) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * (q[l] >> 4) - m2;
			q += 32;
			is += 2;
		}
	}
}

/* quant_dequantize_row - any supported row to float */
int
quant_dequantize_row(enum dtype t, const void *src, float *dst, int64_t n)
{
	const struct dtype_traits *tr = dtype_traits(t);

	if (tr == NULL || (quant_row_size(t, n) == 0 && n != 0))
		return -1;
	tr->to_float(src, dst, n);
	return 0;
}

/* quant_from_float_f32 - a copy */
void
quant_from_float_f32(const float *src, void *dst, int64_t n)
{
	memcpy(dst, src, (size_t)n * sizeof(float));
}

/* quant_from_float_f16 - ggml_fp32_to_fp16_row, nearest even */
void
quant_from_float_f16(const float *src, void *dst, int64_t n)
{
	uint16_t *h = dst;

	for (int64_t i = 0; i < n; i++)
		h[i] = quant_f32_to_fp16(src[i]);
}

/* quant_from_float_bf16 - ggml_fp32_to_bf16_row */
void
quant_from_float_bf16(const float *src, void *dst, int64_t n)
{
	uint16_t *h = dst;

	for (int64_t i = 0; i < n; i++)
		h[i] = quant_f32_to_bf16(src[i]);
}

/* quant_from_float_q8_0 - quantize_row_q8_0_ref */
void
quant_from_float_q8_0(const float *x, void *dst, int64_t n)
{
	struct dtype_block_q8_0 *y = dst;

	for (int64_t i = 0; i < n / DTYPE_QK8_0; i++) {
		float amax = 0.0f;

		for (int j = 0; j < DTYPE_QK8_0; j++) {
			const float v = x[i * DTYPE_QK8_0 + j];

			amax = fmaxf(amax, fabsf(v));
		}
		const float d = amax / ((1 << 7) - 1);
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = quant_f32_to_fp16(d);
		for (int j = 0; j < DTYPE_QK8_0; j++) {
			const float x0 = x[i * DTYPE_QK8_0 + j] * id;

			y[i].qs[j] = (int8_t)roundf(x0);
		}
	}
}

/* quant_from_float_q4_0 - quantize_row_q4_0_ref */
void
quant_from_float_q4_0(const float *x, void *dst, int64_t n)
{
	struct dtype_block_q4_0 *y = dst;
	const int qk = DTYPE_QK4_0;

	for (int64_t i = 0; i < n / qk; i++) {
		float amax = 0.0f, max = 0.0f;

		for (int j = 0; j < qk; j++) {
			const float v = x[i * qk + j];

			if (amax < fabsf(v)) {
				amax = fabsf(v);
				max = v;
			}
		}
		const float d = max / -8;
		const float id = d ? 1.0f / d : 0.0f;

		y[i].d = quant_f32_to_fp16(d);
		for (int j = 0; j < qk / 2; j++) {
			const float x0 = x[i * qk + 0 + j] * id;
			const float x1 = x[i * qk + qk / 2 + j] * id;
			int xi0 = (int8_t)(x0 + 8.5f);
			int xi1 = (int8_t)(x1 + 8.5f);

			xi0 = xi0 < 15 ? xi0 : 15;
			xi1 = xi1 < 15 ? xi1 : 15;
			y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
		}
	}
}

/* quant_quantize_row - float row to type t */
int
quant_quantize_row(enum dtype t, const float *src, void *dst, int64_t n)
{
	const struct dtype_traits *tr = dtype_traits(t);

	if (tr == NULL || (quant_row_size(t, n) == 0 && n != 0) ||
	    tr->from_float == NULL)
		return -1;
	tr->from_float(src, dst, n);
	return 0;
}

/* quant_q8_act_size - bytes of the activation format for n elements */
size_t
quant_q8_act_size(int64_t n)
{
	size_t nb = (size_t)(n / DTYPE_QK8_0);

	return nb * sizeof(struct dtype_block_q8_0) + 2 * nb * sizeof(float);
}

/* quant_q8_act - block sums, block scales, then Q8_0 blocks */
void
quant_q8_act(const float *x, void *dst, int64_t n)
{
	int64_t nb = n / DTYPE_QK8_0;
	float *sum = dst, *d = sum + nb;
	struct dtype_block_q8_0 *b = (struct dtype_block_q8_0 *)(d + nb);

	quant_from_float_q8_0(x, b, n);
	for (int64_t i = 0; i < nb; i++) {
		int s = 0;

		for (int j = 0; j < DTYPE_QK8_0; j++)
			s += b[i].qs[j];
		d[i] = quant_fp16_to_f32(b[i].d);
		sum[i] = d[i] * (float)s;
	}
}
