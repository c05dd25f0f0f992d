/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtype - the tensor element types radscribe reads from GGUF files.  The
 * numeric values are GGML's type ids as stored in GGUF tensor infos; block
 * layouts are GGML's (a model converted for llama.cpp loads unchanged).
 * Plain data; no functions.
 */
#ifndef RS_DTYPE_H
#define RS_DTYPE_H

#include <stdint.h>

enum dtype {
	DTYPE_F32	= 0,
	DTYPE_F16	= 1,
	DTYPE_Q4_0	= 2,
	DTYPE_Q8_0	= 8,
	DTYPE_Q4_K	= 12,
	DTYPE_BF16	= 30
};

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

#endif
