/* SPDX-License-Identifier: GPL-2.0-or-later */
/* weights - shape-checked access to a model's tensors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/quant.h"
#include "infer/weights.h"

struct weights {
	const struct gguf	 *g;
	float			**vec;
	size_t			  n;
};

struct weights *
weights_new(const struct gguf *g)
{
	struct weights *w = calloc(1, sizeof(*w));

	if (w != NULL)
		w->g = g;
	return w;
}

void
weights_free(struct weights *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->vec[i]);
	free(w->vec);
	free(w);
}

int
weights_matrix(struct weights *w, const char *name, int64_t ne0, int64_t ne1,
    int optional, struct tensor *t, char *err, size_t errsz)
{
	const struct gguf_tensor *gt = gguf_find_tensor(w->g, name);
	int64_t rows, cols = 1;

	memset(t, 0, sizeof(*t));
	if (gt == NULL) {
		if (optional)
			return 1;
		snprintf(err, errsz, "tensor '%s' missing", name);
		return -1;
	}
	if (gt->n_dims < 2) {
		snprintf(err, errsz, "tensor '%s': %d dimension(s), expected a "
		    "matrix", name, gt->n_dims);
		return -1;
	}
	for (int i = 0; i < gt->n_dims - 1; i++)
		cols *= gt->ne[i];
	rows = gt->ne[gt->n_dims - 1];
	if ((ne0 >= 0 && cols != ne0) || (ne1 >= 0 && rows != ne1)) {
		snprintf(err, errsz, "tensor '%s': shape %" PRId64 " x %" PRId64
		    ", expected %" PRId64 " x %" PRId64, name, cols, rows,
		    ne0, ne1);
		return -1;
	}
	if (tensor_view(t, gt->type, cols, rows, gt->data) == -1) {
		snprintf(err, errsz, "tensor '%s': type %s cannot hold rows of "
		    "%" PRId64, name, gguf_dtype_name(gt->type), cols);
		return -1;
	}
	return 0;
}

/* own - keep p in w's list so weights_free releases it. */
static int
own(struct weights *w, void *p)
{
	float **nv = realloc(w->vec, (w->n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -1;
	w->vec = nv;
	w->vec[w->n++] = p;
	return 0;
}

float *
weights_vector(struct weights *w, const char *name, int64_t n, int optional,
    char *err, size_t errsz)
{
	const struct gguf_tensor *gt = gguf_find_tensor(w->g, name);
	int64_t count = 1;
	float *v;

	err[0] = '\0';
	if (gt == NULL) {
		if (!optional)
			snprintf(err, errsz, "tensor '%s' missing", name);
		return NULL;
	}
	for (int i = 0; i < gt->n_dims; i++)
		count *= gt->ne[i];
	if (count != n) {
		snprintf(err, errsz, "tensor '%s': %" PRId64 " elements, expected "
		    "%" PRId64, name, count, n);
		return NULL;
	}
	if ((v = malloc((size_t)n * sizeof(float))) == NULL || own(w, v) == -1) {
		free(v);
		snprintf(err, errsz, "tensor '%s': out of memory", name);
		return NULL;
	}
	if (quant_dequantize_row(gt->type, gt->data, v, n) != 0) {
		snprintf(err, errsz, "tensor '%s': cannot convert type %s", name,
		    gguf_dtype_name(gt->type));
		return NULL;
	}
	return v;
}

int
weights_lora(struct weights *w, const struct gguf *adapter, const char *name,
    float scale, float alpha, struct tensor *t, char *err, size_t errsz)
{
	char an[160], bn[160];
	const struct gguf_tensor *ga, *gb;
	struct tensor A, B;
	const struct dtype_traits *tr = dtype_traits(t->type);
	/* a type without a quantiser (Q4_K) is stored as Q8_0 */
	enum dtype out_type = tr != NULL && tr->from_float != NULL ? t->type :
	    DTYPE_Q8_0;
	int64_t rank, in = t->ne0, out = t->ne1;
	float *a = NULL, *brow = NULL, *row = NULL;
	char *buf = NULL;
	size_t rb;

	snprintf(an, sizeof(an), "%s.lora_a", name);
	snprintf(bn, sizeof(bn), "%s.lora_b", name);
	ga = gguf_find_tensor(adapter, an);
	gb = gguf_find_tensor(adapter, bn);
	if (ga == NULL && gb == NULL)
		return 0;
	if (ga == NULL || gb == NULL || ga->n_dims != 2 || gb->n_dims != 2) {
		snprintf(err, errsz, "adapter: %s needs both .lora_a and .lora_b as "
		    "matrices", name);
		return -1;
	}
	rank = ga->ne[1];
	if (ga->ne[0] != in || gb->ne[0] != rank || gb->ne[1] != out ||
	    rank < 1 || rank > in) {
		snprintf(err, errsz, "adapter: %s: lora_a is %lld x %lld and lora_b "
		    "%lld x %lld, expected %lld x r and r x %lld", name,
		    (long long)ga->ne[0], (long long)ga->ne[1], (long long)gb->ne[0],
		    (long long)gb->ne[1], (long long)in, (long long)out);
		return -1;
	}
	if (tensor_view(&A, ga->type, ga->ne[0], ga->ne[1], ga->data) == -1 ||
	    tensor_view(&B, gb->type, gb->ne[0], gb->ne[1], gb->data) == -1) {
		snprintf(err, errsz, "adapter: %s: unsupported tensor type", name);
		return -1;
	}
	if (alpha != 0.0f)
		scale = scale * alpha / (float)rank;
	rb = quant_row_size(out_type, in);
	a = malloc((size_t)rank * in * sizeof(float));
	brow = malloc((size_t)rank * sizeof(float));
	row = malloc((size_t)in * sizeof(float));
	buf = malloc(rb * (size_t)out);
	if (!a || !brow || !row || !buf || own(w, buf) == -1) {
		free(buf);
		snprintf(err, errsz, "adapter: out of memory merging %s", name);
		free(a);
		free(brow);
		free(row);
		return -1;
	}
	for (int64_t r = 0; r < rank; r++)
		weights_row(&A, r, a + r * in);
	for (int64_t o = 0; o < out; o++) {
		weights_row(t, o, row);
		weights_row(&B, o, brow);
		for (int64_t r = 0; r < rank; r++) {
			float s = scale * brow[r];

			for (int64_t i = 0; i < in; i++)
				row[i] += s * a[r * in + i];
		}
		quant_quantize_row(out_type, row, buf + (size_t)o * rb, in);
	}
	free(a);
	free(brow);
	free(row);
	if (tensor_view(t, out_type, in, out, buf) == -1) {
		snprintf(err, errsz, "adapter: %s: cannot store as %s", name,
		    gguf_dtype_name(out_type));
		return -1;
	}
	return 1;
}

int
weights_to_f32(struct weights *w, struct tensor *t)
{
	float *buf;

	if (t->type == DTYPE_F32)
		return 0;
	if ((buf = malloc((size_t)t->ne0 * t->ne1 * sizeof(float))) == NULL ||
	    own(w, buf) == -1) {
		free(buf);
		return -1;
	}
	for (int64_t r = 0; r < t->ne1; r++)
		weights_row(t, r, buf + r * t->ne0);
	return tensor_view(t, DTYPE_F32, t->ne0, t->ne1, buf);
}

/* key_status - the shared part of the two key getters. */
static int
key_status(int rc, const char *key, int optional, char *err, size_t errsz)
{
	if (rc == GGUF_OK)
		return 0;
	if (rc == GGUF_ENOKEY) {
		if (optional)
			return 1;
		snprintf(err, errsz, "missing key '%s'", key);
	} else
		snprintf(err, errsz, "key '%s': wrong type", key);
	return -1;
}

int
weights_key_u32(const struct gguf *g, const char *key, uint32_t max,
    int optional, int *out, char *err, size_t errsz)
{
	uint32_t v;
	int rc = key_status(gguf_get_u32(g, key, &v), key, optional, err, errsz);

	if (rc != 0)
		return rc;
	if (v == 0 || v > max) {
		snprintf(err, errsz, "key '%s': value %u out of range 1..%u", key,
		    v, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int
weights_key_f32(const struct gguf *g, const char *key, int optional,
    float *out, char *err, size_t errsz)
{
	return key_status(gguf_get_f32(g, key, out), key, optional, err, errsz);
}

float *
weights_falloc(size_t n)
{
	return aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
}

void
weights_row(const struct tensor *t, int64_t r, float *out)
{
	quant_dequantize_row(t->type, (const char *)t->data + r * t->row_bytes,
	    out, t->ne0);
}
