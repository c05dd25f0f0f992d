/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * weights - model tensors from a GGUF file, checked against the shapes the
 * graph expects.  Matrices stay in the mapping (struct tensor views, never
 * copied); 1-D tensors (norms, biases, embeddings of one row) are converted
 * to float once, into memory the struct weights owns.  Load time only.
 */
#ifndef RS_WEIGHTS_H
#define RS_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "infer/gguf.h"
#include "infer/tensor.h"

struct weights;

/* weights_new - bound to g (borrowed: g must outlive every view). */
struct weights *weights_new(const struct gguf *g);
/* weights_free - frees the float vectors; views into g stay valid. */
void	weights_free(struct weights *w);

/*
 * weights_matrix - view of the 2-D tensor name with ne0 elements per row and
 * ne1 rows (-1: any).  A tensor with more dimensions is flattened into rows
 * of ne[0] * ... * ne[n-2] elements (the patch embedding).  Returns 0, or
 * -1 with "tensor 'name': ..." in err; optional tensors that are absent
 * give 1 and leave *t zeroed.
 */
int	weights_matrix(struct weights *w, const char *name, int64_t ne0,
	    int64_t ne1, int optional, struct tensor *t /* OUT */, char *err,
	    size_t errsz);
/*
 * weights_vector - the n-element tensor name as floats owned by w (valid
 * until weights_free).  NULL with err set; NULL and err[0] == '\0' when an
 * optional tensor is absent.
 */
float	*weights_vector(struct weights *w, const char *name, int64_t n,
	    int optional, char *err, size_t errsz);
/*
 * weights_lora - merge a LoRA pair from adapter into t, if adapter holds
 * "<name>.lora_a" (rank x in) and "<name>.lora_b" (out x rank):
 * W' = W + s * B A with s = scale * alpha / rank (scale when alpha is 0,
 * as llama.cpp), computed in float and stored in t's type, or in Q8_0
 * when the traits table has no quantiser for it (Q4_K), in memory w owns;
 * t then points there.  1 merged, 0 no pair for name, -1 bad shapes or
 * types (err set).
 */
int	weights_lora(struct weights *w, const struct gguf *adapter,
	    const char *name, float scale, float alpha, struct tensor *t,
	    char *err, size_t errsz);
/*
 * weights_to_f32 - replace t by a float copy that w owns (for weights that
 * every call would otherwise dequantise again: the vision tower).  0, or
 * -1 when out of memory (t unchanged).  F32 views are left as they are.
 */
int	weights_to_f32(struct weights *w, struct tensor *t);
/*
 * weights_key_u32 / weights_key_f32 - a model hyperparameter: 0 and *out
 * set; 1 when absent and optional (*out untouched); -1 with "missing key
 * 'K'", "key 'K': wrong type" or (u32) "value out of range" (not in
 * 1..max) in err.
 */
int	weights_key_u32(const struct gguf *g, const char *key, uint32_t max,
	    int optional, int *out /* OUT */, char *err, size_t errsz);
int	weights_key_f32(const struct gguf *g, const char *key, int optional,
	    float *out /* OUT */, char *err, size_t errsz);
/* weights_falloc - n floats, 64-byte aligned, for scratch; free() them. */
float	*weights_falloc(size_t n);
/* weights_row - dequantise row r of t into out (t->ne0 floats). */
void	weights_row(const struct tensor *t, int64_t r, float *out);

#endif
