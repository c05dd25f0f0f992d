/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtype - the tensor type traits table: one row per GGML type id.  A row
 * with kernels is a type radscribe runs; the other GGML ids carry only the
 * name that error messages print.  Constant data, read by any thread; the
 * kernels live in quant.c (reference conversions) and tensor.c (dot and
 * SIMD kernels).
 */
#include <stddef.h>

#include "infer/dtype.h"
#include "infer/quant.h"
#include "infer/tensor.h"

_Static_assert(TENSOR_ISA_PORTABLE == 0 && TENSOR_ISA_AVX2 + 1 == DTYPE_N_ISA,
    "struct dtype_traits has one kernel slot per enum tensor_isa value");

/* An AVX2 kernel, where this build has them. */
#if TENSOR_HAVE_AVX2
#define AVX2(f)	f
#else
#define AVX2(f)	NULL
#endif

/*
 * To add a type: give it an enum dtype value and its block struct
 * (dtype.h), fill in its row below, and write its kernels: to_float and
 * from_float in quant.c, a portable dot in tensor.c, SIMD ones if wanted.
 * tests/unit/test_quant.c and test_tensor.c check every row.
 */
static const struct dtype_traits table[DTYPE_N_GGML] = {
	[DTYPE_F32] = {
		.name = "f32", .gguf_name = "F32",
		.blck_size = 1, .type_size = sizeof(float),
		.to_float = quant_to_float_f32,
		.from_float = quant_from_float_f32,
		.dot = { tensor_dot_f32_c, AVX2(tensor_dot_f32_avx2) },
		/* never used: tensor_matmul hands F32 rows to sgemm */
		.deq = { quant_to_float_f32, NULL },
	},
	[DTYPE_F16] = {
		.name = "f16", .gguf_name = "F16",
		.blck_size = 1, .type_size = sizeof(uint16_t),
		.to_float = quant_to_float_f16,
		.from_float = quant_from_float_f16,
		.dot = { tensor_dot_f16_c, AVX2(tensor_dot_f16_avx2) },
		.deq = { quant_to_float_f16, AVX2(tensor_deq_f16_avx2) },
	},
	[DTYPE_Q4_0] = {
		.name = "q4_0", .gguf_name = "Q4_0",
		.blck_size = DTYPE_QK4_0,
		.type_size = sizeof(struct dtype_block_q4_0),
		.q8_act = 1,
		.to_float = quant_to_float_q4_0,
		.from_float = quant_from_float_q4_0,
		.dot = { tensor_dot_q4_0_c, AVX2(tensor_dot_q4_0_avx2) },
		.deq = { quant_to_float_q4_0, AVX2(tensor_deq_q4_0_avx2) },
	},
	[3] = { .gguf_name = "Q4_1" },
	[4] = { .gguf_name = "Q4_2" },
	[5] = { .gguf_name = "Q4_3" },
	[6] = { .gguf_name = "Q5_0" },
	[7] = { .gguf_name = "Q5_1" },
	[DTYPE_Q8_0] = {
		.name = "q8_0", .gguf_name = "Q8_0",
		.blck_size = DTYPE_QK8_0,
		.type_size = sizeof(struct dtype_block_q8_0),
		.q8_act = 1,
		.to_float = quant_to_float_q8_0,
		.from_float = quant_from_float_q8_0,
		.dot = { tensor_dot_q8_0_c, AVX2(tensor_dot_q8_0_avx2) },
		.deq = { quant_to_float_q8_0, AVX2(tensor_deq_q8_0_avx2) },
	},
	[9] = { .gguf_name = "Q8_1" },
	[10] = { .gguf_name = "Q2_K" },
	[11] = { .gguf_name = "Q3_K" },
	[DTYPE_Q4_K] = {
		.name = "q4_K", .gguf_name = "Q4_K",
		.blck_size = DTYPE_QK_K,
		.type_size = sizeof(struct dtype_block_q4_k),
		.q8_act = 1,
		.to_float = quant_to_float_q4_k,
		.from_float = NULL,	/* weights_lora stores Q8_0 instead */
		.dot = { tensor_dot_q4_k_c, AVX2(tensor_dot_q4_k_avx2) },
		.deq = { quant_to_float_q4_k, AVX2(tensor_deq_q4_k_avx2) },
	},
	[13] = { .gguf_name = "Q5_K" },
	[14] = { .gguf_name = "Q6_K" },
	[15] = { .gguf_name = "Q8_K" },
	[16] = { .gguf_name = "IQ2_XXS" },
	[17] = { .gguf_name = "IQ2_XS" },
	[18] = { .gguf_name = "IQ3_XXS" },
	[19] = { .gguf_name = "IQ1_S" },
	[20] = { .gguf_name = "IQ4_NL" },
	[21] = { .gguf_name = "IQ3_S" },
	[22] = { .gguf_name = "IQ2_S" },
	[23] = { .gguf_name = "IQ4_XS" },
	[24] = { .gguf_name = "I8" },
	[25] = { .gguf_name = "I16" },
	[26] = { .gguf_name = "I32" },
	[27] = { .gguf_name = "I64" },
	[28] = { .gguf_name = "F64" },
	[29] = { .gguf_name = "IQ1_M" },
	[DTYPE_BF16] = {
		.name = "bf16", .gguf_name = "BF16",
		.blck_size = 1, .type_size = sizeof(uint16_t),
		.to_float = quant_to_float_bf16,
		.from_float = quant_from_float_bf16,
		.dot = { tensor_dot_bf16_c, AVX2(tensor_dot_bf16_avx2) },
		.deq = { quant_to_float_bf16, AVX2(tensor_deq_bf16_avx2) },
	},
	[31] = { .gguf_name = "Q4_0_4_4" },
	[32] = { .gguf_name = "Q4_0_4_8" },
	[33] = { .gguf_name = "Q4_0_8_8" },
	[34] = { .gguf_name = "TQ1_0" },
	[35] = { .gguf_name = "TQ2_0" },
	[36] = { .gguf_name = "IQ4_NL_4_4" },
	[37] = { .gguf_name = "IQ4_NL_4_8" },
	[38] = { .gguf_name = "IQ4_NL_8_8" },
	[39] = { .gguf_name = "MXFP4" },
};

/* dtype_traits - the row of a type with kernels */
const struct dtype_traits *
dtype_traits(enum dtype t)
{
	if ((unsigned)t >= DTYPE_N_GGML || table[t].blck_size == 0)
		return NULL;
	return &table[t];
}

/* dtype_name - GGUF's name of any GGML id */
const char *
dtype_name(enum dtype t)
{
	if ((unsigned)t >= DTYPE_N_GGML)
		return "?";
	return table[t].gguf_name;
}
