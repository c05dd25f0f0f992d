/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prompt - chat templates and the mtmd-style split around the image.
 * Template detection follows llama.cpp's heuristics (substring tests on
 * the Jinja source); rendering is done here in C, not by a Jinja engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/prompt.h"

/* Keys are optional unless noted; GGUF strings are not NUL-terminated. */
struct tokenizer *
prompt_tokenizer(const struct gguf *g, char *err, size_t errsz)
{
	struct tokenizer_vocab v;
	struct tokenizer *t = NULL;
	const char *model;
	int64_t kt, ks, kty, km;
	uint64_t n;
	const char **toks = NULL, **merges = NULL;
	size_t *lens = NULL, *mlens = NULL;
	float *scores = NULL;
	int32_t *types = NULL, id;
	int b;

	memset(&v, 0, sizeof(v));
	if (gguf_get_str(g, "tokenizer.ggml.model", &model, NULL) != GGUF_OK) {
		snprintf(err, errsz, "missing key 'tokenizer.ggml.model'");
		return NULL;
	}
	if (strcmp(model, "llama") == 0)
		v.model = TOKENIZER_SPM;
	else if (strcmp(model, "gpt2") == 0)
		v.model = TOKENIZER_BPE;
	else {
		snprintf(err, errsz, "tokenizer.ggml.model '%s' is not supported "
		    "(llama, gpt2)", model);
		return NULL;
	}
	if ((kt = gguf_find_key(g, "tokenizer.ggml.tokens")) < 0 ||
	    gguf_key_type(g, kt) != GGUF_TYPE_ARRAY ||
	    gguf_arr_type(g, kt) != GGUF_TYPE_STRING ||
	    (n = gguf_arr_len(g, kt)) == 0 || n > (1u << 24)) {
		snprintf(err, errsz, "key 'tokenizer.ggml.tokens': missing or not "
		    "a list of strings");
		return NULL;
	}
	toks = calloc(n, sizeof(*toks));
	lens = calloc(n, sizeof(*lens));
	scores = calloc(n, sizeof(*scores));
	types = calloc(n, sizeof(*types));
	if (!toks || !lens || !scores || !types) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	ks = gguf_find_key(g, "tokenizer.ggml.scores");
	kty = gguf_find_key(g, "tokenizer.ggml.token_type");
	if ((ks >= 0 && (gguf_key_type(g, ks) != GGUF_TYPE_ARRAY ||
	    gguf_arr_len(g, ks) != n || gguf_arr_type(g, ks) == GGUF_TYPE_STRING)) ||
	    (kty >= 0 && (gguf_key_type(g, kty) != GGUF_TYPE_ARRAY ||
	    gguf_arr_len(g, kty) != n || gguf_arr_type(g, kty) == GGUF_TYPE_STRING))) {
		snprintf(err, errsz, "tokenizer.ggml.scores/token_type: not %llu "
		    "numbers", (unsigned long long)n);
		goto out;
	}
	for (uint64_t i = 0; i < n; i++) {
		toks[i] = gguf_arr_str(g, kt, i, &lens[i]);
		scores[i] = ks >= 0 ? gguf_arr_f32(g, ks, i) : 0.0f;
		types[i] = kty >= 0 ? (int32_t)gguf_arr_i64(g, kty, i) :
		    TOKENIZER_TYPE_NORMAL;
	}
	v.n_tokens = (int32_t)n;
	v.tokens = toks;
	v.token_lens = lens;
	v.scores = scores;
	v.types = types;
	if (v.model == TOKENIZER_BPE) {
		const char *pre;

		/* llama.cpp splits differently when the key is absent or other. */
		if (gguf_get_str(g, "tokenizer.ggml.pre", &pre, NULL) != GGUF_OK ||
		    (strcmp(pre, "gpt-2") != 0 && strcmp(pre, "gpt2") != 0)) {
			snprintf(err, errsz, "tokenizer.ggml.pre must be 'gpt-2' for a "
			    "gpt2 tokenizer (others are not supported)");
			goto out;
		}
		v.pre = TOKENIZER_PRE_GPT2;
		if ((km = gguf_find_key(g, "tokenizer.ggml.merges")) < 0 ||
		    gguf_key_type(g, km) != GGUF_TYPE_ARRAY ||
		    gguf_arr_type(g, km) != GGUF_TYPE_STRING) {
			snprintf(err, errsz, "key 'tokenizer.ggml.merges' missing "
			    "(needed by a gpt2 tokenizer)");
			goto out;
		}
		n = gguf_arr_len(g, km);
		merges = calloc(n ? n : 1, sizeof(*merges));
		mlens = calloc(n ? n : 1, sizeof(*mlens));
		if (!merges || !mlens) {
			snprintf(err, errsz, "out of memory");
			goto out;
		}
		for (uint64_t i = 0; i < n; i++)
			merges[i] = gguf_arr_str(g, km, i, &mlens[i]);
		v.n_merges = (int32_t)n;
		v.merges = merges;
		v.merge_lens = mlens;
	}
	v.bos = v.eos = v.unk = v.eot = v.pad = -1;
	if (gguf_get_i32(g, "tokenizer.ggml.bos_token_id", &id) == GGUF_OK)
		v.bos = id;
	if (gguf_get_i32(g, "tokenizer.ggml.eos_token_id", &id) == GGUF_OK)
		v.eos = id;
	if (gguf_get_i32(g, "tokenizer.ggml.unknown_token_id", &id) == GGUF_OK)
		v.unk = id;
	if (gguf_get_i32(g, "tokenizer.ggml.eot_token_id", &id) == GGUF_OK)
		v.eot = id;
	if (gguf_get_i32(g, "tokenizer.ggml.padding_token_id", &id) == GGUF_OK)
		v.pad = id;
	/* llama.cpp's defaults: SPM adds BOS and a leading space; BPE neither. */
	v.add_bos = v.model == TOKENIZER_SPM;
	v.add_space_prefix = v.model == TOKENIZER_SPM;
	if (gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b) == GGUF_OK)
		v.add_bos = b;
	if (gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b) == GGUF_OK)
		v.add_eos = b;
	if (gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b) == GGUF_OK)
		v.add_space_prefix = b;
	t = tokenizer_new(&v, err, errsz);
out:
	free(toks);
	free(lens);
	free(scores);
	free(types);
	free(merges);
	free(mlens);
	return t;
}

int
prompt_detect(const struct gguf *g, char *err, size_t errsz)
{
	const char *tmpl;

	if (gguf_get_str(g, "tokenizer.chat_template", &tmpl, NULL) != GGUF_OK)
		return PROMPT_VICUNA;
	if (strstr(tmpl, "radscribe") != NULL)
		return PROMPT_RADSCRIBE;
	/* llama.cpp: "USER: " and "ASSISTANT: " in the source mean Vicuna. */
	if (strstr(tmpl, "USER: ") != NULL && strstr(tmpl, "ASSISTANT: ") != NULL)
		return PROMPT_VICUNA;
	snprintf(err, errsz, "tokenizer.chat_template is not one radscribe knows "
	    "(Vicuna or radscribe's own); give a literal prompt layout instead");
	return -1;
}

static int
append(char *out, size_t outsz, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > outsz)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

int
prompt_render(enum prompt_template tmpl, const char *layout,
    const char *prompt, char *out, size_t outsz)
{
	size_t len = 0;
	const char *p, *q;

	out[0] = '\0';
	switch (tmpl) {
	case PROMPT_VICUNA:
	case PROMPT_RADSCRIBE:
		/* The user turn is the image marker followed by the prompt. */
		return snprintf(out, outsz, "USER: %s%s\nASSISTANT:",
		    PROMPT_MARKER, prompt) >= (int)outsz ? -1 : 0;
	case PROMPT_LITERAL:
		if (layout == NULL || strstr(layout, PROMPT_MARKER) == NULL)
			return -1;
		for (p = layout; (q = strstr(p, "{prompt}")) != NULL; p = q + 8)
			if (append(out, outsz, &len, p, (size_t)(q - p)) == -1 ||
			    append(out, outsz, &len, prompt, strlen(prompt)) == -1)
				return -1;
		return append(out, outsz, &len, p, strlen(p));
	}
	return -1;
}

int
prompt_tokenize(const struct tokenizer *t, const char *rendered, int32_t *pre,
    int *npre, int32_t *post, int *npost, int max)
{
	const char *m = strstr(rendered, PROMPT_MARKER);
	const char *after;

	if (m == NULL)
		return -1;
	after = m + strlen(PROMPT_MARKER);
	/* BOS once at the start; special tokens in the template are parsed. */
	if ((*npre = tokenizer_encode(t, rendered, (size_t)(m - rendered),
	    TOKENIZER_ADD_SPECIAL | TOKENIZER_PARSE_SPECIAL, pre, max)) < 0 ||
	    (*npost = tokenizer_encode(t, after, strlen(after),
	    TOKENIZER_PARSE_SPECIAL, post, max)) < 0)
		return -1;
	return 0;
}
