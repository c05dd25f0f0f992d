/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sample - token selection: greedy, and beam search as Hugging Face's
 * generate() does it (num_beams, length_penalty 1.0, early_stopping
 * false), which is how Med-CXRGen decodes (2 beams).  Deterministic for a
 * given input.  All memory comes from sample_new, so the token loop does
 * not allocate.  One thread per struct sample.
 */
#ifndef RS_SAMPLE_H
#define RS_SAMPLE_H

#include <stdint.h>

#include "infer/llama.h"
#include "infer/tokenizer.h"

struct sample;

/* sample_argmax - index of the largest of v[0..n) (the first on a tie). */
int	sample_argmax(const float *v, int n);

/* sample_new - state for up to beams beams and max_new tokens on model m. */
struct sample *sample_new(struct llama *m, int beams, int max_new);
void	sample_free(struct sample *s);

/*
 * sample_run - evaluate the prefix (n x n_embd embeddings) from an empty
 * cache, then generate until an end-of-generation token or max_new tokens
 * (beams = 1: greedy).  The chosen sequence, without the end token, goes
 * to out (OUT, max_new slots).  Returns its length, or -1 when the
 * context is too short.
 */
int	sample_run(struct sample *s, const struct tokenizer *t,
	    const float *prefix, int n, int beams, int max_new,
	    int32_t *out /* OUT */);

#endif
