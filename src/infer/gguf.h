/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gguf - read-only access to GGUF v2/v3 model files.  gguf_open maps the
 * file (PROT_READ, MAP_PRIVATE) and validates every header field, key,
 * value, tensor shape, type, offset and alignment before returning, so the
 * accessors below never fail on file content.  A struct gguf is immutable
 * after open: any number of threads may read it concurrently.  Never writes
 * the file, never copies tensor data.
 */
#ifndef RS_GGUF_H
#define RS_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "infer/dtype.h"

/* Metadata value types, numbered as in the GGUF specification. */
enum gguf_type {
	GGUF_TYPE_UINT8		= 0,
	GGUF_TYPE_INT8		= 1,
	GGUF_TYPE_UINT16	= 2,
	GGUF_TYPE_INT16		= 3,
	GGUF_TYPE_UINT32	= 4,
	GGUF_TYPE_INT32		= 5,
	GGUF_TYPE_FLOAT32	= 6,
	GGUF_TYPE_BOOL		= 7,
	GGUF_TYPE_STRING	= 8,
	GGUF_TYPE_ARRAY		= 9,
	GGUF_TYPE_UINT64	= 10,
	GGUF_TYPE_INT64		= 11,
	GGUF_TYPE_FLOAT64	= 12
};

#define GGUF_DEFAULT_ALIGNMENT	32

/* Getter results (the typed getters return these). */
#define GGUF_OK		0
#define GGUF_ENOKEY	(-1)	/* no such key */
#define GGUF_ETYPE	(-2)	/* wrong type, or the value doesn't fit */

struct gguf;

/*
 * One tensor.  name is NUL-terminated and owned by the struct gguf; data
 * points into the mapping (read-only, aligned to gguf_alignment() relative
 * to the start of the file; the mapping itself is page-aligned) and holds
 * nbytes bytes in GGML's layout for type.  ne[0] is the row length (the
 * fastest-varying dimension); ne[i] for i >= n_dims is 1.  All borrowed:
 * valid until gguf_close.  A file may legally set general.alignment to 1
 * or 2; only then can an F32 tensor's data be misaligned for float loads,
 * so pipeline_load refuses a file whose gguf_alignment() is not a
 * multiple of 4 (files from llama.cpp and models/convert/gguf.py use 32).
 */
struct gguf_tensor {
	const char	*name;
	enum dtype	 type;
	int		 n_dims;
	int64_t		 ne[4];
	const void	*data;
	size_t		 nbytes;
	uint64_t	 offset;	/* from the start of the data section */
};

/*
 * gguf_open - map and validate path.  Returns a handle the caller frees
 * with gguf_close, or NULL with a message that starts with path and names
 * the problem in err (err may be NULL; the message is truncated to errsz).
 * Besides the structural checks, requires general.architecture to be a
 * string and general.alignment, when present, to be a uint32 power of two.
 * Accepts tensor types F32, F16, BF16, Q8_0, Q4_0 and Q4_K only, and
 * little-endian files only.  Thread-safe.
 */
struct gguf	*gguf_open(const char *path, char *err, size_t errsz);

/*
 * gguf_open_mem - as gguf_open, for the len bytes at buf.  Borrows buf:
 * it must stay valid and unchanged until gguf_close.  name prefixes error
 * messages (may be NULL).  Tensor data alignment is relative to buf.
 */
struct gguf	*gguf_open_mem(const void *buf, size_t len, const char *name,
		    char *err, size_t errsz);

/* gguf_close - unmap and free; gguf_close(NULL) does nothing. */
void		 gguf_close(struct gguf *g);

/* gguf_version - 2 or 3. */
uint32_t	 gguf_version(const struct gguf *g);
/* gguf_alignment - general.alignment, or 32 when absent. */
size_t		 gguf_alignment(const struct gguf *g);
/* gguf_data_offset - byte offset of the tensor data section in the file. */
size_t		 gguf_data_offset(const struct gguf *g);
/* gguf_file_size - size of the file (or buffer) in bytes. */
size_t		 gguf_file_size(const struct gguf *g);
/*
 * gguf_architecture - general.architecture, NUL-terminated, borrowed until
 * gguf_close.  Never NULL (gguf_open requires the key).
 */
const char	*gguf_architecture(const struct gguf *g);

/* gguf_type_name - "uint8", ..., "array", "float64"; "?" if unknown. */
const char	*gguf_type_name(enum gguf_type t);
/*
 * gguf_dtype_name - the name of any GGML type id ("F32", "Q4_K", "Q5_0"),
 * "?" beyond them: dtype_name (dtype.h).  A static string.
 */
const char	*gguf_dtype_name(enum dtype t);

/*
 * Keys.  Indices run from 0 to gguf_n_kv() - 1 in file order.  Names are
 * NUL-terminated, owned by the struct gguf, valid until gguf_close.
 */
int64_t		 gguf_n_kv(const struct gguf *g);
/* gguf_find_key - index of key, or -1.  O(log n_kv). */
int64_t		 gguf_find_key(const struct gguf *g, const char *key);
/* gguf_key_name - name of key k, 0 <= k < gguf_n_kv (asserts otherwise). */
const char	*gguf_key_name(const struct gguf *g, int64_t k);
/* gguf_key_type - the value's type (GGUF_TYPE_ARRAY for arrays); asserts
 * 0 <= k < gguf_n_kv. */
enum gguf_type	 gguf_key_type(const struct gguf *g, int64_t k);

/*
 * gguf_check_key - 0 if key exists with type want (for arrays: want is
 * GGUF_TYPE_ARRAY), else -1 and err gets "missing key 'K'" or
 * "key 'K': type string, expected uint32".  For callers that must report
 * which key of a model file is wrong.
 */
int		 gguf_check_key(const struct gguf *g, const char *key,
		    enum gguf_type want, char *err, size_t errsz);

/*
 * Typed getters by name: GGUF_OK and *out set, GGUF_ENOKEY if absent,
 * GGUF_ETYPE if the type is wrong or the value does not fit.  The integer
 * getters accept any integer type whose value fits the target; get_f32
 * accepts float32 and float64 (float64 is rounded to float), get_f64 both.
 * get_bool accepts bool only.
 */
int		 gguf_get_u32(const struct gguf *g, const char *key,
		    uint32_t *out);
int		 gguf_get_i32(const struct gguf *g, const char *key,
		    int32_t *out);
int		 gguf_get_u64(const struct gguf *g, const char *key,
		    uint64_t *out);
int		 gguf_get_i64(const struct gguf *g, const char *key,
		    int64_t *out);
int		 gguf_get_f32(const struct gguf *g, const char *key,
		    float *out);
int		 gguf_get_f64(const struct gguf *g, const char *key,
		    double *out);
int		 gguf_get_bool(const struct gguf *g, const char *key,
		    int *out);
/*
 * gguf_get_str - a string value: *s is a NUL-terminated copy owned by the
 * struct gguf (valid until gguf_close), *len its length in bytes (the
 * string may itself contain NUL bytes; len is authoritative).  len may be
 * NULL.
 */
int		 gguf_get_str(const struct gguf *g, const char *key,
		    const char **s, size_t *len);
/*
 * gguf_get_arr - an array: its element type and length.  Returns
 * GGUF_ETYPE if key is not an array.  The key index for the element
 * accessors below comes from gguf_find_key.
 */
int		 gguf_get_arr(const struct gguf *g, const char *key,
		    enum gguf_type *etype, uint64_t *n);

/*
 * Values by key index k (from gguf_find_key or 0..gguf_n_kv()-1), for
 * dumpers and hot loops.  These never fail: a k that is no key, a value
 * of the wrong kind or an element index past the end gives 0 (NULL and
 * *len = 0 for strings), so a caller that must tell "0" from "wrong type"
 * checks gguf_key_type / gguf_arr_type / gguf_arr_len first.  Conversions
 * between numbers saturate (floats to integers truncate, NaN gives 0;
 * bool counts as an integer; uint64 above INT64_MAX wraps in the int64
 * accessors: use the u64 ones).
 *  gguf_kv_i64/u64/f64 - a scalar integer, bool or float value.
 *  gguf_kv_str - a string value (see gguf_get_str).
 */
int64_t		 gguf_kv_i64(const struct gguf *g, int64_t k);
uint64_t	 gguf_kv_u64(const struct gguf *g, int64_t k);
double		 gguf_kv_f64(const struct gguf *g, int64_t k);
const char	*gguf_kv_str(const struct gguf *g, int64_t k, size_t *len);

/*
 * Array elements of key index k (same rules as above).  Values in the
 * file are unaligned; these copy safely.
 *  gguf_arr_type - element type (GGUF_TYPE_ARRAY if k is not an array).
 *  gguf_arr_len - element count (0 if k is not an array).
 *  gguf_arr_f32 - element i of a numeric array, converted to float.
 *  gguf_arr_i64, gguf_arr_u64 - element i of a numeric array as integer.
 *  gguf_arr_str - element i of a string array: a pointer into the mapping,
 *    NOT NUL-terminated, *len bytes; O(1) (indexed at open).
 *  gguf_arr_data - the raw element bytes of a numeric array (unaligned;
 *    memcpy out); NULL for string arrays and non-arrays.
 */
enum gguf_type	 gguf_arr_type(const struct gguf *g, int64_t k);
uint64_t	 gguf_arr_len(const struct gguf *g, int64_t k);
float		 gguf_arr_f32(const struct gguf *g, int64_t k, uint64_t i);
int64_t		 gguf_arr_i64(const struct gguf *g, int64_t k,
		    uint64_t i);
uint64_t	 gguf_arr_u64(const struct gguf *g, int64_t k, uint64_t i);
const char	*gguf_arr_str(const struct gguf *g, int64_t k, uint64_t i,
		    size_t *len);
const void	*gguf_arr_data(const struct gguf *g, int64_t k);

/*
 * Tensors, in file order.  The returned pointers are borrowed (owned by
 * the struct gguf) until gguf_close.
 */
int64_t		 gguf_n_tensors(const struct gguf *g);
/* gguf_tensor - tensor i, 0 <= i < gguf_n_tensors (asserts otherwise). */
const struct gguf_tensor *gguf_tensor(const struct gguf *g, int64_t i);
/* gguf_find_tensor - the tensor called name, or NULL.  O(log n). */
const struct gguf_tensor *gguf_find_tensor(const struct gguf *g,
		    const char *name);

#endif
