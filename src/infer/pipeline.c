/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pipeline - pixels and prompt to text: preprocessing, vision encoder,
 * prompt chunks around the image embeddings, decoding, detokenising.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/clip.h"
#include "infer/gguf.h"
#include "infer/llama.h"
#include "infer/pipeline.h"
#include "infer/pool.h"
#include "infer/prompt.h"
#include "infer/sample.h"
#include "infer/tokenizer.h"

#define MAX_PROMPT_TOKENS 1024

struct pipeline {
	struct pipeline_config	 cfg;
	char			*layout;
	int			 tmpl;
	struct gguf		*gl, *gv;
	struct pool		*pool;
	struct clip		*clip;
	struct llama		*llm;
	struct tokenizer	*tok;
	struct sample		*sample;
	float			*pixels, *prefix;
	int32_t			*pre, *post, *gen;
	int			 max_new;	/* <= cfg.max_tokens */
};

static const uint8_t pad_rgb[3] = { 122, 116, 104 };

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void
pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	sample_free(p->sample);
	llama_free(p->llm);
	clip_free(p->clip);
	tokenizer_free(p->tok);
	pool_free(p->pool);
	gguf_close(p->gl);
	gguf_close(p->gv);
	free(p->layout);
	free(p->pixels);
	free(p->prefix);
	free(p->pre);
	free(p->post);
	free(p->gen);
	free(p);
}

/*
 * aligned - the kernels load F32, F16 and block scales straight from the
 * mapping, so tensor data must be aligned to 4 at least: a legal GGUF
 * with general.alignment 1 or 2 is refused, not read misaligned.
 */
static int
aligned(const struct gguf *g, const char *path, char *err, size_t errsz)
{
	size_t a = gguf_alignment(g);

	if (a % 4 == 0)
		return 0;
	snprintf(err, errsz, "%s: general.alignment %zu: tensor data would be "
	    "misaligned (radscribe needs a multiple of 4; llama.cpp writes 32)",
	    path, a);
	return -1;
}

struct pipeline *
pipeline_load(const struct pipeline_config *cfg, char *err, size_t errsz)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	const struct clip_hparams *ch;
	const struct llama_hparams *lh;
	char msg[512];
	int n_ctx;

	if (p == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	if (cfg->layout != NULL && (p->layout = strdup(cfg->layout)) == NULL)
		goto oom;
	p->cfg.layout = p->layout;
	if (cfg->max_tokens < 1 || cfg->beams < 1 || cfg->beams > 8 ||
	    cfg->threads < 1 || cfg->threads > 256) {
		snprintf(err, errsz, "max_tokens, beams (1..8) or threads out of "
		    "range");
		goto fail;
	}
	if ((p->gl = gguf_open(cfg->model, err, errsz)) == NULL ||
	    (p->gv = gguf_open(cfg->mmproj, err, errsz)) == NULL ||
	    aligned(p->gl, cfg->model, err, errsz) == -1 ||
	    aligned(p->gv, cfg->mmproj, err, errsz) == -1)
		goto fail;
	if ((p->pool = pool_new(cfg->threads)) == NULL)
		goto oom;
	pool_set_blas_threads(cfg->threads);
	if ((p->clip = clip_load(p->gv, p->pool, msg, sizeof(msg))) == NULL) {
		snprintf(err, errsz, "%s: %s", cfg->mmproj, msg);
		goto fail;
	}
	ch = clip_hparams(p->clip);
	n_ctx = cfg->n_ctx > 0 ? cfg->n_ctx :
	    ch->n_patches + 2 * MAX_PROMPT_TOKENS / 8 + cfg->max_tokens + 8;
	if ((p->llm = llama_load(p->gl, p->pool, n_ctx, 512, msg,
	    sizeof(msg))) == NULL) {
		snprintf(err, errsz, "%s: %s", cfg->model, msg);
		goto fail;
	}
	if (cfg->lora != NULL) {
		struct gguf *ga;
		int n;

		if ((ga = gguf_open(cfg->lora, err, errsz)) == NULL)
			goto fail;
		if (aligned(ga, cfg->lora, err, errsz) == -1) {
			gguf_close(ga);
			goto fail;
		}
		n = llama_lora(p->llm, ga, cfg->lora_scale != 0.0f ?
		    cfg->lora_scale : 1.0f, msg, sizeof(msg));
		gguf_close(ga);
		if (n < 0) {
			snprintf(err, errsz, "%s: %s", cfg->lora, msg);
			goto fail;
		}
	}
	lh = llama_hparams(p->llm);
	if (ch->proj_dim != lh->n_embd) {
		snprintf(err, errsz, "%s projects to %d dimensions but %s has "
		    "embedding_length %d: not a pair", cfg->mmproj, ch->proj_dim,
		    cfg->model, lh->n_embd);
		goto fail;
	}
	if ((p->tok = prompt_tokenizer(p->gl, msg, sizeof(msg))) == NULL) {
		snprintf(err, errsz, "%s: %s", cfg->model, msg);
		goto fail;
	}
	if (tokenizer_n_vocab(p->tok) != lh->n_vocab) {
		snprintf(err, errsz, "%s: %d tokens in the vocabulary but %d rows "
		    "in token_embd", cfg->model, tokenizer_n_vocab(p->tok),
		    lh->n_vocab);
		goto fail;
	}
	if (p->layout != NULL)
		p->tmpl = PROMPT_LITERAL;
	else if ((p->tmpl = prompt_detect(p->gl, msg, sizeof(msg))) < 0) {
		snprintf(err, errsz, "%s: %s", cfg->model, msg);
		goto fail;
	}
	if ((p->sample = sample_new(p->llm, cfg->beams, cfg->max_tokens)) == NULL)
		goto oom;
	p->pixels = malloc((size_t)3 * ch->image_size * ch->image_size * sizeof(float));
	p->prefix = malloc((size_t)n_ctx * lh->n_embd * sizeof(float));
	p->pre = malloc(MAX_PROMPT_TOKENS * sizeof(int32_t));
	p->post = malloc(MAX_PROMPT_TOKENS * sizeof(int32_t));
	p->gen = malloc((size_t)cfg->max_tokens * sizeof(int32_t));
	if (!p->pixels || !p->prefix || !p->pre || !p->post || !p->gen)
		goto oom;
	return p;
oom:
	snprintf(err, errsz, "out of memory");
fail:
	pipeline_free(p);
	return NULL;
}

int
pipeline_run(struct pipeline *p, const struct image *const *views, int nviews,
    const char *prompt, char *out, size_t outsz, struct pipeline_stats *st,
    char *err, size_t errsz)
{
	const struct clip_hparams *ch = clip_hparams(p->clip);
	const struct llama_hparams *lh = llama_hparams(p->llm);
	struct image *joined = NULL, *sq = NULL;
	char rendered[4096];
	int npre, npost, ngen, n;
	double t0 = now_ms(), t1, t2, t3;
	int rc = -1;

	if (prompt_render(p->tmpl, p->layout, prompt, rendered,
	    sizeof(rendered)) == -1 ||
	    prompt_tokenize(p->tok, rendered, p->pre, &npre, p->post, &npost,
	    MAX_PROMPT_TOKENS) == -1) {
		snprintf(err, errsz, "prompt too long, or the layout lacks %s",
		    PROMPT_MARKER);
		return -1;
	}
	if ((joined = image_join(views, nviews)) == NULL ||
	    (sq = image_resize_pad(joined, ch->image_size, pad_rgb)) == NULL) {
		snprintf(err, errsz, "cannot prepare the images (no view, or out "
		    "of memory)");
		goto out;
	}
	image_normalize(sq, ch->mean, ch->std, p->pixels);
	t1 = now_ms();
	n = npre + ch->n_patches + npost;
	if (n + p->cfg.max_tokens > p->cfg.n_ctx && p->cfg.n_ctx > 0) {
		snprintf(err, errsz, "prompt and image need %d positions", n);
		goto out;
	}
	if (llama_embed(p->llm, p->pre, npre, p->prefix) == -1 ||
	    llama_embed(p->llm, p->post, npost, p->prefix +
	    (size_t)(npre + ch->n_patches) * lh->n_embd) == -1) {
		snprintf(err, errsz, "prompt token out of range");
		goto out;
	}
	clip_encode(p->clip, p->pixels, p->prefix + (size_t)npre * lh->n_embd);
	t2 = now_ms();
	ngen = sample_run(p->sample, p->tok, p->prefix, n, p->cfg.beams,
	    p->max_new > 0 ? p->max_new : p->cfg.max_tokens, p->gen);
	t3 = now_ms();
	if (ngen < 0) {
		snprintf(err, errsz, "context too short for prompt, image and "
		    "%d new tokens", p->cfg.max_tokens);
		goto out;
	}
	if (tokenizer_decode(p->tok, p->gen, ngen, out, outsz) < 0) {
		snprintf(err, errsz, "generated text does not fit the buffer");
		goto out;
	}
	if (st != NULL) {
		st->prompt_ids = p->pre;
		st->n_pre = npre;
		st->n_post = npost;
		st->n_image = ch->n_patches;
		st->n_gen = ngen;
		st->gen_ids = p->gen;
		st->ms_preprocess = t1 - t0;
		st->ms_encode = t2 - t1;
		st->ms_prefill = 0;
		st->ms_generate = t3 - t2;
	}
	rc = 0;
out:
	image_free(sq);
	image_free(joined);
	return rc;
}

const int32_t *
pipeline_post_ids(const struct pipeline *p)
{
	return p->post;
}

const char *
pipeline_model_str(const struct pipeline *p, const char *key)
{
	const char *s;

	return gguf_get_str(p->gl, key, &s, NULL) == GGUF_OK ? s : NULL;
}

void
pipeline_set_max_tokens(struct pipeline *p, int n)
{
	p->max_new = n > 0 && n < p->cfg.max_tokens ? n : p->cfg.max_tokens;
}
