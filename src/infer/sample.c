/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sample - greedy and beam search over the decoder.  Beam scores are sums
 * of log-probabilities; a finished hypothesis is scored by its sum divided
 * by its length (length_penalty 1.0), and search stops, as in Hugging
 * Face's BeamHypotheses with early_stopping false, when no running beam
 * can still beat the worst kept hypothesis.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/sample.h"

#define MAXB	8

struct beam {
	struct llama_kv	*kv;
	int32_t		*toks;
	int		 n;
	double		 score;		/* sum of log-probabilities */
	float		*logits;
};

struct hyp {
	int32_t		*toks;
	int		 n;
	double		 score;		/* normalised */
};

struct sample {
	struct llama	*m;
	int		 maxb, max_new, n_vocab;
	struct beam	 beams[MAXB], next[MAXB];
	struct hyp	 done[MAXB];
	int		 ndone;
	float		*x;
	/* candidates: beam, token, score */
	int		*cb, *ct;
	double		*cs;
};

void
sample_free(struct sample *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < MAXB; i++) {
		llama_kv_free(s->beams[i].kv);
		llama_kv_free(s->next[i].kv);
		free(s->beams[i].toks);
		free(s->next[i].toks);
		free(s->beams[i].logits);
		free(s->next[i].logits);
		free(s->done[i].toks);
	}
	free(s->x);
	free(s->cb);
	free(s->ct);
	free(s->cs);
	free(s);
}

struct sample *
sample_new(struct llama *m, int beams, int max_new)
{
	struct sample *s = calloc(1, sizeof(*s));
	const struct llama_hparams *hp = llama_hparams(m);

	if (s == NULL || beams < 1 || beams > MAXB || max_new < 1) {
		free(s);
		return NULL;
	}
	s->m = m;
	s->maxb = beams;
	s->max_new = max_new;
	s->n_vocab = hp->n_vocab;
	for (int i = 0; i < beams; i++) {
		struct beam *b[2] = { &s->beams[i], &s->next[i] };

		for (int j = 0; j < 2; j++)
			if ((b[j]->kv = llama_kv_new(m)) == NULL ||
			    (b[j]->toks = calloc((size_t)max_new, sizeof(int32_t))) == NULL ||
			    (b[j]->logits = malloc((size_t)hp->n_vocab * sizeof(float))) == NULL)
				goto fail;
		if ((s->done[i].toks = calloc((size_t)max_new, sizeof(int32_t))) == NULL)
			goto fail;
	}
	s->x = malloc((size_t)hp->n_embd * sizeof(float));
	s->cb = malloc((size_t)beams * 2 * beams * sizeof(int));
	s->ct = malloc((size_t)beams * 2 * beams * sizeof(int));
	s->cs = malloc((size_t)beams * 2 * beams * sizeof(double));
	if (!s->x || !s->cb || !s->ct || !s->cs)
		goto fail;
	return s;
fail:
	sample_free(s);
	return NULL;
}

int
sample_argmax(const float *v, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* log_norm - log of the softmax denominator of v: log p(t) = v[t] - it. */
static double
log_norm(const float *v, int n)
{
	float mx = v[sample_argmax(v, n)];
	double sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += exp((double)v[i] - mx);
	return mx + log(sum);
}

static void
add_hyp(struct sample *s, const struct beam *b, int extra, double sum)
{
	int len = b->n + extra;
	double score = sum / (len > 0 ? len : 1);
	int worst = 0;

	if (s->ndone < s->maxb) {
		worst = s->ndone++;
	} else {
		for (int i = 1; i < s->ndone; i++)
			if (s->done[i].score < s->done[worst].score)
				worst = i;
		if (score <= s->done[worst].score)
			return;
	}
	memcpy(s->done[worst].toks, b->toks, (size_t)b->n * sizeof(int32_t));
	s->done[worst].n = b->n;
	s->done[worst].score = score;
}

static int
greedy(struct sample *s, const struct tokenizer *t, int max_new, int32_t *out)
{
	struct beam *b = &s->beams[0];
	int n = 0;

	while (n < max_new) {
		int tok = sample_argmax(b->logits, s->n_vocab);

		if (tokenizer_is_eog(t, tok))
			break;
		out[n++] = tok;
		if (n == max_new)
			break;
		if (llama_embed(s->m, &out[n - 1], 1, s->x) == -1 ||
		    llama_eval(s->m, b->kv, s->x, 1, b->logits) == -1)
			return -1;
	}
	return n;
}

int
sample_run(struct sample *s, const struct tokenizer *t, const float *prefix,
    int n, int beams, int max_new, int32_t *out)
{
	int alive = 1, nv = s->n_vocab;

	if (beams < 1 || beams > s->maxb || max_new > s->max_new)
		return -1;
	llama_kv_clear(s->beams[0].kv);
	if (llama_eval(s->m, s->beams[0].kv, prefix, n, s->beams[0].logits) == -1)
		return -1;
	s->beams[0].n = 0;
	s->beams[0].score = 0.0;
	if (beams == 1)
		return greedy(s, t, max_new, out);

	s->ndone = 0;
	for (int step = 0; step < max_new && alive > 0; step++) {
		int nc = 0, keep = 0;

		/* The 2B best continuations over all running beams. */
		for (int i = 0; i < alive; i++) {
			struct beam *b = &s->beams[i];
			double lz = log_norm(b->logits, nv);

			for (int v = 0; v < nv; v++) {
				double sc = b->score + ((double)b->logits[v] - lz);
				int at = nc < 2 * beams ? nc++ : 2 * beams - 1;

				if (at == 2 * beams - 1 && nc == 2 * beams &&
				    sc <= s->cs[at])
					continue;
				/* insertion into a small sorted list */
				while (at > 0 && s->cs[at - 1] < sc) {
					s->cs[at] = s->cs[at - 1];
					s->cb[at] = s->cb[at - 1];
					s->ct[at] = s->ct[at - 1];
					at--;
				}
				s->cs[at] = sc;
				s->cb[at] = i;
				s->ct[at] = v;
			}
		}
		for (int c = 0; c < nc && keep < beams; c++) {
			struct beam *src = &s->beams[s->cb[c]];

			if (tokenizer_is_eog(t, s->ct[c])) {
				/* Only candidates in the top B may finish (HF). */
				if (c < beams)
					add_hyp(s, src, 0, s->cs[c]);
				continue;
			}
			struct beam *dst = &s->next[keep++];
			llama_kv_copy(dst->kv, src->kv);
			memcpy(dst->toks, src->toks, (size_t)src->n * sizeof(int32_t));
			dst->n = src->n;
			dst->toks[dst->n++] = s->ct[c];
			dst->score = s->cs[c];
		}
		alive = keep;
		for (int i = 0; i < alive; i++) {
			struct beam tmp = s->beams[i];

			s->beams[i] = s->next[i];
			s->next[i] = tmp;
		}
		/* Stop when no running beam can beat the worst kept hypothesis. */
		if (s->ndone == beams) {
			double worst = s->done[0].score, best_run = -INFINITY;

			for (int i = 1; i < s->ndone; i++)
				if (s->done[i].score < worst)
					worst = s->done[i].score;
			for (int i = 0; i < alive; i++)
				if (s->beams[i].score / s->beams[i].n > best_run)
					best_run = s->beams[i].score / s->beams[i].n;
			if (best_run <= worst)
				break;
		}
		if (step + 1 == max_new)
			break;
		for (int i = 0; i < alive; i++) {
			struct beam *b = &s->beams[i];

			if (llama_embed(s->m, &b->toks[b->n - 1], 1, s->x) == -1 ||
			    llama_eval(s->m, b->kv, s->x, 1, b->logits) == -1)
				return -1;
		}
	}
	/* Running beams count as hypotheses when the length limit ends the search. */
	for (int i = 0; i < alive; i++)
		add_hyp(s, &s->beams[i], 0, s->beams[i].score);
	{
		int best = 0;

		for (int i = 1; i < s->ndone; i++)
			if (s->done[i].score > s->done[best].score)
				best = i;
		memcpy(out, s->done[best].toks, (size_t)s->done[best].n *
		    sizeof(int32_t));
		return s->done[best].n;
	}
}
