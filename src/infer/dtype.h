/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtype - the tensor element types radscribe reads from GGUF files, and
 * their traits table (as ggml's type_traits): one row per type with its
 * names, block geometry, reference row conversions and the dot and
 * dequantise kernels of each kernel family.  The GGUF reader, quant.c,
 * tensor.c and weights.c look types up here and nowhere else.  The table is
 * constant data: no state, no allocation, any thread may read it.
 */
#ifndef RS_DTYPE_H
#define RS_DTYPE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The types with a row of kernels in dtype.c.  Values are GGML's type ids
 * as stored in GGUF tensor infos; block layouts are GGML's (a model
 * converted for llama.cpp loads unchanged).
 */
enum dtype {
	DTYPE_F32	= 0,
	DTYPE_F16	= 1,
	DTYPE_Q4_0	= 2,
	DTYPE_Q8_0	= 8,
	DTYPE_Q4_K	= 12,
	DTYPE_BF16	= 30
};

#define DTYPE_N_GGML	40	/* GGML ids 0..39 that dtype_name knows */
#define DTYPE_N_ISA	2	/* kernel families: enum tensor_isa */

#define DTYPE_QK4_0	32	/* elements per Q4_0 block */
#define DTYPE_QK8_0	32	/* elements per Q8_0 block */
#define DTYPE_QK_K	256	/* elements per K-quant super-block */
#define DTYPE_K_SCALE_SIZE 12

/* Q4_0: d * (q - 8), q in 0..15; low nibbles are elements 0..15, high 16..31. */
struct dtype_block_q4_0 {
	uint16_t	d;			/* fp16 */
	uint8_t		qs[DTYPE_QK4_0 / 2];
};

/* Q8_0: d * q, q in -128..127. */
struct dtype_block_q8_0 {
	uint16_t	d;			/* fp16 */
	int8_t		qs[DTYPE_QK8_0];
};

/* Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in scales[]. */
struct dtype_block_q4_k {
	uint16_t	d;			/* fp16 super-block scale of scales */
	uint16_t	dmin;			/* fp16 super-block scale of mins */
	uint8_t		scales[DTYPE_K_SCALE_SIZE];
	uint8_t		qs[DTYPE_QK_K / 2];
};

/*
 * Row kernels.  n is the row's element count, a multiple of the type's
 * block size; src, dst, w and x are caller-owned and must not overlap.
 * to_float writes n floats to dst, from_float writes n elements' blocks.
 * A dot kernel returns row w dotted with x, x being n floats, or for a
 * q8_act type the activation format of quant.h (quant_q8_act).
 */
typedef void	(*dtype_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void	(*dtype_from_float_fn)(const float *src, void *dst, int64_t n);
typedef float	(*dtype_dot_fn)(const void *w, const void *x, int64_t n);

/*
 * One type.  dot[] and deq[] are indexed by enum tensor_isa (tensor.h
 * picks the family once per process): [0] is the portable C kernel and is
 * always set; a NULL entry for another family means that family runs the
 * portable kernel.
 */
struct dtype_traits {
	const char	*name;		/* GGML's: "f32", "q4_K" */
	const char	*gguf_name;	/* GGUF's: "F32", "Q4_K" */
	int64_t		 blck_size;	/* elements per block */
	size_t		 type_size;	/* bytes per block */
	int		 q8_act;	/* dot takes Q8_0 activations */
	/* GGML's dequantize_row_* bit for bit (quant.c) */
	dtype_to_float_fn to_float;
	/* GGML's quantize_row_*_ref bit for bit; NULL: none (Q4_K) */
	dtype_from_float_fn from_float;
	dtype_dot_fn	 dot[DTYPE_N_ISA];	/* tensor_matvec's row kernel */
	/* tensor_matmul's row dequantiser, bit-identical to to_float */
	dtype_to_float_fn deq[DTYPE_N_ISA];
};

/*
 * dtype_traits - the row of type t, or NULL when radscribe has no kernels
 * for t (any other GGML id, or a value that is no GGML id: t may come
 * straight from a file).  The row is static and constant (never free it);
 * any thread may call this.
 */
const struct dtype_traits *dtype_traits(enum dtype t);

/*
 * dtype_name - GGUF's name of any GGML type id ("F32", "Q5_0", "BF16"),
 * with or without a row here; "?" for a value GGML does not define.
 * Returns a static string; any thread may call this.
 */
const char *dtype_name(enum dtype t);

#endif
