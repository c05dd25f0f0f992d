/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tokenizer - text to token ids and back, as llama.cpp does it, for the two
 * vocabularies a LLaMA-family GGUF carries: SentencePiece ("llama": scores
 * and byte fallback) and byte-level BPE ("gpt2": merges, "gpt-2" pre-split).
 * Built from plain arrays (the GGUF adapter lives elsewhere) and immutable
 * afterwards: any thread may encode or decode concurrently.  Never does I/O.
 */
#ifndef RS_TOKENIZER_H
#define RS_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

/* tokenizer.ggml.model: "llama" is SPM, "gpt2" is BPE. */
enum tokenizer_model {
	TOKENIZER_SPM = 1,
	TOKENIZER_BPE = 2
};

/*
 * BPE pre-tokenizer (tokenizer.ggml.pre).  Only GPT-2's ("gpt-2" and the
 * names llama.cpp maps to LLAMA_VOCAB_PRE_TYPE_GPT2) is implemented.  A
 * GGUF without the key gets llama.cpp's "default" split, which differs:
 * the adapter must reject such a file or accept the difference knowingly.
 */
enum tokenizer_pre {
	TOKENIZER_PRE_GPT2 = 0
};

/* tokenizer.ggml.token_type values (llama.cpp's llama_token_type). */
enum tokenizer_token_type {
	TOKENIZER_TYPE_UNDEFINED	= 0,
	TOKENIZER_TYPE_NORMAL		= 1,
	TOKENIZER_TYPE_UNKNOWN		= 2,
	TOKENIZER_TYPE_CONTROL		= 3,
	TOKENIZER_TYPE_USER_DEFINED	= 4,
	TOKENIZER_TYPE_UNUSED		= 5,
	TOKENIZER_TYPE_BYTE		= 6
};

/* tokenizer_encode flags. */
#define TOKENIZER_ADD_SPECIAL	0x1	/* add_special: BOS/EOS as the vocab says */
#define TOKENIZER_PARSE_SPECIAL	0x2	/* parse_special: "<s>" is a token */

/*
 * What tokenizer_new reads.  Everything is borrowed for the duration of the
 * call only: the tokenizer copies what it needs into one arena, so the GGUF
 * may be unmapped afterwards.  Ids are -1 when absent.  The flags carry the
 * GGUF keys after llama.cpp's defaults are applied by the caller:
 *   SPM: add_bos 1, add_eos 0, add_space_prefix 1, clean_spaces 0;
 *   BPE ("gpt-2"): add_bos 0, add_eos 0, add_space_prefix 0, clean_spaces 1;
 * tokenizer.ggml.add_bos_token / add_eos_token / add_space_prefix override.
 */
struct tokenizer_vocab {
	enum tokenizer_model	 model;
	enum tokenizer_pre	 pre;		/* BPE only */
	int32_t			 n_tokens;
	const char *const	*tokens;	/* n_tokens strings, not NUL-terminated */
	const size_t		*token_lens;	/* byte lengths; NULL: use strlen */
	const float		*scores;	/* NULL: all 0 (SPM merge priority) */
	const int32_t		*types;		/* NULL: all TOKENIZER_TYPE_NORMAL */
	int32_t			 n_merges;	/* BPE: "left right" strings, by rank */
	const char *const	*merges;
	const size_t		*merge_lens;	/* NULL: use strlen */
	int32_t			 bos, eos, unk, eot, pad;
	int			 add_bos;
	int			 add_eos;
	int			 add_space_prefix;
	int			 clean_spaces;
};

struct tokenizer;

/*
 * tokenizer_new - validate v and build a tokenizer.  Rejects: unknown model,
 * no tokens, a NULL token, duplicate tokens, a type outside 0..6, a byte
 * token not spelt <0xHH>, special ids out of range, add_bos without bos,
 * (SPM) a byte with neither a <0xHH> nor a one-byte token, (BPE) a merge
 * without a space.  Returns NULL and a message in err (errsz bytes) on
 * failure.  Free with tokenizer_free.
 */
struct tokenizer *tokenizer_new(const struct tokenizer_vocab *v, char *err,
	    size_t errsz);
/* tokenizer_free - release t; NULL does nothing. */
void	tokenizer_free(struct tokenizer *t);

/*
 * tokenizer_encode - token ids for text[0..len) (any bytes; invalid UTF-8
 * is handled as llama.cpp handles it) into out (OUT, max_out slots).
 * flags: TOKENIZER_ADD_SPECIAL, TOKENIZER_PARSE_SPECIAL.  User-defined
 * tokens are always matched in the text first, as llama.cpp does.  Returns
 * the number of ids, or -1 when they do not fit in max_out (or on
 * out-of-memory).  Allocates scratch proportional to len for the call;
 * thread-safe.
 */
int	tokenizer_encode(const struct tokenizer *t, const char *text,
	    size_t len, int flags, int32_t *out /* OUT */, int max_out);

/*
 * tokenizer_decode - the text of ids[0..n), as llama.cpp's
 * llama_detokenize(remove_special = false, unparse_special = false):
 * control and unknown tokens print nothing, SPM byte tokens give raw bytes,
 * "\xe2\x96\x81" gives a space, the first token loses one leading space when
 * add_space_prefix is set (a BOS first consumes that rule, so the space
 * after it stays), clean_spaces tidies " ." and the like.  Writes at most
 * outsz bytes to out (OUT) including a NUL.  Returns the length without
 * the NUL, or -1 if an id is out of range or out is too small.  Never
 * allocates.
 */
int	tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n,
	    char *out /* OUT */, size_t outsz);

/*
 * tokenizer_piece - the bytes token id prints as (llama_token_to_piece with
 * special = false, lstrip = 0), for streaming: *len (OUT) is set; the bytes
 * need not be valid UTF-8 alone (byte tokens).  Returns a borrowed pointer
 * valid until tokenizer_free, or NULL if id is out of range.  Never
 * allocates.
 */
const char *tokenizer_piece(const struct tokenizer *t, int32_t id,
	    size_t *len /* OUT */);

/*
 * tokenizer_utf8_complete - the length of the longest prefix of s[0..len)
 * that does not end inside an incomplete UTF-8 sequence, so a streaming
 * caller can hold back the tail until the next piece arrives.
 */
size_t	tokenizer_utf8_complete(const char *s, size_t len);

/* tokenizer_token_text - the vocabulary string of id (borrowed), or NULL. */
const char *tokenizer_token_text(const struct tokenizer *t, int32_t id,
	    size_t *len /* OUT */);
/* tokenizer_token_type - the token's enum tokenizer_token_type, or -1. */
int	tokenizer_token_type(const struct tokenizer *t, int32_t id);
/* tokenizer_find - the id whose text is s[0..len), or -1. */
int32_t	tokenizer_find(const struct tokenizer *t, const char *s, size_t len);

/* Accessors; -1 where the vocabulary has no such token. */
int32_t	tokenizer_bos(const struct tokenizer *t);
int32_t	tokenizer_eos(const struct tokenizer *t);
int32_t	tokenizer_n_vocab(const struct tokenizer *t);
int	tokenizer_add_bos(const struct tokenizer *t);
enum tokenizer_model tokenizer_model(const struct tokenizer *t);

/*
 * tokenizer_is_eog - whether id ends generation: eos, eot, or a token
 * llama.cpp treats as end-of-generation by its text (<|eot_id|>,
 * <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>, ...).
 */
int	tokenizer_is_eog(const struct tokenizer *t, int32_t id);

#endif /* RS_TOKENIZER_H */
