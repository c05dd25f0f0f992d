/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pipeline - one loaded model pair and everything a request needs: views
 * (8-bit grey) and a prompt in, generated text out.  Owns the GGUF
 * mappings, the thread pool, the encoder, the decoder and the decoding
 * state; one thread uses a pipeline at a time.  Knows nothing of DICOM.
 */
#ifndef RS_PIPELINE_H
#define RS_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "infer/image.h"

struct pipeline;

struct pipeline_config {
	const char	*model;		/* LLM GGUF */
	const char	*mmproj;	/* vision projector GGUF */
	const char	*layout;	/* literal prompt layout, or NULL: the file's template */
	const char	*lora;		/* LoRA adapter GGUF merged at load, or NULL */
	float		 lora_scale;	/* 0: 1.0 */
	int		 max_tokens;	/* new tokens at most */
	int		 beams;		/* 1: greedy */
	int		 threads;
	int		 n_ctx;		/* 0: prompt + image + max_tokens */
};

struct pipeline_stats {
	int32_t		*prompt_ids;	/* borrowed: valid until the next run */
	int		 n_pre, n_post, n_image, n_gen;
	const int32_t	*gen_ids;
	double		 ms_preprocess, ms_encode, ms_prefill, ms_generate;
};

/* pipeline_load - open and check both files; NULL with err set. */
struct pipeline *pipeline_load(const struct pipeline_config *cfg, char *err,
	    size_t errsz);
void	pipeline_free(struct pipeline *p);
/*
 * pipeline_run - views of one study (joined side by side), prompt, into
 * out (OUT, outsz bytes, NUL-terminated).  stats (OUT, may be NULL).
 * 0, or -1 with err set.
 */
int	pipeline_run(struct pipeline *p, const struct image *const *views,
	    int nviews, const char *prompt, char *out, size_t outsz,
	    struct pipeline_stats *stats, char *err, size_t errsz);

/*
 * pipeline_model_str - a string from the LLM file's metadata, e.g.
 * "general.name" or "radscribe.prompt.findings" (borrowed, valid while p
 * lives); NULL when absent.
 */
const char *pipeline_model_str(const struct pipeline *p, const char *key);

/* pipeline_set_max_tokens - new tokens at most for later runs (<= the load-time maximum). */
void	pipeline_set_max_tokens(struct pipeline *p, int n);

/* pipeline_post_ids - the tokens after the image in the last run (borrowed). */
const int32_t *pipeline_post_ids(const struct pipeline *p);

#endif
