/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tensor - matrix-vector and matrix-matrix products on weights in their
 * stored GGML type.  Batch-1 products run hand-written kernels (AVX2+FMA+F16C
 * chosen at run time, or a portable C path; found through the traits table
 * of dtype.h) split over a pool; products with several rows go to OpenBLAS
 * cblas_sgemm.  A naive reference checks both.
 * Never allocates: scratch comes from the pool (pool_reserve) or the caller.
 * Called by the inference thread that drives the pool.
 */
#ifndef RS_TENSOR_H
#define RS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "infer/dtype.h"

struct pool;

/*
 * A borrowed view of a 2-D weight: ne1 rows of ne0 elements each, row r
 * starting at (const char *)data + r * row_bytes.  The view owns nothing;
 * data (typically in the mmap'd GGUF) must outlive its use.  data and
 * row_bytes must be multiples of 2 (of 4 for F32), which GGUF's 32-byte
 * tensor alignment guarantees; the SIMD kernels need nothing more.
 */
struct tensor {
	enum dtype	 type;
	int64_t		 ne0;		/* elements per row */
	int64_t		 ne1;		/* rows */
	const void	*data;
	size_t		 row_bytes;	/* stride between rows */
};

/*
 * The kernel families; tensor_set_isa picks one for the whole process.  The
 * values index the dot[] and deq[] kernels of the traits table (dtype.h).
 */
enum tensor_isa {
	TENSOR_ISA_PORTABLE = 0,	/* plain C, always available */
	TENSOR_ISA_AVX2 = 1		/* AVX2 + FMA + F16C */
};

/* 1 where the AVX2 kernels are compiled (x86-64 with GCC or clang). */
#if defined(__x86_64__) && defined(__GNUC__)
#define TENSOR_HAVE_AVX2 1
#else
#define TENSOR_HAVE_AVX2 0
#endif

/*
 * tensor_view - fill *t (OUT) for a dense row-major weight of type type with
 * ne1 rows of ne0 elements at data, row_bytes = quant_row_size(type, ne0).
 * Returns 0, or -1 when the type is unknown, a dimension is < 1, or ne0 is
 * not a multiple of the type's block size.
 */
int	tensor_view(struct tensor *t, enum dtype type, int64_t ne0, int64_t ne1,
	    const void *data);

/*
 * tensor_isa_best - the best kernel family this CPU runs (cpuid at run
 * time; the build itself stays generic).
 */
enum tensor_isa tensor_isa_best(void);

/*
 * tensor_get_isa - the family in use: tensor_set_isa's choice, else the
 * environment variable RADSCRIBE_KERNELS ("portable" or "avx2", when the
 * CPU has it), else tensor_isa_best().
 */
enum tensor_isa tensor_get_isa(void);

/*
 * tensor_set_isa - use family isa from now on (process-wide; tests use it to
 * cover both paths).  Returns 0, or -1 if this CPU cannot run it.  Do not
 * call while a product is running.
 */
int	tensor_set_isa(enum tensor_isa isa);

/* tensor_isa_name - "portable" or "avx2"; a static string. */
const char *tensor_isa_name(enum tensor_isa isa);

/*
 * tensor_matvec_scratch_size - bytes of pool scratch that tensor_matvec
 * needs for rows of ne0 elements of type type: the Q8_0-quantised copy of x
 * for Q8_0, Q4_0 and Q4_K (1.3125 bytes per element), 0 for float
 * types.  Reserve the maximum over the model with pool_reserve at load.
 */
size_t	tensor_matvec_scratch_size(enum dtype type, int64_t ne0);

/*
 * tensor_matvec - y[r] = dot(row r of W, x) for r in 0 .. ne1 - 1, x having
 * ne0 floats and y (OUT) ne1 floats (y must not overlap x or W).  F32, F16
 * and BF16 rows are converted on the fly and multiplied in float.  For Q8_0,
 * Q4_0 and Q4_K, x is first quantised to Q8_0 blocks (GGML's
 * quantize_row_q8_0_ref, one scale per 32 elements, also for Q4_K) in the
 * pool's scratch, and the products are integer per block, as llama.cpp
 * does; the result then carries x's quantisation error (about
 * amax(block)/254 per element).  Rows are split over the pool's threads.
 * Aborts (a broken contract) if the pool's scratch is smaller than
 * tensor_matvec_scratch_size.  No allocation.
 */
void	tensor_matvec(const struct tensor *W, const float *x, float *y,
	    struct pool *p);

/*
 * tensor_matvec_ref - the naive reference for tests: each row dequantised
 * with quant_dequantize_row and dotted with x in double, rounded once to
 * float into y (OUT).  Single-threaded, slow, no allocation.
 */
void	tensor_matvec_ref(const struct tensor *W, const float *x, float *y);

/*
 * tensor_quantize_act - quantise n floats (n a multiple of 32) into the
 * activation format of quant.h (quant_q8_act) with the current kernel
 * family; the output is bit-identical on every family.
 */
void	tensor_quantize_act(const float *x, void *dst, int64_t n);

/*
 * tensor_matmul_scratch_size - bytes of scratch tensor_matmul needs for W:
 * 0 for F32 (mmap'd weights go to sgemm as they are), otherwise a block of
 * dequantised rows (at most about 8 MiB, or 64 rows).  Allocate it once per
 * model (the maximum over its weights); 64-byte alignment is best.
 */
size_t	tensor_matmul_scratch_size(const struct tensor *W);

/*
 * tensor_matmul - Y (OUT, n x ne1, row-major) = X (n x ne0, row-major) W^T.
 * F32 weights go straight to cblas_sgemm (RowMajor, NoTrans, Trans); other
 * types are dequantised (bit-identical to quant_dequantize_row) a block of
 * rows at a time into scratch, over the pool's threads, and each block goes
 * to cblas_sgemm.  n == 1, and n < 4 for non-F32 types, run tensor_matvec
 * once per row of X instead (so quantised types then see Q8_0 activations).
 * scratch must hold tensor_matmul_scratch_size(W) bytes (NULL for F32).
 * OpenBLAS's threads do the sgemm (pool_set_blas_threads); meanwhile the
 * pool's workers sleep (spin 0, restored on return) so they do not compete
 * with OpenBLAS for the cores.  No allocation.
 */
void	tensor_matmul(const struct tensor *W, const float *X, int64_t n,
	    float *Y, float *scratch, struct pool *p);

/*
 * The kernels the traits table points to (dtype.h's row kernel contract);
 * callers use tensor_matvec and tensor_matmul, which pick them by type and
 * family.  Dot kernels of Q8_0, Q4_0 and Q4_K take the activation format
 * of quant.h.  The _avx2 kernels exist when TENSOR_HAVE_AVX2 is 1 and must
 * only run where tensor_isa_best() is TENSOR_ISA_AVX2.  Portable
 * dequantisers are quant.c's to_float kernels.  No state, any thread.
 */
float	tensor_dot_f32_c(const void *w, const void *x, int64_t n);
float	tensor_dot_f16_c(const void *w, const void *x, int64_t n);
float	tensor_dot_bf16_c(const void *w, const void *x, int64_t n);
float	tensor_dot_q8_0_c(const void *w, const void *x, int64_t n);
float	tensor_dot_q4_0_c(const void *w, const void *x, int64_t n);
float	tensor_dot_q4_k_c(const void *w, const void *x, int64_t n);
#if TENSOR_HAVE_AVX2
float	tensor_dot_f32_avx2(const void *w, const void *x, int64_t n);
float	tensor_dot_f16_avx2(const void *w, const void *x, int64_t n);
float	tensor_dot_bf16_avx2(const void *w, const void *x, int64_t n);
float	tensor_dot_q8_0_avx2(const void *w, const void *x, int64_t n);
float	tensor_dot_q4_0_avx2(const void *w, const void *x, int64_t n);
float	tensor_dot_q4_k_avx2(const void *w, const void *x, int64_t n);
void	tensor_deq_f16_avx2(const void *w, float *y, int64_t n);
void	tensor_deq_bf16_avx2(const void *w, float *y, int64_t n);
void	tensor_deq_q8_0_avx2(const void *w, float *y, int64_t n);
void	tensor_deq_q4_0_avx2(const void *w, float *y, int64_t n);
void	tensor_deq_q4_k_avx2(const void *w, float *y, int64_t n);
#endif

#endif
