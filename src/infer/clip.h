/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clip - the vision tower and projector of an mmproj GGUF (llama.cpp's
 * layout, projector type "mlp"): patch embedding, optional class embedding
 * placed BEFORE the patches as in Hugging Face CLIP, position embedding,
 * pre-LN, pre-norm blocks (quick-GELU, or GELU when clip.use_gelu), the
 * output of clip.vision.feature_layer blocks (block_count - 1 when the key
 * is absent, as llama.cpp), post-LN if present, then Linear-GELU-Linear.
 * Scratch is allocated at load; one thread drives a model at a time.
 */
#ifndef RS_CLIP_H
#define RS_CLIP_H

#include <stddef.h>

#include "infer/gguf.h"

struct pool;
struct clip;

struct clip_hparams {
	int	image_size, patch_size, n_embd, n_ff, n_head, n_layer, depth;
	int	n_patches, n_pos, proj_dim, use_gelu, has_class;
	float	eps, mean[3], std[3];
};

/* clip_load - g and p are borrowed and must outlive the model.  NULL + err. */
struct clip *clip_load(const struct gguf *g, struct pool *p, char *err,
	    size_t errsz);
void	clip_free(struct clip *c);
const struct clip_hparams *clip_hparams(const struct clip *c);
/*
 * clip_encode - pixels (3 x image_size x image_size, planar, normalised)
 * to n_patches x proj_dim image embeddings in out (OUT).  No allocation.
 */
void	clip_encode(struct clip *c, const float *pixels, float *out);

#endif
