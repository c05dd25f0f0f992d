/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * llama - decoder forward pass.  Prefill (several positions) goes through
 * tensor_matmul (OpenBLAS sgemm); one position goes through tensor_matvec
 * on the stored type.  The KV cache is float32, [layer][pos][n_head_kv *
 * head_dim].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "infer/llama.h"
#include "infer/pool.h"
#include "infer/tensor.h"
#include "infer/weights.h"

#define MAXDIM	(1u << 30)	/* sanity bound on every size key */

struct layer {
	const float	*attn_norm, *ffn_norm;
	struct tensor	 wq, wk, wv, wo, gate, up, down;
};

struct llama {
	struct llama_hparams	 hp;
	struct weights		*w;
	struct pool		*pool;
	struct layer		*layers;
	struct tensor		 tok_embd, output;
	const float		*out_norm;
	int			 n_ctx, n_batch, kv_dim, head_dim;
	/* scratch, sized at load: n_batch rows each */
	float	*x, *xb, *q, *k, *v, *att_out, *hb, *hb2, *att, *mm_scratch;
};

struct llama_kv {
	const struct llama	*m;
	int			 pos;
	float			*k, *v;		/* n_layer x n_ctx x kv_dim */
};

const struct llama_hparams *
llama_hparams(const struct llama *m)
{
	return &m->hp;
}

void
llama_free(struct llama *m)
{
	if (m == NULL)
		return;
	weights_free(m->w);
	free(m->layers);
	free(m->x);
	free(m->xb);
	free(m->q);
	free(m->k);
	free(m->v);
	free(m->att_out);
	free(m->hb);
	free(m->hb2);
	free(m->att);
	free(m->mm_scratch);
	free(m);
}

static size_t
max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

struct llama *
llama_load(const struct gguf *g, struct pool *p, int n_ctx, int n_batch,
    char *err, size_t errsz)
{
	struct llama *m = calloc(1, sizeof(*m));
	struct llama_hparams *hp;
	const char *arch;
	char name[96];
	size_t mm = 0, mv = 0;
	int rc;

	if (m == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	hp = &m->hp;
	m->pool = p;
	if ((arch = gguf_architecture(g)) == NULL || strcmp(arch, "llama") != 0) {
		snprintf(err, errsz, "general.architecture is '%s', expected "
		    "'llama'", arch ? arch : "(none)");
		goto fail;
	}
	if (weights_key_u32(g, "llama.embedding_length", MAXDIM, 0, &hp->n_embd,
	    err, errsz) ||
	    weights_key_u32(g, "llama.block_count", MAXDIM, 0, &hp->n_layer, err,
	    errsz) ||
	    weights_key_u32(g, "llama.feed_forward_length", MAXDIM, 0, &hp->n_ff,
	    err, errsz) ||
	    weights_key_u32(g, "llama.attention.head_count", MAXDIM, 0,
	    &hp->n_head, err, errsz) ||
	    weights_key_u32(g, "llama.context_length", MAXDIM, 0,
	    &hp->n_ctx_train, err, errsz) ||
	    weights_key_f32(g, "llama.attention.layer_norm_rms_epsilon", 0,
	    &hp->rms_eps, err, errsz))
		goto fail;
	hp->n_head_kv = hp->n_head;
	hp->rope_base = 10000.0f;
	if (weights_key_u32(g, "llama.attention.head_count_kv", MAXDIM, 1,
	    &hp->n_head_kv, err, errsz) < 0 ||
	    weights_key_f32(g, "llama.rope.freq_base", 1, &hp->rope_base, err,
	    errsz) < 0)
		goto fail;
	if (hp->n_embd % hp->n_head != 0 || hp->n_head % hp->n_head_kv != 0) {
		snprintf(err, errsz, "head counts %d/%d do not divide "
		    "embedding_length %d", hp->n_head, hp->n_head_kv, hp->n_embd);
		goto fail;
	}
	m->head_dim = hp->n_embd / hp->n_head;
	m->kv_dim = m->head_dim * hp->n_head_kv;
	hp->n_rot = m->head_dim;
	if ((rc = weights_key_u32(g, "llama.rope.dimension_count", MAXDIM, 1,
	    &hp->n_rot, err, errsz)) < 0)
		goto fail;
	if (hp->n_rot > m->head_dim || hp->n_rot % 2 != 0) {
		snprintf(err, errsz, "llama.rope.dimension_count %d does not fit "
		    "head size %d", hp->n_rot, m->head_dim);
		goto fail;
	}
	if ((m->w = weights_new(g)) == NULL ||
	    (m->layers = calloc((size_t)hp->n_layer, sizeof(*m->layers))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	if (weights_matrix(m->w, "token_embd.weight", hp->n_embd, -1, 0,
	    &m->tok_embd, err, errsz))
		goto fail;
	hp->n_vocab = (int)m->tok_embd.ne1;
	if ((m->out_norm = weights_vector(m->w, "output_norm.weight", hp->n_embd,
	    0, err, errsz)) == NULL)
		goto fail;
	rc = weights_matrix(m->w, "output.weight", hp->n_embd, hp->n_vocab, 1,
	    &m->output, err, errsz);
	if (rc < 0)
		goto fail;
	if (rc == 1)
		m->output = m->tok_embd;	/* tied */
	for (int i = 0; i < hp->n_layer; i++) {
		struct layer *l = &m->layers[i];
		struct {
			const char *n;
			struct tensor *t;
			int64_t ne0, ne1;
		} mats[] = {
			{ "attn_q", &l->wq, hp->n_embd, hp->n_embd },
			{ "attn_k", &l->wk, hp->n_embd, m->kv_dim },
			{ "attn_v", &l->wv, hp->n_embd, m->kv_dim },
			{ "attn_output", &l->wo, hp->n_embd, hp->n_embd },
			{ "ffn_gate", &l->gate, hp->n_embd, hp->n_ff },
			{ "ffn_up", &l->up, hp->n_embd, hp->n_ff },
			{ "ffn_down", &l->down, hp->n_ff, hp->n_embd },
		};

		snprintf(name, sizeof(name), "blk.%d.attn_norm.weight", i);
		if ((l->attn_norm = weights_vector(m->w, name, hp->n_embd, 0,
		    err, errsz)) == NULL)
			goto fail;
		snprintf(name, sizeof(name), "blk.%d.ffn_norm.weight", i);
		if ((l->ffn_norm = weights_vector(m->w, name, hp->n_embd, 0,
		    err, errsz)) == NULL)
			goto fail;
		for (size_t j = 0; j < sizeof(mats) / sizeof(mats[0]); j++) {
			snprintf(name, sizeof(name), "blk.%d.%s.weight", i, mats[j].n);
			if (weights_matrix(m->w, name, mats[j].ne0, mats[j].ne1, 0,
			    mats[j].t, err, errsz))
				goto fail;
			mm = max_sz(mm, tensor_matmul_scratch_size(mats[j].t));
			mv = max_sz(mv, tensor_matvec_scratch_size(mats[j].t->type,
			    mats[j].t->ne0));
		}
	}
	mm = max_sz(mm, tensor_matmul_scratch_size(&m->output));
	mv = max_sz(mv, tensor_matvec_scratch_size(m->output.type, m->output.ne0));
	if (pool_reserve(p, mv) == -1) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	m->n_ctx = n_ctx;
	m->n_batch = n_batch;
	m->x = weights_falloc((size_t)n_batch * hp->n_embd);
	m->xb = weights_falloc((size_t)n_batch * hp->n_embd);
	m->q = weights_falloc((size_t)n_batch * hp->n_embd);
	m->k = weights_falloc((size_t)n_batch * m->kv_dim);
	m->v = weights_falloc((size_t)n_batch * m->kv_dim);
	m->att_out = weights_falloc((size_t)n_batch * hp->n_embd);
	m->hb = weights_falloc((size_t)n_batch * hp->n_ff);
	m->hb2 = weights_falloc((size_t)n_batch *
	    max_sz((size_t)hp->n_ff, (size_t)hp->n_vocab));
	/* Per-head score rows when decoding; a batch's scores when prefilling. */
	m->att = weights_falloc(max_sz((size_t)hp->n_head, (size_t)n_batch) * n_ctx);
	m->mm_scratch = mm ? weights_falloc(mm / sizeof(float) + 1) : NULL;
	if (!m->x || !m->xb || !m->q || !m->k || !m->v || !m->att_out ||
	    !m->hb || !m->hb2 || !m->att || (mm && !m->mm_scratch)) {
		snprintf(err, errsz, "out of memory for scratch buffers");
		goto fail;
	}
	return m;
fail:
	llama_free(m);
	return NULL;
}

int
llama_lora(struct llama *m, const struct gguf *adapter, float scale, char *err,
    size_t errsz)
{
	const char *s;
	float alpha = 0.0f;
	char name[96];
	int n = 0, rc, pairs = 0;

	if (gguf_get_str(adapter, "general.type", &s, NULL) != GGUF_OK ||
	    strcmp(s, "adapter") != 0 ||
	    gguf_get_str(adapter, "adapter.type", &s, NULL) != GGUF_OK ||
	    strcmp(s, "lora") != 0) {
		snprintf(err, errsz, "not a LoRA adapter (general.type 'adapter', "
		    "adapter.type 'lora')");
		return -1;
	}
	if (weights_key_f32(adapter, "adapter.lora.alpha", 1, &alpha, err,
	    errsz) < 0)
		return -1;
	for (int64_t i = 0; i < gguf_n_tensors(adapter); i++) {
		const char *tn = gguf_tensor(adapter, i)->name;
		size_t len = strlen(tn);

		if (len > 7 && strcmp(tn + len - 7, ".lora_a") == 0)
			pairs++;
	}
	for (int l = 0; l < m->hp.n_layer; l++) {
		struct layer *L = &m->layers[l];
		struct {
			const char *n;
			struct tensor *t;
		} mats[] = {
			{ "attn_q", &L->wq }, { "attn_k", &L->wk }, { "attn_v", &L->wv },
			{ "attn_output", &L->wo }, { "ffn_gate", &L->gate },
			{ "ffn_up", &L->up }, { "ffn_down", &L->down },
		};

		for (size_t j = 0; j < sizeof(mats) / sizeof(mats[0]); j++) {
			snprintf(name, sizeof(name), "blk.%d.%s.weight", l, mats[j].n);
			if ((rc = weights_lora(m->w, adapter, name, scale, alpha,
			    mats[j].t, err, errsz)) < 0)
				return -1;
			n += rc;
		}
	}
	if (m->output.data != m->tok_embd.data) {
		if ((rc = weights_lora(m->w, adapter, "output.weight", scale, alpha,
		    &m->output, err, errsz)) < 0)
			return -1;
		n += rc;
	}
	if (n != pairs) {
		snprintf(err, errsz, "adapter has %d LoRA pairs but only %d match "
		    "this model's matrices", pairs, n);
		return -1;
	}
	return n;
}

struct llama_kv *
llama_kv_new(const struct llama *m)
{
	struct llama_kv *kv = calloc(1, sizeof(*kv));
	size_t n = (size_t)m->hp.n_layer * m->n_ctx * m->kv_dim;

	if (kv == NULL)
		return NULL;
	kv->m = m;
	if ((kv->k = weights_falloc(n)) == NULL ||
	    (kv->v = weights_falloc(n)) == NULL) {
		llama_kv_free(kv);
		return NULL;
	}
	return kv;
}

void
llama_kv_free(struct llama_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->k);
	free(kv->v);
	free(kv);
}

void
llama_kv_copy(struct llama_kv *dst, const struct llama_kv *src)
{
	const struct llama *m = src->m;

	/* Only the filled positions of each layer. */
	for (int l = 0; l < m->hp.n_layer; l++) {
		size_t off = (size_t)l * m->n_ctx * m->kv_dim;
		size_t len = (size_t)src->pos * m->kv_dim * sizeof(float);

		memcpy(dst->k + off, src->k + off, len);
		memcpy(dst->v + off, src->v + off, len);
	}
	dst->pos = src->pos;
}

int
llama_kv_pos(const struct llama_kv *kv)
{
	return kv->pos;
}

void
llama_kv_clear(struct llama_kv *kv)
{
	kv->pos = 0;
}

int
llama_embed(const struct llama *m, const int32_t *ids, int n, float *out)
{
	for (int i = 0; i < n; i++) {
		if (ids[i] < 0 || ids[i] >= m->hp.n_vocab)
			return -1;
		weights_row(&m->tok_embd, ids[i], out + (size_t)i * m->hp.n_embd);
	}
	return 0;
}

static void
rms_norm(float *o, const float *x, const float *w, int n, float eps)
{
	double ss = 0.0;
	float scale;

	for (int i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	scale = 1.0f / sqrtf((float)(ss / n) + eps);
	for (int i = 0; i < n; i++)
		o[i] = x[i] * scale * w[i];
}

/* rope - llama.cpp NORM mode: pairs (0,1), (2,3)... of the first n_rot dims */
static void
rope(float *v, int n_heads, int head_dim, int n_rot, int pos, float base)
{
	const float theta_scale = powf(base, -2.0f / n_rot);

	for (int h = 0; h < n_heads; h++) {
		float *x = v + (size_t)h * head_dim;
		float theta = (float)pos;

		for (int i = 0; i < n_rot; i += 2) {
			float c = cosf(theta), s = sinf(theta);
			float x0 = x[i], x1 = x[i + 1];

			x[i] = x0 * c - x1 * s;
			x[i + 1] = x0 * s + x1 * c;
			theta *= theta_scale;
		}
	}
}

/* matmul - Y = X W^T for n rows: sgemm for a batch, matvec for one. */
static void
matmul(struct llama *m, const struct tensor *w, const float *x, int n, float *y)
{
	if (n == 1)
		tensor_matvec(w, x, y, m->pool);
	else
		tensor_matmul(w, x, n, y, m->mm_scratch, m->pool);
}

struct attn_task {
	struct llama		*m;
	struct llama_kv		*kv;
	int			 layer, n, pos0;
};


/* attn_head - causal attention of one head over the cache, for all n rows. */
static void
attn_head(void *arg, int64_t h, int thread)
{
	struct attn_task *t = arg;
	struct llama *m = t->m;
	const struct llama_hparams *hp = &m->hp;
	int hd = m->head_dim, kvh = (int)h / (hp->n_head / hp->n_head_kv);
	size_t base = (size_t)t->layer * m->n_ctx * m->kv_dim;
	const float *K = t->kv->k + base + (size_t)kvh * hd;
	const float *V = t->kv->v + base + (size_t)kvh * hd;
	float scale = 1.0f / sqrtf((float)hd);
	/* One score row per head: heads run on different threads. */
	float *scores = m->att + (size_t)h * m->n_ctx;

	(void)thread;
	for (int r = 0; r < t->n; r++) {
		const float *q = m->q + (size_t)r * hp->n_embd + h * hd;
		float *out = m->att_out + (size_t)r * hp->n_embd + h * hd;
		int upto = t->pos0 + r + 1;	/* causal */
		float mx = -INFINITY;
		double sum = 0.0;

		for (int p = 0; p < upto; p++) {
			const float *k = K + (size_t)p * m->kv_dim;
			float s = 0.0f;

			for (int i = 0; i < hd; i++)
				s += q[i] * k[i];
			scores[p] = s * scale;
			if (scores[p] > mx)
				mx = scores[p];
		}
		for (int p = 0; p < upto; p++) {
			scores[p] = expf(scores[p] - mx);
			sum += scores[p];
		}
		memset(out, 0, (size_t)hd * sizeof(float));
		for (int p = 0; p < upto; p++) {
			const float *v = V + (size_t)p * m->kv_dim;
			float a = (float)(scores[p] / sum);

			for (int i = 0; i < hd; i++)
				out[i] += a * v[i];
		}
	}
}

/*
 * attn_batch - causal attention for a batch of n positions, head by head
 * through sgemm: scores = Q K^T over the whole cache, masked, softmaxed,
 * times V.  For prefill (the image alone is hundreds of positions).
 */
static void
attn_batch(struct llama *m, struct llama_kv *kv, int layer, int n, int pos0)
{
	const struct llama_hparams *hp = &m->hp;
	int hd = m->head_dim, len = pos0 + n, group = hp->n_head / hp->n_head_kv;
	size_t base = (size_t)layer * m->n_ctx * m->kv_dim;
	float scale = 1.0f / sqrtf((float)hd);

	for (int h = 0; h < hp->n_head; h++) {
		const float *K = kv->k + base + (size_t)(h / group) * hd;
		const float *V = kv->v + base + (size_t)(h / group) * hd;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, len, hd,
		    scale, m->q + (size_t)h * hd, hp->n_embd, K, m->kv_dim, 0.0f,
		    m->att, len);
		for (int r = 0; r < n; r++) {
			float *a = m->att + (size_t)r * len, mx = -INFINITY;
			int upto = pos0 + r + 1;	/* causal */
			double sum = 0.0;

			for (int p = 0; p < upto; p++)
				mx = a[p] > mx ? a[p] : mx;
			for (int p = 0; p < upto; p++) {
				a[p] = expf(a[p] - mx);
				sum += a[p];
			}
			for (int p = 0; p < upto; p++)
				a[p] = (float)(a[p] / sum);
			for (int p = upto; p < len; p++)
				a[p] = 0.0f;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, hd, len,
		    1.0f, m->att, len, V, m->kv_dim, 0.0f,
		    m->att_out + (size_t)h * hd, hp->n_embd);
	}
}

static int
eval_batch(struct llama *m, struct llama_kv *kv, const float *in, int n,
    float *logits)
{
	const struct llama_hparams *hp = &m->hp;
	int d = hp->n_embd, pos0 = kv->pos;

	memcpy(m->x, in, (size_t)n * d * sizeof(float));
	for (int l = 0; l < hp->n_layer; l++) {
		const struct layer *L = &m->layers[l];
		size_t base = (size_t)l * m->n_ctx * m->kv_dim;
		struct attn_task at = { m, kv, l, n, pos0 };

		for (int r = 0; r < n; r++)
			rms_norm(m->xb + (size_t)r * d, m->x + (size_t)r * d,
			    L->attn_norm, d, hp->rms_eps);
		matmul(m, &L->wq, m->xb, n, m->q);
		matmul(m, &L->wk, m->xb, n, m->k);
		matmul(m, &L->wv, m->xb, n, m->v);
		for (int r = 0; r < n; r++) {
			rope(m->q + (size_t)r * d, hp->n_head, m->head_dim,
			    hp->n_rot, pos0 + r, hp->rope_base);
			rope(m->k + (size_t)r * m->kv_dim, hp->n_head_kv,
			    m->head_dim, hp->n_rot, pos0 + r, hp->rope_base);
			memcpy(kv->k + base + (size_t)(pos0 + r) * m->kv_dim,
			    m->k + (size_t)r * m->kv_dim, m->kv_dim * sizeof(float));
			memcpy(kv->v + base + (size_t)(pos0 + r) * m->kv_dim,
			    m->v + (size_t)r * m->kv_dim, m->kv_dim * sizeof(float));
		}
		if (n == 1)
			pool_run(m->pool, attn_head, &at, hp->n_head);
		else
			attn_batch(m, kv, l, n, pos0);
		matmul(m, &L->wo, m->att_out, n, m->xb);
		for (size_t i = 0; i < (size_t)n * d; i++)
			m->x[i] += m->xb[i];

		for (int r = 0; r < n; r++)
			rms_norm(m->xb + (size_t)r * d, m->x + (size_t)r * d,
			    L->ffn_norm, d, hp->rms_eps);
		matmul(m, &L->gate, m->xb, n, m->hb);
		matmul(m, &L->up, m->xb, n, m->hb2);
		for (size_t i = 0; i < (size_t)n * hp->n_ff; i++) {
			float g = m->hb[i];

			m->hb[i] = g / (1.0f + expf(-g)) * m->hb2[i];
		}
		matmul(m, &L->down, m->hb, n, m->xb);
		for (size_t i = 0; i < (size_t)n * d; i++)
			m->x[i] += m->xb[i];
	}
	kv->pos += n;
	if (logits != NULL) {
		rms_norm(m->xb, m->x + (size_t)(n - 1) * d, m->out_norm, d,
		    hp->rms_eps);
		tensor_matvec(&m->output, m->xb, logits, m->pool);
	}
	return 0;
}

int
llama_eval(struct llama *m, struct llama_kv *kv, const float *x, int n,
    float *logits)
{
	if (n <= 0 || kv->pos + n > m->n_ctx)
		return -1;
	for (int done = 0; done < n; ) {
		int b = n - done < m->n_batch ? n - done : m->n_batch;

		eval_batch(m, kv, x + (size_t)done * m->hp.n_embd, b,
		    done + b == n ? logits : NULL);
		done += b;
	}
	return 0;
}
