/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * llama - the LLaMA-family decoder: RMSNorm, RoPE on adjacent pairs
 * (llama.cpp's NORM mode) with the file's frequency base, grouped-query
 * attention, SwiGLU, tied or separate output matrix.  Weights stay in the
 * mmap'd GGUF; all scratch is allocated by llama_load, so evaluation does
 * not allocate.  One thread drives a model at a time; it computes on the
 * pool it was given.
 */
#ifndef RS_LLAMA_H
#define RS_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "infer/gguf.h"

struct pool;
struct llama;
struct llama_kv;

struct llama_hparams {
	int	n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_rot;
	int	n_ctx_train;
	float	rms_eps, rope_base;
};

/*
 * llama_load - the decoder in g (borrowed: must outlive the model; so must
 * p).  n_ctx is the longest sequence a cache will hold; n_batch the most
 * positions one llama_eval call takes.  NULL with "key/tensor ...: why"
 * in err.
 */
struct llama *llama_load(const struct gguf *g, struct pool *p, int n_ctx,
	    int n_batch, char *err, size_t errsz);
void	llama_free(struct llama *m);
const struct llama_hparams *llama_hparams(const struct llama *m);

/*
 * llama_lora - merge a LoRA adapter in llama.cpp's GGUF format
 * (general.type "adapter", adapter.type "lora", adapter.lora.alpha,
 * "<tensor>.lora_a/.lora_b") into the loaded weights, scaled by scale.
 * adapter may be closed afterwards.  Returns the number of tensors merged,
 * or -1 with err set (wrong file type, a pair for no known tensor, bad
 * shapes); after -1 the model must be freed.  Call before any evaluation.
 */
int	llama_lora(struct llama *m, const struct gguf *adapter, float scale,
	    char *err, size_t errsz);

/* llama_kv_new - an empty cache for m (n_ctx positions).  Free with llama_kv_free. */
struct llama_kv *llama_kv_new(const struct llama *m);
void	llama_kv_free(struct llama_kv *kv);
/* llama_kv_copy - dst takes src's contents (same model); no allocation. */
void	llama_kv_copy(struct llama_kv *dst, const struct llama_kv *src);
int	llama_kv_pos(const struct llama_kv *kv);
void	llama_kv_clear(struct llama_kv *kv);

/* llama_embed - rows of the token embedding for ids into out (n x n_embd). -1 on a bad id. */
int	llama_embed(const struct llama *m, const int32_t *ids, int n, float *out);
/*
 * llama_eval - run n input embeddings (n x n_embd floats, any n; split
 * into n_batch pieces internally) at kv's next positions and append them
 * to kv.  logits (OUT, n_vocab floats, may be NULL) gets the last
 * position's.  0, or -1 when the cache is full.
 */
int	llama_eval(struct llama *m, struct llama_kv *kv, const float *x, int n,
	    float *logits);

#endif
