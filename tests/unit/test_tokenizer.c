/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_tokenizer - SPM and BPE encodings against the fixtures that
 * tests/tools/mktokdata.py wrote from independent references
 * (sentencepiece itself, a GPT-2 encoder.py transcription), round trips,
 * special tokens, overflow and invalid vocabularies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "infer/tokenizer.h"

/* A case: input text, add_special flag and the expected ids. */
struct tcase {
	char		*text;
	size_t		 len;
	int		 flags;
	int32_t		*ids;
	int		 n;
};

/* A parsed fixture file: the vocabulary arrays and the cases. */
struct fixture {
	struct tokenizer_vocab	 v;
	char			**tok;
	size_t			*toklen;
	float			*score;
	int32_t			*type;
	char			**merge;
	size_t			*mergelen;
	struct tcase		*c;
	int			 nc;
};

/* unhex - decode HEX ("-" is empty) into a malloc'd buffer. */
static char *
unhex(const char *h, size_t *len)
{
	size_t n = strcspn(h, " \n"), i;
	char *out;

	if (n == 1 && h[0] == '-')
		n = 0;
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	*len = n / 2;
	return out;
}

/* flag - value of "name=N" in a flags line, or def. */
static int
flag(const char *line, const char *name, int def)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), " %s=", name);
	if ((p = strstr(line, key)) == NULL)
		return def;
	return atoi(p + strlen(key));
}

/* fixture_load - parse tests/data/tokenizer/NAME. */
static struct fixture *
fixture_load(const char *name)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *top = getenv("top_srcdir");
	char path[1024], *line = NULL;
	size_t cap = 0, ntok = 0, nmerge = 0, acap = 0, mcap = 0, ccap = 0;
	FILE *f;

	assert_non_null(fx);
	snprintf(path, sizeof(path), "%s/tests/data/tokenizer/%s",
	    top != NULL ? top : ".", name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "model ", 6) == 0) {
			fx->v.model = strncmp(line + 6, "spm", 3) == 0 ?
			    TOKENIZER_SPM : TOKENIZER_BPE;
		} else if (strncmp(line, "flags", 5) == 0) {
			fx->v.bos = flag(line, "bos", -1);
			fx->v.eos = flag(line, "eos", -1);
			fx->v.unk = flag(line, "unk", -1);
			fx->v.eot = -1;
			fx->v.pad = -1;
			fx->v.add_bos = flag(line, "add_bos", 0);
			fx->v.add_space_prefix = flag(line, "add_space_prefix", 0);
			fx->v.clean_spaces = flag(line, "clean_spaces", 0);
		} else if (strncmp(line, "token ", 6) == 0) {
			int ty, off = 0;
			float sc;

			if (ntok == acap) {
				acap = acap ? 2 * acap : 512;
				fx->tok = realloc(fx->tok, acap * sizeof(char *));
				fx->toklen = realloc(fx->toklen, acap *
				    sizeof(size_t));
				fx->score = realloc(fx->score, acap *
				    sizeof(float));
				fx->type = realloc(fx->type, acap *
				    sizeof(int32_t));
				assert_true(fx->tok && fx->toklen && fx->score &&
				    fx->type);
			}
			assert_int_equal(sscanf(line + 6, "%d %f %n", &ty, &sc,
			    &off), 2);
			fx->type[ntok] = ty;
			fx->score[ntok] = sc;
			fx->tok[ntok] = unhex(line + 6 + off, &fx->toklen[ntok]);
			ntok++;
		} else if (strncmp(line, "merge ", 6) == 0) {
			if (nmerge == mcap) {
				mcap = mcap ? 2 * mcap : 512;
				fx->merge = realloc(fx->merge, mcap *
				    sizeof(char *));
				fx->mergelen = realloc(fx->mergelen, mcap *
				    sizeof(size_t));
				assert_true(fx->merge && fx->mergelen);
			}
			fx->merge[nmerge] = unhex(line + 6, &fx->mergelen[nmerge]);
			nmerge++;
		} else if (strncmp(line, "case ", 5) == 0) {
			struct tcase *c;

			if ((size_t)fx->nc == ccap) {
				ccap = ccap ? 2 * ccap : 256;
				fx->c = realloc(fx->c, ccap * sizeof(*fx->c));
				assert_non_null(fx->c);
			}
			c = &fx->c[fx->nc++];
			memset(c, 0, sizeof(*c));
			c->flags = atoi(line + 5);
			c->text = unhex(strchr(line + 5, ' ') + 1, &c->len);
		} else if (strncmp(line, "ids", 3) == 0) {
			struct tcase *c = &fx->c[fx->nc - 1];
			char *p = line + 3, *end;

			c->ids = malloc((strlen(line) / 2 + 1) * sizeof(int32_t));
			assert_non_null(c->ids);
			for (;;) {
				long v = strtol(p, &end, 10);
				if (end == p)
					break;
				c->ids[c->n++] = (int32_t)v;
				p = end;
			}
		}
	}
	free(line);
	fclose(f);
	fx->v.n_tokens = (int32_t)ntok;
	fx->v.tokens = (const char *const *)fx->tok;
	fx->v.token_lens = fx->toklen;
	fx->v.scores = fx->score;
	fx->v.types = fx->type;
	fx->v.n_merges = (int32_t)nmerge;
	fx->v.merges = (const char *const *)fx->merge;
	fx->v.merge_lens = fx->mergelen;
	assert_true(ntok > 0 && fx->nc > 0);
	return fx;
}

/* fixture_free - release everything fixture_load allocated. */
static void
fixture_free(struct fixture *fx)
{
	int i;

	for (i = 0; i < fx->v.n_tokens; i++)
		free(fx->tok[i]);
	for (i = 0; i < fx->v.n_merges; i++)
		free(fx->merge[i]);
	for (i = 0; i < fx->nc; i++) {
		free(fx->c[i].text);
		free(fx->c[i].ids);
	}
	free(fx->tok);
	free(fx->toklen);
	free(fx->score);
	free(fx->type);
	free(fx->merge);
	free(fx->mergelen);
	free(fx->c);
	free(fx);
}

/* new_tok - build a tokenizer or fail the test with its message. */
static struct tokenizer *
new_tok(const struct tokenizer_vocab *v)
{
	char err[256] = "";
	struct tokenizer *t = tokenizer_new(v, err, sizeof(err));

	if (t == NULL)
		fail_msg("tokenizer_new: %s", err);
	return t;
}

/* encode - encode into a fixed buffer, asserting success. */
static int
encode(const struct tokenizer *t, const char *s, size_t len, int flags,
    int32_t *out, int max)
{
	int n = tokenizer_encode(t, s, len, flags, out, max);

	assert_true(n >= 0);
	return n;
}

/* show - print a failing case readably. */
static void
show(const struct tcase *c, const int32_t *got, int n)
{
	int i;

	print_message("# text (%zu bytes): '%.*s'\n# want:", c->len,
	    (int)c->len, c->text);
	for (i = 0; i < c->n; i++)
		print_message(" %d", c->ids[i]);
	print_message("\n# got: ");
	for (i = 0; i < n; i++)
		print_message(" %d", got[i]);
	print_message("\n");
}

/* unescape - SPM decoding turns every U+2581 in the text into a space. */
static void
unescape(char *s)
{
	char *p;

	while ((p = strstr(s, "\xe2\x96\x81")) != NULL) {
		*p = ' ';
		memmove(p + 1, p + 3, strlen(p + 3) + 1);
	}
}

/*
 * check_fixture - every case encodes to the reference ids and decodes back
 * to its text (with llama.cpp's leading-space rule).
 */
static void
check_fixture(const char *name, int roundtrip)
{
	struct fixture *fx = fixture_load(name);
	struct tokenizer *t = new_tok(&fx->v);
	int32_t ids[4096];
	char text[16384], want[16384];
	int i, n, bad = 0, rt_bad = 0, m;

	for (i = 0; i < fx->nc; i++) {
		const struct tcase *c = &fx->c[i];

		n = encode(t, c->text, c->len, c->flags, ids, 4096);
		if (n != c->n || memcmp(ids, c->ids, (size_t)n *
		    sizeof(int32_t)) != 0) {
			show(c, ids, n);
			bad++;
			continue;
		}
		if (!roundtrip)
			continue;
		m = tokenizer_decode(t, ids, n, text, sizeof(text));
		assert_true(m >= 0);
		/* a BOS first takes the strip, so its space stays */
		snprintf(want, sizeof(want), "%s%.*s", c->flags && c->len &&
		    fx->v.add_space_prefix ? " " : "", (int)c->len, c->text);
		if (fx->v.model == TOKENIZER_SPM)
			unescape(want);
		if ((size_t)m != strlen(want) || memcmp(text, want, (size_t)m)) {
			print_message("# round trip: '%s' -> '%.*s'\n", want, m,
			    text);
			rt_bad++;
		}
	}
	print_message("# %s: %d cases, %d encode mismatches, %d round-trip "
	    "mismatches\n", name, fx->nc, bad, rt_bad);
	assert_int_equal(bad, 0);
	assert_int_equal(rt_bad, 0);
	tokenizer_free(t);
	fixture_free(fx);
}

/* SentencePiece BPE: ids identical to sentencepiece's own encode(). */
static void
test_spm_bpe(void **state)
{
	(void)state;
	check_fixture("spm_bpe.txt", 1);
}

/* SentencePiece unigram: ids identical to llama.cpp's algorithm. */
static void
test_spm_unigram(void **state)
{
	(void)state;
	check_fixture("spm_unigram.txt", 1);
}

/* GPT-2 byte-level BPE: ids identical to encoder.py's algorithm. */
static void
test_bpe(void **state)
{
	struct fixture *fx;
	struct tokenizer *t;
	int32_t ids[4096];
	char text[16384];
	int i, n, m;

	(void)state;
	check_fixture("bpe.txt", 0);
	/* round trips are exact without clean_spaces */
	fx = fixture_load("bpe.txt");
	fx->v.clean_spaces = 0;
	t = new_tok(&fx->v);
	for (i = 0; i < fx->nc; i++) {
		n = encode(t, fx->c[i].text, fx->c[i].len, 0, ids, 4096);
		m = tokenizer_decode(t, ids, n, text, sizeof(text));
		assert_int_equal(m, (int)fx->c[i].len);
		assert_memory_equal(text, fx->c[i].text, fx->c[i].len);
	}
	tokenizer_free(t);
	fixture_free(fx);
}

/* BPE decode with clean_spaces, as llama.cpp's detokenize tidies. */
static void
test_bpe_clean_spaces(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a , b . c ? d !", "a, b. c? d!" },
		{ "x ' y", "x'y" },
		{ "it 's we 're they 've I 'm", "it's we're they've I'm" },
		{ "don 't we 'll he 'd", "don 't we 'll he 'd" },
		{ " .", "." },
		{ "", "" },
	};
	struct fixture *fx = fixture_load("bpe.txt");
	struct tokenizer *t = new_tok(&fx->v);
	int32_t ids[256];
	char text[256];
	size_t i;
	int n, m;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = encode(t, cases[i].in, strlen(cases[i].in), 0, ids, 256);
		m = tokenizer_decode(t, ids, n, text, sizeof(text));
		assert_true(m >= 0);
		assert_string_equal(text, cases[i].out);
	}
	tokenizer_free(t);
	fixture_free(fx);
}

/*
 * Invalid UTF-8: SPM keeps the bytes (the lead byte \xc3 swallows the
 * first byte of the escaped space, so that space comes back as raw
 * U+2581 bytes, as in llama.cpp); BPE turns each bad byte into U+FFFD.
 */
static void
test_invalid_utf8(void **state)
{
	static const char in[] = "ok \xff\xfe\xc3 end\xe2\x96";
	static const char spm[] = "ok \xff\xfe\xc3\xe2\x96\x81" "end\xe2\x96";
	struct fixture *fx;
	struct tokenizer *t;
	int32_t ids[256];
	char text[256];
	int n, m;

	(void)state;
	fx = fixture_load("spm_bpe.txt");
	t = new_tok(&fx->v);
	n = encode(t, in, sizeof(in) - 1, 0, ids, 256);
	m = tokenizer_decode(t, ids, n, text, sizeof(text));
	assert_int_equal(m, (int)sizeof(spm) - 1);
	assert_memory_equal(text, spm, sizeof(spm) - 1);
	tokenizer_free(t);
	fixture_free(fx);

	fx = fixture_load("bpe.txt");
	fx->v.clean_spaces = 0;
	t = new_tok(&fx->v);
	n = encode(t, in, sizeof(in) - 1, 0, ids, 256);
	m = tokenizer_decode(t, ids, n, text, sizeof(text));
	assert_true(m >= 0);
	assert_string_equal(text, "ok \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    " end\xef\xbf\xbd\xef\xbf\xbd");
	tokenizer_free(t);
	fixture_free(fx);
}

/* concat - encode each part alone (flags 0) and join, for expectations. */
static int
concat(const struct tokenizer *t, const char *const *parts, int np,
    const int32_t *specials, int32_t *out)
{
	int i, n = 0;

	for (i = 0; i < np; i++) {
		if (parts[i] != NULL)
			n += encode(t, parts[i], strlen(parts[i]), 0, out + n,
			    4096 - n);
		else
			out[n++] = specials[i];
	}
	return n;
}

/*
 * Special tokens as llama.cpp's tokenizer_st_partition: control tokens
 * only with PARSE_SPECIAL, user-defined always; the text after a special
 * token gets the SentencePiece space prefix again.
 */
static void
test_special_tokens(void **state)
{
	struct fixture *fx = fixture_load("spm_bpe.txt");
	struct tokenizer *t;
	int32_t ids[4096], want[4096], sp[4];
	const char *parts[4];
	const char *s;
	int n, w, img;
	char **tok;
	size_t *len;
	int32_t *type;
	float *score;

	(void)state;
	/* add a user-defined "<image>" at the end */
	img = fx->v.n_tokens;
	tok = realloc(fx->tok, (size_t)(img + 1) * sizeof(char *));
	len = realloc(fx->toklen, (size_t)(img + 1) * sizeof(size_t));
	type = realloc(fx->type, (size_t)(img + 1) * sizeof(int32_t));
	score = realloc(fx->score, (size_t)(img + 1) * sizeof(float));
	assert_true(tok && len && type && score);
	fx->tok = tok;
	fx->toklen = len;
	fx->type = type;
	fx->score = score;
	fx->tok[img] = strdup("<image>");
	fx->toklen[img] = 7;
	fx->type[img] = TOKENIZER_TYPE_USER_DEFINED;
	fx->score[img] = 0;
	fx->v.n_tokens = img + 1;
	fx->v.tokens = (const char *const *)fx->tok;
	fx->v.token_lens = fx->toklen;
	fx->v.types = fx->type;
	fx->v.scores = fx->score;
	t = new_tok(&fx->v);

	s = "USER: <image>\nDescribe the findings. </s>";
	n = encode(t, s, strlen(s), TOKENIZER_ADD_SPECIAL, ids, 4096);
	parts[0] = "USER: ";
	parts[1] = NULL;
	sp[1] = img;
	parts[2] = "\nDescribe the findings. </s>";
	want[0] = 1;
	w = 1 + concat(t, parts, 3, sp, want + 1);
	assert_int_equal(n, w);
	assert_memory_equal(ids, want, (size_t)n * sizeof(int32_t));

	/* with PARSE_SPECIAL "</s>" is eos; "<s>" is bos */
	n = encode(t, s, strlen(s), TOKENIZER_PARSE_SPECIAL, ids, 4096);
	parts[2] = "\nDescribe the findings. ";
	parts[3] = NULL;
	sp[3] = 2;
	w = concat(t, parts, 4, sp, want);
	assert_int_equal(n, w);
	assert_memory_equal(ids, want, (size_t)n * sizeof(int32_t));
	assert_int_equal(ids[n - 1], 2);

	n = encode(t, "<s><s>", 6, TOKENIZER_PARSE_SPECIAL, ids, 4096);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 1);

	/* decode: control prints nothing, user-defined prints its text */
	{
		char text[256];
		int32_t seq[3] = { 1, img, 2 };

		assert_int_equal(tokenizer_decode(t, seq, 3, text,
		    sizeof(text)), 7);
		assert_string_equal(text, "<image>");
	}
	tokenizer_free(t);
	fixture_free(fx);
}

/* Pieces, accessors, EOG and streaming helpers. */
static void
test_pieces(void **state)
{
	struct fixture *fx = fixture_load("spm_bpe.txt");
	struct tokenizer *t = new_tok(&fx->v);
	const char *p;
	size_t len;
	int32_t id, ids[64];
	char text[64];

	(void)state;
	assert_int_equal(tokenizer_bos(t), 1);
	assert_int_equal(tokenizer_eos(t), 2);
	assert_int_equal(tokenizer_n_vocab(t), fx->v.n_tokens);
	assert_int_equal(tokenizer_model(t), TOKENIZER_SPM);
	assert_true(tokenizer_add_bos(t));
	assert_true(tokenizer_is_eog(t, 2));
	assert_false(tokenizer_is_eog(t, 1));
	assert_false(tokenizer_is_eog(t, -1));
	assert_false(tokenizer_is_eog(t, fx->v.n_tokens));
	p = tokenizer_piece(t, 1, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	id = tokenizer_find(t, "<0x41>", 6);
	assert_true(id >= 0);
	assert_int_equal(tokenizer_token_type(t, id), TOKENIZER_TYPE_BYTE);
	p = tokenizer_piece(t, id, &len);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 'A');
	id = tokenizer_find(t, "\xe2\x96\x81the", 6);
	assert_true(id >= 0);
	p = tokenizer_piece(t, id, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(p, " the", 4);
	assert_null(tokenizer_piece(t, -1, &len));
	assert_null(tokenizer_piece(t, fx->v.n_tokens, &len));

	/* decode refuses bad ids and short buffers */
	ids[0] = fx->v.n_tokens;
	assert_int_equal(tokenizer_decode(t, ids, 1, text, sizeof(text)), -1);
	ids[0] = id;
	assert_int_equal(tokenizer_decode(t, ids, 1, text, 3), -1);
	assert_int_equal(tokenizer_decode(t, ids, 1, text, 4), 3);
	assert_string_equal(text, "the");

	/* streaming: an incomplete UTF-8 tail is held back */
	assert_int_equal(tokenizer_utf8_complete("ab\xc3", 3), 2);
	assert_int_equal(tokenizer_utf8_complete("ab\xc3\xa9", 4), 4);
	assert_int_equal(tokenizer_utf8_complete("\xf0\x9f\x99", 3), 0);
	assert_int_equal(tokenizer_utf8_complete("\xf0\x9f\x99\x82", 4), 4);
	assert_int_equal(tokenizer_utf8_complete("abc", 3), 3);
	assert_int_equal(tokenizer_utf8_complete("", 0), 0);
	tokenizer_free(t);
	fixture_free(fx);

	fx = fixture_load("bpe.txt");
	t = new_tok(&fx->v);
	id = tokenizer_find(t, "<|endoftext|>", 13);
	assert_true(id >= 0);
	assert_true(tokenizer_is_eog(t, id));
	assert_int_equal(tokenizer_token_type(t, id), TOKENIZER_TYPE_CONTROL);
	/* "<|endoftext|>" is control: plain text, unless PARSE_SPECIAL */
	assert_true(encode(t, "<|endoftext|>", 13, 0, ids, 64) > 1);
	assert_int_equal(encode(t, "<|endoftext|>", 13,
	    TOKENIZER_PARSE_SPECIAL, ids, 64), 1);
	assert_int_equal(ids[0], id);
	/* gpt-2 vocabularies add no BOS unless the file says so */
	assert_int_equal(encode(t, "a", 1, TOKENIZER_ADD_SPECIAL, ids, 64), 1);
	tokenizer_free(t);
	fixture_free(fx);
}

/* max_out too small gives -1 and writes nothing past it. */
static void
test_overflow(void **state)
{
	struct fixture *fx = fixture_load("spm_bpe.txt");
	struct tokenizer *t = new_tok(&fx->v);
	const char *s = "No acute cardiopulmonary abnormality.";
	int32_t ids[64];
	int n, i;

	(void)state;
	n = encode(t, s, strlen(s), TOKENIZER_ADD_SPECIAL, ids, 64);
	assert_true(n > 2);
	for (i = 0; i < 64; i++)
		ids[i] = -7;
	assert_int_equal(tokenizer_encode(t, s, strlen(s),
	    TOKENIZER_ADD_SPECIAL, ids, n - 1), -1);
	assert_int_equal(ids[n - 1], -7);
	assert_int_equal(tokenizer_encode(t, s, strlen(s),
	    TOKENIZER_ADD_SPECIAL, ids, n), n);
	assert_int_equal(tokenizer_encode(t, s, strlen(s), 0, NULL, 0), -1);
	assert_int_equal(tokenizer_encode(t, "", 0, 0, NULL, 0), 0);
	assert_int_equal(tokenizer_encode(t, "", 0, TOKENIZER_ADD_SPECIAL,
	    ids, 0), -1);
	assert_int_equal(tokenizer_encode(t, "", 0, TOKENIZER_ADD_SPECIAL,
	    ids, 1), 1);
	assert_int_equal(ids[0], 1);
	assert_int_equal(tokenizer_encode(t, s, strlen(s), 0, ids, -1), -1);
	tokenizer_free(t);
	fixture_free(fx);
}

/* expect_bad - tokenizer_new must fail with a message containing what. */
static void
expect_bad(const struct tokenizer_vocab *v, const char *what)
{
	char err[256] = "";
	struct tokenizer *t = tokenizer_new(v, err, sizeof(err));

	if (t != NULL) {
		tokenizer_free(t);
		fail_msg("accepted a vocabulary with %s", what);
	}
	if (strstr(err, what) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, what);
}

/* Invalid vocabularies give errors, never crashes. */
static void
test_invalid_vocab(void **state)
{
	struct fixture *fx = fixture_load("spm_bpe.txt");
	struct fixture *bx = fixture_load("bpe.txt");
	struct tokenizer_vocab v;
	char *save;
	size_t savelen;
	int32_t savety;

	(void)state;
	expect_bad(NULL, "unknown model");
	v = fx->v;
	v.model = 7;
	expect_bad(&v, "unknown model");
	v = fx->v;
	v.n_tokens = 0;
	expect_bad(&v, "token count");
	v = fx->v;
	v.bos = v.n_tokens;
	expect_bad(&v, "out of range");
	v = fx->v;
	v.unk = -2;
	expect_bad(&v, "out of range");
	v = fx->v;
	v.bos = -1;
	expect_bad(&v, "add_bos");

	/* a duplicate token */
	save = fx->tok[500];
	savelen = fx->toklen[500];
	fx->tok[500] = fx->tok[700];
	fx->toklen[500] = fx->toklen[700];
	expect_bad(&fx->v, "are the same");
	fx->tok[500] = save;
	fx->toklen[500] = savelen;

	/* a NULL token */
	save = fx->tok[9];
	fx->tok[9] = NULL;
	expect_bad(&fx->v, "is NULL");
	fx->tok[9] = save;

	/* a bad type */
	savety = fx->type[9];
	fx->type[9] = 9;
	expect_bad(&fx->v, "has type");
	fx->type[9] = savety;

	/* a byte token misspelt, and then missing altogether */
	{
		int32_t b = -1, i;

		for (i = 0; i < fx->v.n_tokens; i++)
			if (fx->toklen[i] == 6 && memcmp(fx->tok[i], "<0x41>",
			    6) == 0)
				b = i;
		assert_true(b >= 0);
		fx->tok[b][1] = 'X';
		expect_bad(&fx->v, "spelt");
		fx->tok[b][1] = '0';
		fx->type[b] = TOKENIZER_TYPE_BYTE;
	}
	{
		/* drop every byte token: SPM byte fallback is impossible */
		struct tokenizer_vocab w = fx->v;
		w.n_tokens = 3;
		expect_bad(&w, "byte fallback");
	}

	/* BPE: no merges, a merge without a space, an unknown pre-split */
	v = bx->v;
	v.n_merges = 0;
	expect_bad(&v, "without merges");
	v = bx->v;
	v.pre = 3;
	expect_bad(&v, "pre-tokenizer");
	save = bx->merge[3];
	savelen = bx->mergelen[3];
	bx->merge[3] = "abc";
	bx->mergelen[3] = 3;
	expect_bad(&bx->v, "not \"a b\"");
	bx->merge[3] = save;
	bx->mergelen[3] = savelen;
	v = bx->v;
	v.n_merges = 5;
	v.merges = NULL;
	expect_bad(&v, "merge count");

	/* the unmodified vocabularies still load */
	tokenizer_free(new_tok(&fx->v));
	tokenizer_free(new_tok(&bx->v));
	tokenizer_free(NULL);
	fixture_free(fx);
	fixture_free(bx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spm_bpe),
		cmocka_unit_test(test_spm_unigram),
		cmocka_unit_test(test_bpe),
		cmocka_unit_test(test_bpe_clean_spaces),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_special_tokens),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_invalid_vocab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
