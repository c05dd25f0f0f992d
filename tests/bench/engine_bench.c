/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_bench - speed of the inference engine on a model pair: prompt
 * prefill (tokens/s), batch-1 decoding (tokens/s) and the vision encoder
 * (ms per image).  Prints its figures; a benchmark, not a test.
 *
 * usage: engine_bench LLM.gguf MMPROJ.gguf [THREADS [PROMPT [DECODE]]]
 *
 * Also prints the bytes of weights one decoded token reads against a
 * STREAM-like triad on the same threads (the bandwidth limit), and the
 * encoder's GFLOP/s against cblas_sgemm on its own largest shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>
#include <string.h>

#include "infer/blas.h"
#include "infer/clip.h"
#include "infer/gguf.h"
#include "infer/llama.h"
#include "infer/pool.h"
#include "infer/sample.h"
#include "infer/tensor.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct triad {
	float	*a, *b, *c;
	size_t	 n, chunk;
};

static void
triad_task(void *arg, int64_t t, int thread)
{
	struct triad *tr = arg;
	size_t lo = (size_t)t * tr->chunk, hi = lo + tr->chunk;

	(void)thread;
	if (hi > tr->n)
		hi = tr->n;
	for (size_t i = lo; i < hi; i++)
		tr->a[i] = tr->b[i] + 3.0f * tr->c[i];
}

/* triad_gbs - best of 5 a = b + s c over 3 x 512 MB, in GB/s (24 bytes an element counted). */
static double
triad_gbs(struct pool *p)
{
	struct triad tr;
	double best = 0;

	tr.n = (size_t)128 << 20;
	tr.a = malloc(tr.n * sizeof(float));
	tr.b = malloc(tr.n * sizeof(float));
	tr.c = malloc(tr.n * sizeof(float));
	if (!tr.a || !tr.b || !tr.c)
		return 0;
	memset(tr.a, 0, tr.n * sizeof(float));
	for (size_t i = 0; i < tr.n; i++) {
		tr.b[i] = 1.0f;
		tr.c[i] = 2.0f;
	}
	tr.chunk = tr.n / 64;
	for (int r = 0; r < 5; r++) {
		double t = now();

		pool_run(p, triad_task, &tr, 64);
		t = now() - t;
		if (3.0 * tr.n * sizeof(float) / t / 1e9 > best)
			best = 3.0 * tr.n * sizeof(float) / t / 1e9;
	}
	free(tr.a);
	free(tr.b);
	free(tr.c);
	return best;
}

/* weight_bytes - what one decoded token reads: every matrix but the embedding. */
static double
weight_bytes(const struct gguf *g)
{
	double sum = 0;

	for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
		const struct gguf_tensor *t = gguf_tensor(g, i);

		if (strcmp(t->name, "token_embd.weight") != 0)
			sum += (double)t->nbytes;
	}
	if (gguf_find_tensor(g, "output.weight") == NULL &&
	    gguf_find_tensor(g, "token_embd.weight") != NULL)
		sum += (double)gguf_find_tensor(g, "token_embd.weight")->nbytes;
	return sum;
}

int
main(int argc, char *argv[])
{
	char err[512];
	struct gguf *gl, *gv;
	struct pool *p;
	struct llama *m;
	struct clip *c;
	struct llama_kv *kv;
	const struct llama_hparams *hp;
	const struct clip_hparams *ch;
	int threads = argc > 3 ? atoi(argv[3]) : 2;
	int np = argc > 4 ? atoi(argv[4]) : 128, nd = argc > 5 ? atoi(argv[5]) : 128;
	double best_pf = 1e9, best_dec = 1e9, best_enc = 1e9, t;
	float *x, *logits, *px, *emb;
	int32_t *ids;

	if (argc < 3) {
		fprintf(stderr, "usage: engine_bench LLM MMPROJ [THREADS [PROMPT "
		    "[DECODE]]]\n");
		return 2;
	}
	if ((gl = gguf_open(argv[1], err, sizeof(err))) == NULL ||
	    (gv = gguf_open(argv[2], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	p = pool_new(threads);
	pool_set_blas_threads(threads);
	if ((m = llama_load(gl, p, np + nd + 8, 512, err, sizeof(err))) == NULL ||
	    (c = clip_load(gv, p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	hp = llama_hparams(m);
	ch = clip_hparams(c);
	kv = llama_kv_new(m);
	x = malloc((size_t)(np + 1) * hp->n_embd * sizeof(float));
	logits = malloc((size_t)hp->n_vocab * sizeof(float));
	ids = malloc((size_t)np * sizeof(int32_t));
	px = malloc((size_t)3 * ch->image_size * ch->image_size * sizeof(float));
	emb = malloc((size_t)ch->n_patches * ch->proj_dim * sizeof(float));
	srand(1);
	for (int i = 0; i < np; i++)
		ids[i] = 3 + rand() % (hp->n_vocab - 3);
	for (int i = 0; i < 3 * ch->image_size * ch->image_size; i++)
		px[i] = (float)rand() / RAND_MAX - 0.5f;
	for (int rep = 0; rep < 3; rep++) {
		llama_kv_clear(kv);
		llama_embed(m, ids, np, x);
		t = now();
		llama_eval(m, kv, x, np, logits);
		t = now() - t;
		best_pf = t < best_pf ? t : best_pf;
		t = now();
		for (int i = 0; i < nd; i++) {
			int32_t tok = sample_argmax(logits, hp->n_vocab);

			llama_embed(m, &tok, 1, x);
			llama_eval(m, kv, x, 1, logits);
		}
		t = now() - t;
		best_dec = t < best_dec ? t : best_dec;
		t = now();
		clip_encode(c, px, emb);
		t = now() - t;
		best_enc = t < best_enc ? t : best_enc;
	}
	printf("model:     %s (dim %d, %d layers, %d heads, vocab %d)\n", argv[1],
	    hp->n_embd, hp->n_layer, hp->n_head, hp->n_vocab);
	printf("vision:    %s (%dx%d, patch %d, dim %d, %d blocks run)\n", argv[2],
	    ch->image_size, ch->image_size, ch->patch_size, ch->n_embd, ch->depth);
	printf("threads:   %d; OpenBLAS %s; kernels %s\n", threads, blas_corename(),
	    tensor_isa_name(tensor_get_isa()));
	printf("prefill:   %d tokens in %.1f ms = %.0f tokens/s\n", np,
	    best_pf * 1e3, np / best_pf);
	printf("decode:    %d tokens in %.1f ms = %.1f tokens/s\n", nd,
	    best_dec * 1e3, nd / best_dec);
	printf("encoder:   %.1f ms per image (%d positions)\n", best_enc * 1e3,
	    ch->n_pos);
	if (getenv("ENGINE_BENCH_LIMITS") != NULL) {
		double bytes = weight_bytes(gl), gbs = triad_gbs(p);
		double n = ch->n_pos, D = ch->n_embd, F = ch->n_ff;
		double flops = ch->depth * (2 * n * (4 * D * D + 2 * D * F) +
		    4 * n * n * D) + 2.0 * ch->n_patches * 3 * ch->patch_size *
		    ch->patch_size * D;
		float *A = calloc((size_t)(n * D), sizeof(float));
		float *B = calloc((size_t)(D * F), sizeof(float));
		float *C = calloc((size_t)(n * F), sizeof(float));
		double best = 1e9;

		for (int r = 0; r < 5; r++) {
			t = now();
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n,
			    (int)F, (int)D, 1.0f, A, (int)D, B, (int)D, 0.0f, C, (int)F);
			t = now() - t;
			best = t < best ? t : best;
		}
		printf("weights:   %.1f MB read per decoded token; triad %.1f GB/s "
		    "on %d threads -> limit %.1f tokens/s; decode reached %.0f%%\n",
		    bytes / 1e6, gbs, threads, gbs * 1e9 / bytes,
		    100.0 * (nd / best_dec) / (gbs * 1e9 / bytes));
		printf("encoder:   %.1f GFLOP per image -> %.1f GFLOP/s; sgemm %dx%dx%d "
		    "%.1f GFLOP/s -> %.0f%%\n", flops / 1e9, flops / best_enc / 1e9,
		    (int)n, (int)F, (int)D, 2 * n * D * F / best / 1e9,
		    100.0 * (flops / best_enc) / (2 * n * D * F / best));
		free(A);
		free(B);
		free(C);
	}
	return 0;
}
