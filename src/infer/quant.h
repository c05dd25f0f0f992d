/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quant - element conversions for the GGML storage types: fp16 and bf16 to
 * and from f32, row sizes, and the reference row kernels of the traits
 * table (dtype.h): exact (GGML-identical) dequantisation of each type and
 * GGML's reference quantisers.  Pure functions on caller-owned buffers: no
 * allocation, no global state, callable from any thread.  This is the
 * portable reference; tensor.c holds the dot and SIMD kernels.
 */
#ifndef RS_QUANT_H
#define RS_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "infer/dtype.h"

/*
 * quant_fp16_to_f32 - IEEE binary16 bits to float.  Exact for every one of
 * the 65536 patterns: subnormals are normalised, infinities kept, and a NaN
 * stays a NaN with its payload shifted into the high mantissa bits.
 */
float	quant_fp16_to_f32(uint16_t h);

/*
 * quant_f32_to_fp16 - float to binary16 bits, rounding to nearest, ties to
 * even (what F16C's vcvtps2ph with imm 0 and GGML do).  Values at or above
 * 65520 in magnitude become infinity; a NaN becomes a quiet NaN that keeps
 * the top 9 payload bits (as F16C does).
 */
uint16_t quant_f32_to_fp16(float f);

/* quant_bf16_to_f32 - bfloat16 bits to float (exact: a 16-bit shift). */
float	quant_bf16_to_f32(uint16_t h);

/*
 * quant_f32_to_bf16 - float to bfloat16 bits exactly as GGML's
 * ggml_compute_fp32_to_bf16: round to nearest even; a NaN is truncated and
 * forced quiet (bit 6 set).
 */
uint16_t quant_f32_to_bf16(float f);

/*
 * The functions below read the traits table (dtype.h); a type without a
 * row there is "unknown".
 */

/* quant_type_valid - 1 if t has a row in the traits table, else 0. */
int	quant_type_valid(enum dtype t);

/*
 * quant_type_name - the row's GGML name ("f32", "f16", "bf16", "q8_0",
 * "q4_0", "q4_K"), or "?" for an unknown type.  Returns a static string.
 */
const char *quant_type_name(enum dtype t);

/*
 * quant_block_size - elements per block of t: 1 for F32/F16/BF16, 32 for
 * Q8_0 and Q4_0, 256 for Q4_K; 0 for an unknown type.
 */
int64_t	quant_block_size(enum dtype t);

/*
 * quant_type_size - bytes per block of t (4, 2, 2, 34, 18, 144); 0 for an
 * unknown type.
 */
size_t	quant_type_size(enum dtype t);

/*
 * quant_row_size - bytes of a row of n elements of type t, or 0 when t is
 * unknown, n < 0, or n is not a multiple of quant_block_size(t).
 */
size_t	quant_row_size(enum dtype t, int64_t n);

/*
 * quant_dequantize_row - convert n elements of type t at src to float at
 * dst (OUT) with the row's to_float (GGML's dequantize_row_* arithmetic,
 * so results are bit-identical to llama.cpp's).  n must be a multiple of
 * the block size.  Returns 0, or -1 (dst untouched) for an unknown type or
 * a bad n.
 */
int	quant_dequantize_row(enum dtype t, const void *src, float *dst,
	    int64_t n);

/*
 * quant_quantize_row - convert n floats at src to type t at dst with the
 * row's from_float: F32 is a copy, F16 and BF16 round as above, Q8_0 and
 * Q4_0 use GGML's reference quantisers (quantize_row_q8_0_ref,
 * quantize_row_q4_0_ref) bit for bit.  A type without one (Q4_K) returns
 * -1.  dst must hold quant_row_size(t, n) bytes.  Returns 0 or -1.
 */
int	quant_quantize_row(enum dtype t, const float *src, void *dst,
	    int64_t n);

/*
 * The reference row kernels the traits table points to (to_float,
 * from_float, and the portable deq), with dtype.h's row kernel contract;
 * callers go through the table or the two functions above.
 */
void	quant_to_float_f32(const void *src, float *dst, int64_t n);
void	quant_to_float_f16(const void *src, float *dst, int64_t n);
void	quant_to_float_bf16(const void *src, float *dst, int64_t n);
void	quant_to_float_q8_0(const void *src, float *dst, int64_t n);
void	quant_to_float_q4_0(const void *src, float *dst, int64_t n);
void	quant_to_float_q4_k(const void *src, float *dst, int64_t n);
void	quant_from_float_f32(const float *src, void *dst, int64_t n);
void	quant_from_float_f16(const float *src, void *dst, int64_t n);
void	quant_from_float_bf16(const float *src, void *dst, int64_t n);
void	quant_from_float_q8_0(const float *src, void *dst, int64_t n);
void	quant_from_float_q4_0(const float *src, void *dst, int64_t n);

/*
 * The activation format of the integer kernels, for n a multiple of 32:
 * nb = n/32 floats sum[b] = d_b * (sum of the 32 quants of block b), nb
 * floats d[b] (the block scales, widened, so kernels load 8 at once), then
 * nb Q8_0 blocks (packed, 34 bytes each).  Q4_0 and Q4_K need the block
 * sums for their offsets and minima.
 */

/* quant_q8_act_size - bytes that quant_q8_act needs for n elements. */
size_t	quant_q8_act_size(int64_t n);

/*
 * quant_q8_act - quantise n floats (n a multiple of 32) into the activation
 * format at dst (OUT) (quant_q8_act_size(n) bytes, 4-byte aligned).
 * The Q8_0 blocks equal quantize_row_q8_0_ref's output.
 */
void	quant_q8_act(const float *x, void *dst, int64_t n);

#endif
