/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clip - ViT forward pass for the image encoder.  Every product has many
 * rows (one per position), so all of them go to OpenBLAS through
 * tensor_matmul; attention runs head by head with cblas_sgemm.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "infer/clip.h"
#include "infer/pool.h"
#include "infer/tensor.h"
#include "infer/weights.h"

#define MAXDIM	(1u << 20)	/* sanity bound on every size key */

struct vblock {
	const float	*ln1_w, *ln1_b, *ln2_w, *ln2_b;
	const float	*q_b, *k_b, *v_b, *o_b, *up_b, *down_b;
	struct tensor	 q, k, v, o, up, down;
};

struct clip {
	struct clip_hparams	 hp;
	struct weights		*w;
	struct pool		*pool;
	struct tensor		 patch, mm0, mm2;
	const float		*patch_b, *cls, *pos, *pre_w, *pre_b, *post_w,
				*post_b, *mm0_b, *mm2_b;
	struct vblock		*blk;
	/* scratch */
	float	*x, *h, *q, *k, *v, *ff, *att, *patches, *mm_scratch, *proj;
};

const struct clip_hparams *
clip_hparams(const struct clip *c)
{
	return &c->hp;
}

void
clip_free(struct clip *c)
{
	if (c == NULL)
		return;
	weights_free(c->w);
	free(c->blk);
	free(c->x);
	free(c->h);
	free(c->q);
	free(c->k);
	free(c->v);
	free(c->ff);
	free(c->att);
	free(c->patches);
	free(c->mm_scratch);
	free(c->proj);
	free(c);
}

/* feature_depth - blocks to run: llama.cpp's reading of feature_layer. */
static int
feature_depth(const struct gguf *g, int n_layer, char *err, size_t errsz)
{
	int64_t k = gguf_find_key(g, "clip.vision.feature_layer");
	int64_t v = -1;

	if (k < 0)
		return n_layer - 1;
	if (gguf_key_type(g, k) == GGUF_TYPE_ARRAY) {
		for (uint64_t i = 0; i < gguf_arr_len(g, k); i++)
			if (gguf_arr_i64(g, k, i) > v)
				v = gguf_arr_i64(g, k, i);
	} else {
		int32_t i32;

		if (gguf_get_i32(g, "clip.vision.feature_layer", &i32) != GGUF_OK) {
			snprintf(err, errsz, "key 'clip.vision.feature_layer': "
			    "wrong type");
			return -1;
		}
		v = i32;
	}
	if (v < 0)
		return n_layer - 1;
	if (v > n_layer) {
		snprintf(err, errsz, "clip.vision.feature_layer %lld exceeds "
		    "block_count %d", (long long)v, n_layer);
		return -1;
	}
	return (int)v;
}

struct clip *
clip_load(const struct gguf *g, struct pool *p, char *err, size_t errsz)
{
	struct clip *c = calloc(1, sizeof(*c));
	struct clip_hparams *hp;
	const char *s;
	char name[96];
	size_t mm = 0, n;
	int64_t k;
	int hidden;

	if (c == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	hp = &c->hp;
	c->pool = p;
	if ((s = gguf_architecture(g)) == NULL || strcmp(s, "clip") != 0) {
		snprintf(err, errsz, "general.architecture is '%s', expected "
		    "'clip'", s ? s : "(none)");
		goto fail;
	}
	if (gguf_get_str(g, "clip.projector_type", &s, NULL) != GGUF_OK ||
	    strcmp(s, "mlp") != 0) {
		snprintf(err, errsz, "clip.projector_type must be 'mlp'");
		goto fail;
	}
	if (weights_key_u32(g, "clip.vision.image_size", MAXDIM, 0,
	    &hp->image_size, err, errsz) ||
	    weights_key_u32(g, "clip.vision.patch_size", MAXDIM, 0,
	    &hp->patch_size, err, errsz) ||
	    weights_key_u32(g, "clip.vision.embedding_length", MAXDIM, 0,
	    &hp->n_embd, err, errsz) ||
	    weights_key_u32(g, "clip.vision.feed_forward_length", MAXDIM, 0,
	    &hp->n_ff, err, errsz) ||
	    weights_key_u32(g, "clip.vision.attention.head_count", MAXDIM, 0,
	    &hp->n_head, err, errsz) ||
	    weights_key_u32(g, "clip.vision.block_count", MAXDIM, 0,
	    &hp->n_layer, err, errsz))
		goto fail;
	if (weights_key_f32(g, "clip.vision.attention.layer_norm_epsilon", 0,
	    &hp->eps, err, errsz))
		goto fail;
	hp->use_gelu = 0;
	if (gguf_find_key(g, "clip.use_gelu") >= 0 &&
	    gguf_get_bool(g, "clip.use_gelu", &hp->use_gelu) != GGUF_OK) {
		snprintf(err, errsz, "key 'clip.use_gelu': wrong type");
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "clip.vision.image_std" : "clip.vision.image_mean";
		float *dst = i ? hp->std : hp->mean;

		if ((k = gguf_find_key(g, key)) < 0 ||
		    gguf_key_type(g, k) != GGUF_TYPE_ARRAY ||
		    gguf_arr_type(g, k) != GGUF_TYPE_FLOAT32 ||
		    gguf_arr_len(g, k) != 3) {
			snprintf(err, errsz, "key '%s': expected 3 floats", key);
			goto fail;
		}
		for (int j = 0; j < 3; j++)
			dst[j] = gguf_arr_f32(g, k, (uint64_t)j);
		if (i && (hp->std[0] == 0 || hp->std[1] == 0 || hp->std[2] == 0)) {
			snprintf(err, errsz, "key '%s': zero standard deviation", key);
			goto fail;
		}
	}
	if (hp->image_size % hp->patch_size || hp->n_embd % hp->n_head) {
		snprintf(err, errsz, "image_size %d / patch_size %d or "
		    "embedding_length %d / head_count %d do not divide",
		    hp->image_size, hp->patch_size, hp->n_embd, hp->n_head);
		goto fail;
	}
	if ((hp->depth = feature_depth(g, hp->n_layer, err, errsz)) < 0)
		goto fail;
	hp->n_patches = (hp->image_size / hp->patch_size) *
	    (hp->image_size / hp->patch_size);
	if ((c->w = weights_new(g)) == NULL ||
	    (c->blk = calloc((size_t)hp->n_layer, sizeof(*c->blk))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	if (weights_matrix(c->w, "v.patch_embd.weight",
	    3 * hp->patch_size * hp->patch_size, hp->n_embd, 0, &c->patch, err,
	    errsz))
		goto fail;
	c->patch_b = weights_vector(c->w, "v.patch_embd.bias", hp->n_embd, 1,
	    err, errsz);
	c->cls = weights_vector(c->w, "v.class_embd", hp->n_embd, 1, err, errsz);
	if (err[0])
		goto fail;
	hp->has_class = c->cls != NULL;
	hp->n_pos = hp->n_patches + hp->has_class;
	if ((c->pos = weights_vector(c->w, "v.position_embd.weight",
	    (int64_t)hp->n_pos * hp->n_embd, 0, err, errsz)) == NULL)
		goto fail;
	c->pre_w = weights_vector(c->w, "v.pre_ln.weight", hp->n_embd, 1, err, errsz);
	if (!err[0] && c->pre_w)
		c->pre_b = weights_vector(c->w, "v.pre_ln.bias", hp->n_embd, 0,
		    err, errsz);
	if (!err[0])
		c->post_w = weights_vector(c->w, "v.post_ln.weight", hp->n_embd,
		    1, err, errsz);
	if (!err[0] && c->post_w)
		c->post_b = weights_vector(c->w, "v.post_ln.bias", hp->n_embd, 0,
		    err, errsz);
	if (err[0])
		goto fail;
	for (int i = 0; i < hp->depth; i++) {
		struct vblock *b = &c->blk[i];
		struct {
			const char *n;
			struct tensor *t;
			const float **bias;
			int64_t ne0, ne1;
		} mats[] = {
			{ "attn_q", &b->q, &b->q_b, hp->n_embd, hp->n_embd },
			{ "attn_k", &b->k, &b->k_b, hp->n_embd, hp->n_embd },
			{ "attn_v", &b->v, &b->v_b, hp->n_embd, hp->n_embd },
			{ "attn_out", &b->o, &b->o_b, hp->n_embd, hp->n_embd },
			{ "ffn_up", &b->up, &b->up_b, hp->n_embd, hp->n_ff },
			{ "ffn_down", &b->down, &b->down_b, hp->n_ff, hp->n_embd },
		};
		struct {
			const char *n;
			const float **v;
		} norms[] = {
			{ "ln1.weight", &b->ln1_w }, { "ln1.bias", &b->ln1_b },
			{ "ln2.weight", &b->ln2_w }, { "ln2.bias", &b->ln2_b },
		};

		for (size_t j = 0; j < sizeof(mats) / sizeof(mats[0]); j++) {
			snprintf(name, sizeof(name), "v.blk.%d.%s.weight", i, mats[j].n);
			if (weights_matrix(c->w, name, mats[j].ne0, mats[j].ne1, 0,
			    mats[j].t, err, errsz))
				goto fail;
			snprintf(name, sizeof(name), "v.blk.%d.%s.bias", i, mats[j].n);
			if ((*mats[j].bias = weights_vector(c->w, name, mats[j].ne1,
			    0, err, errsz)) == NULL)
				goto fail;
			/* Every image multiplies by all of them: convert once. */
			if (weights_to_f32(c->w, mats[j].t) == -1) {
				snprintf(err, errsz, "out of memory converting %s", name);
				goto fail;
			}
		}
		for (size_t j = 0; j < sizeof(norms) / sizeof(norms[0]); j++) {
			snprintf(name, sizeof(name), "v.blk.%d.%s", i, norms[j].n);
			if ((*norms[j].v = weights_vector(c->w, name, hp->n_embd, 0,
			    err, errsz)) == NULL)
				goto fail;
		}
	}
	if (weights_matrix(c->w, "mm.0.weight", hp->n_embd, -1, 0, &c->mm0, err,
	    errsz))
		goto fail;
	hidden = (int)c->mm0.ne1;
	if (weights_matrix(c->w, "mm.2.weight", hidden, -1, 0, &c->mm2, err, errsz))
		goto fail;
	hp->proj_dim = (int)c->mm2.ne1;
	if ((c->mm0_b = weights_vector(c->w, "mm.0.bias", hidden, 0, err,
	    errsz)) == NULL || (c->mm2_b = weights_vector(c->w, "mm.2.bias",
	    hp->proj_dim, 0, err, errsz)) == NULL)
		goto fail;
	for (int i = 0; i < 3; i++) {
		struct tensor *t = i == 0 ? &c->patch : i == 1 ? &c->mm0 : &c->mm2;

		if (weights_to_f32(c->w, t) == -1) {
			snprintf(err, errsz, "out of memory converting the projector");
			goto fail;
		}
		n = tensor_matmul_scratch_size(t);
		mm = n > mm ? n : mm;
	}
	n = (size_t)hp->n_pos;
	c->x = weights_falloc(n * hp->n_embd);
	c->h = weights_falloc(n * hp->n_embd);
	c->q = weights_falloc(n * hp->n_embd);
	c->k = weights_falloc(n * hp->n_embd);
	c->v = weights_falloc(n * hp->n_embd);
	c->ff = weights_falloc(n * (size_t)(hp->n_ff > hidden ? hp->n_ff : hidden));
	/* One attention matrix per thread: heads run in parallel. */
	c->att = weights_falloc(n * n * (size_t)pool_threads(p));
	c->patches = weights_falloc((size_t)hp->n_patches * c->patch.ne0);
	c->proj = weights_falloc((size_t)hp->n_patches * hp->n_embd);
	c->mm_scratch = mm ? weights_falloc(mm / sizeof(float) + 1) : NULL;
	if (!c->x || !c->h || !c->q || !c->k || !c->v || !c->ff || !c->att ||
	    !c->patches || !c->proj || (mm && !c->mm_scratch)) {
		snprintf(err, errsz, "out of memory for scratch buffers");
		goto fail;
	}
	return c;
fail:
	clip_free(c);
	return NULL;
}

static void
layer_norm(float *o, const float *x, const float *w, const float *b, int n,
    float eps)
{
	double mean = 0.0, var = 0.0;
	float scale;

	for (int i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (int i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	scale = (float)(1.0 / sqrt(var / n + eps));
	for (int i = 0; i < n; i++)
		o[i] = (float)(x[i] - mean) * scale * w[i] + b[i];
}

static float
gelu(float x)
{
	return 0.5f * x * (1.0f + tanhf(0.7978845608028654f *
	    (x + 0.044715f * x * x * x)));
}

static float
quick_gelu(float x)
{
	return x / (1.0f + expf(-1.702f * x));
}

static void
add_bias(float *y, const float *b, int rows, int n)
{
	for (int r = 0; r < rows; r++)
		for (int i = 0; i < n; i++)
			y[(size_t)r * n + i] += b[i];
}

/* Row-parallel element-wise work: the other core would idle otherwise. */
enum rowop { ROW_LN, ROW_ACT, ROW_BIAS };

struct rowjob {
	enum rowop	 op;
	float		*dst;
	const float	*src, *w, *b;
	int		 n, rows, act;	/* act: 0 quick-GELU, 1 GELU */
	float		 eps;
};

#define ROWS_PER_TASK 8

static void
softmax_row(float *d, int n)
{
	float mx = -INFINITY;
	double sum = 0.0;

	for (int i = 0; i < n; i++)
		mx = d[i] > mx ? d[i] : mx;
	for (int i = 0; i < n; i++) {
		d[i] = expf(d[i] - mx);
		sum += d[i];
	}
	for (int i = 0; i < n; i++)
		d[i] = (float)(d[i] / sum);
}

static void
row_task(void *arg, int64_t t, int thread)
{
	struct rowjob *j = arg;
	int r0 = (int)t * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK;

	(void)thread;
	if (r1 > j->rows)
		r1 = j->rows;
	for (int r = r0; r < r1; r++) {
		float *d = j->dst + (size_t)r * j->n;

		switch (j->op) {
		case ROW_LN:
			layer_norm(d, j->src + (size_t)r * j->n, j->w, j->b, j->n,
			    j->eps);
			break;
		case ROW_ACT:
			for (int i = 0; i < j->n; i++) {
				float v = d[i] + (j->b ? j->b[i] : 0.0f);

				d[i] = j->act ? gelu(v) : quick_gelu(v);
			}
			break;
		case ROW_BIAS:
			for (int i = 0; i < j->n; i++)
				d[i] += j->b[i];
			break;
		}
	}
}

static void
rows(struct clip *c, enum rowop op, float *dst, const float *src,
    const float *w, const float *b, int n, int nrows, int act)
{
	struct rowjob j = { op, dst, src, w, b, n, nrows, act, c->hp.eps };

	pool_run(c->pool, row_task, &j, (nrows + ROWS_PER_TASK - 1) / ROWS_PER_TASK);
}

/*
 * One head of self-attention per task, each thread with its own n x n
 * matrix: a single head's products (576 x 576 x 64 for ViT-L/14-336) are
 * too small for OpenBLAS to use two threads well.
 */
struct headjob {
	struct clip	*c;
	int		 n, hd, D;
	float		 scale;
};

static void
head_task(void *arg, int64_t h, int thread)
{
	struct headjob *j = arg;
	struct clip *c = j->c;
	float *att = c->att + (size_t)thread * j->n * j->n;

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n, j->n, j->hd,
	    j->scale, c->q + h * j->hd, j->D, c->k + h * j->hd, j->D, 0.0f, att,
	    j->n);
	for (int r = 0; r < j->n; r++)
		softmax_row(att + (size_t)r * j->n, j->n);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, j->hd, j->n,
	    1.0f, att, j->n, c->v + h * j->hd, j->D, 0.0f, c->h + h * j->hd, j->D);
}

void
clip_encode(struct clip *c, const float *px, float *out)
{
	const struct clip_hparams *hp = &c->hp;
	int P = hp->patch_size, g = hp->image_size / P, D = hp->n_embd;
	int n = hp->n_pos, hd = D / hp->n_head, S = hp->image_size;
	float scale = 1.0f / sqrtf((float)hd);
	struct headjob hj = { c, n, hd, D, scale };
	float *xp;

	/* Patch vectors in the weight's order: channel, row, column. */
	for (int py = 0; py < g; py++)
		for (int pxi = 0; pxi < g; pxi++) {
			float *dst = c->patches + ((size_t)py * g + pxi) * 3 * P * P;

			for (int ch = 0; ch < 3; ch++)
				for (int ky = 0; ky < P; ky++)
					memcpy(dst + ((size_t)ch * P + ky) * P,
					    px + ((size_t)ch * S + py * P + ky) * S + pxi * P,
					    (size_t)P * sizeof(float));
		}
	xp = c->x + (size_t)hp->has_class * D;
	tensor_matmul(&c->patch, c->patches, hp->n_patches, xp, c->mm_scratch,
	    c->pool);
	if (c->patch_b)
		add_bias(xp, c->patch_b, hp->n_patches, D);
	if (hp->has_class)
		memcpy(c->x, c->cls, (size_t)D * sizeof(float));
	for (size_t i = 0; i < (size_t)n * D; i++)
		c->x[i] += c->pos[i];
	if (c->pre_w)
		rows(c, ROW_LN, c->x, c->x, c->pre_w, c->pre_b, D, n, 0);

	for (int l = 0; l < hp->depth; l++) {
		const struct vblock *b = &c->blk[l];

		rows(c, ROW_LN, c->h, c->x, b->ln1_w, b->ln1_b, D, n, 0);
		tensor_matmul(&b->q, c->h, n, c->q, c->mm_scratch, c->pool);
		tensor_matmul(&b->k, c->h, n, c->k, c->mm_scratch, c->pool);
		tensor_matmul(&b->v, c->h, n, c->v, c->mm_scratch, c->pool);
		rows(c, ROW_BIAS, c->q, NULL, NULL, b->q_b, D, n, 0);
		rows(c, ROW_BIAS, c->k, NULL, NULL, b->k_b, D, n, 0);
		rows(c, ROW_BIAS, c->v, NULL, NULL, b->v_b, D, n, 0);
		pool_set_blas_threads(1);	/* the pool's threads share the heads */
		pool_run(c->pool, head_task, &hj, hp->n_head);
		pool_set_blas_threads(pool_threads(c->pool));
		tensor_matmul(&b->o, c->h, n, c->q, c->mm_scratch, c->pool);
		rows(c, ROW_BIAS, c->q, NULL, NULL, b->o_b, D, n, 0);
		for (size_t i = 0; i < (size_t)n * D; i++)
			c->x[i] += c->q[i];

		rows(c, ROW_LN, c->h, c->x, b->ln2_w, b->ln2_b, D, n, 0);
		tensor_matmul(&b->up, c->h, n, c->ff, c->mm_scratch, c->pool);
		rows(c, ROW_ACT, c->ff, NULL, NULL, b->up_b, hp->n_ff, n, hp->use_gelu);
		tensor_matmul(&b->down, c->ff, n, c->q, c->mm_scratch, c->pool);
		rows(c, ROW_BIAS, c->q, NULL, NULL, b->down_b, D, n, 0);
		for (size_t i = 0; i < (size_t)n * D; i++)
			c->x[i] += c->q[i];
	}
	if (c->post_w)
		rows(c, ROW_LN, c->x, c->x, c->post_w, c->post_b, D, n, 0);

	/* Patch positions only, then the projector. */
	xp = c->x + (size_t)hp->has_class * D;
	tensor_matmul(&c->mm0, xp, hp->n_patches, c->ff, c->mm_scratch, c->pool);
	rows(c, ROW_ACT, c->ff, NULL, NULL, c->mm0_b, (int)c->mm0.ne1,
	    hp->n_patches, 1);
	tensor_matmul(&c->mm2, c->ff, hp->n_patches, out, c->mm_scratch, c->pool);
	add_bias(out, c->mm2_b, hp->n_patches, hp->proj_dim);
}
