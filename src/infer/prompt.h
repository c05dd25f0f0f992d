/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prompt - from a user prompt to the token chunks around the image, as
 * llama.cpp's mtmd assembles them: the GGUF's chat template (matched to a
 * built-in one, Vicuna when the file has none) or a literal layout, the
 * image marker inside the user turn, text before and after the marker
 * tokenised separately, BOS once at the start.  Also builds the tokenizer
 * from the GGUF's tokenizer.ggml.* keys.  Load-time and per-request code;
 * any thread.
 */
#ifndef RS_PROMPT_H
#define RS_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "infer/gguf.h"
#include "infer/tokenizer.h"

#define PROMPT_MARKER	"<image>"	/* the image's place in a layout */

enum prompt_template {
	PROMPT_VICUNA,		/* USER: {content}\nASSISTANT: */
	PROMPT_RADSCRIBE,	/* the default model's own template */
	PROMPT_LITERAL		/* a layout given by the admin */
};

/* prompt_tokenizer - the tokenizer described by g's metadata; NULL + err. */
struct tokenizer *prompt_tokenizer(const struct gguf *g, char *err,
	    size_t errsz);

/*
 * prompt_detect - which built-in template g's tokenizer.chat_template is,
 * as llama.cpp's detection would see it; PROMPT_VICUNA when absent.  -1
 * (err set) for a template radscribe does not know.
 */
int	prompt_detect(const struct gguf *g, char *err, size_t errsz);

/*
 * prompt_render - the full prompt text with PROMPT_MARKER where the image
 * goes, into out (OUT).  layout is used for PROMPT_LITERAL: "{prompt}" is
 * replaced by prompt and it must contain PROMPT_MARKER.  -1 if out is too
 * small or the layout lacks the marker.
 */
int	prompt_render(enum prompt_template tmpl, const char *layout,
	    const char *prompt, char *out, size_t outsz);

/*
 * prompt_tokenize - split rendered at the marker and tokenise both parts:
 * pre gets BOS (when the vocabulary adds one) and the text before the
 * image, post the text after it.  *npre and *npost (OUT) get the counts.
 * 0, or -1 when a part does not fit in max tokens.
 */
int	prompt_tokenize(const struct tokenizer *t, const char *rendered,
	    int32_t *pre, int *npre, int32_t *post, int *npost, int max);

#endif
