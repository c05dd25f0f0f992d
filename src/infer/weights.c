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

float *
weights_vector(struct weights *w, const char *name, int64_t n, int optional,
    char *err, size_t errsz)
{
	const struct gguf_tensor *gt = gguf_find_tensor(w->g, name);
	int64_t count = 1;
	float *v, **nv;

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
	if ((v = malloc((size_t)n * sizeof(float))) == NULL ||
	    (nv = realloc(w->vec, (w->n + 1) * sizeof(*nv))) == NULL) {
		free(v);
		snprintf(err, errsz, "tensor '%s': out of memory", name);
		return NULL;
	}
	w->vec = nv;
	w->vec[w->n++] = v;
	if (quant_dequantize_row(gt->type, gt->data, v, n) != 0) {
		snprintf(err, errsz, "tensor '%s': cannot convert type %s", name,
		    gguf_dtype_name(gt->type));
		return NULL;
	}
	return v;
}

void
weights_row(const struct tensor *t, int64_t r, float *out)
{
	quant_dequantize_row(t->type, (const char *)t->data + r * t->row_bytes,
	    out, t->ne0);
}
