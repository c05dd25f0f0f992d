/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gguf - GGUF v2/v3 reader.  Every length, count and offset read from the
 * file is checked against the bytes that remain, with overflow-safe
 * arithmetic, before anything is dereferenced or allocated; after
 * gguf_open succeeds the accessors trust the index built here.  Runs in
 * the caller's thread; the handle is read-only afterwards.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/gguf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c reads little-endian GGUF files on little-endian hosts only"
#endif

#define N_GGUF_TYPES	13
/* Smallest key/value: key length, 1-byte key, type, 1-byte value. */
#define MIN_KV_BYTES	14
/* Smallest tensor info: name length, 1-byte name, n_dims, ne, type, offset. */
#define MIN_TI_BYTES	33

/* A string array element: where its bytes are in the file. */
struct sref {
	size_t		 off;
	size_t		 len;
};

/* One key/value pair. */
struct kv {
	char		*key;
	enum gguf_type	 type;
	enum gguf_type	 etype;	/* array: element type */
	uint64_t	 n;	/* array: element count; string: length */
	const uint8_t	*val;	/* scalar, numeric array: raw bytes */
	char		*str;	/* string: NUL-terminated copy */
	struct sref	*sref;	/* string array: one per element */
};

/* Name to index, sorted for bsearch. */
struct nameidx {
	const char	*name;
	int64_t		 i;
};

struct gguf {
	const uint8_t	*base;
	size_t		 size;
	void		*map;		/* NULL for gguf_open_mem */
	uint32_t	 version;
	size_t		 align;
	size_t		 data_off;
	const char	*arch;
	int64_t		 n_kv;
	struct kv	*kv;
	struct nameidx	*kv_sorted;
	int64_t		 n_t;
	struct gguf_tensor *t;
	struct nameidx	*t_sorted;
};

/* Parsing state: the cursor and where errors go. */
struct rd {
	const uint8_t	*p;
	size_t		 size;
	size_t		 pos;
	const char	*name;
	char		*err;
	size_t		 errsz;
};

static const size_t type_size[N_GGUF_TYPES] = {
	1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8
};

static const char *const type_names[N_GGUF_TYPES] = {
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64"
};

/* fail - format "name: message" into the caller's buffer; returns -1. */
static int
fail(struct rd *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->err == NULL || r->errsz == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errsz, "%s: %s", r->name, msg);
	return -1;
}

/* need - check that n more bytes exist at the cursor; what names them. */
static int
need(struct rd *r, uint64_t n, const char *what)
{
	if (n > r->size - r->pos)
		return fail(r, "truncated: %s: %" PRIu64 " bytes at offset "
		    "%zu go past the end of the file (%zu bytes)", what, n,
		    r->pos, r->size);
	return 0;
}

/* rd_u32 - a little-endian uint32 at the cursor. */
static int
rd_u32(struct rd *r, uint32_t *v, const char *what)
{
	if (need(r, 4, what) == -1)
		return -1;
	memcpy(v, r->p + r->pos, 4);
	r->pos += 4;
	return 0;
}

/* rd_u64 - a little-endian uint64 at the cursor. */
static int
rd_u64(struct rd *r, uint64_t *v, const char *what)
{
	if (need(r, 8, what) == -1)
		return -1;
	memcpy(v, r->p + r->pos, 8);
	r->pos += 8;
	return 0;
}

/* rd_str - a GGUF string: its offset and length, cursor moved past it. */
static int
rd_str(struct rd *r, size_t *off, size_t *len, const char *what)
{
	uint64_t n;

	if (rd_u64(r, &n, what) == -1 || need(r, n, what) == -1)
		return -1;
	*off = r->pos;
	*len = (size_t)n;
	r->pos += (size_t)n;
	return 0;
}

/* dupstr - NUL-terminated copy of len bytes. */
static char *
dupstr(const uint8_t *p, size_t len)
{
	char *s;

	if (len == SIZE_MAX || (s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* gguf_type_name - printable name of a metadata type */
const char *
gguf_type_name(enum gguf_type t)
{
	if ((unsigned)t >= N_GGUF_TYPES)
		return "?";
	return type_names[t];
}

/* gguf_dtype_name - printable name of a tensor type */
const char *
gguf_dtype_name(enum dtype t)
{
	return dtype_name(t);
}

/* cmp_name - order nameidx entries by name */
static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct nameidx *)a)->name,
	    ((const struct nameidx *)b)->name);
}

/* short_name - a name clipped for messages (hostile names can be long). */
static const char *
short_name(const char *s, char *buf, size_t bufsz)
{
	if (strlen(s) < bufsz)
		return s;
	snprintf(buf, bufsz, "%.*s...", (int)(bufsz - 4), s);
	return buf;
}

/* parse_kv - key/value pair i at the cursor into *kv. */
static int
parse_kv(struct rd *r, uint64_t i, struct kv *kv)
{
	char what[128], sb[80];
	const char *kn;
	size_t off, len, esz;
	uint32_t t, et;
	uint64_t n, j;

	snprintf(what, sizeof(what), "key %" PRIu64 " name", i);
	if (rd_str(r, &off, &len, what) == -1)
		return -1;
	if (len == 0)
		return fail(r, "key %" PRIu64 ": empty name", i);
	if (memchr(r->p + off, '\0', len) != NULL)
		return fail(r, "key %" PRIu64 ": name contains a NUL byte", i);
	if ((kv->key = dupstr(r->p + off, len)) == NULL)
		return fail(r, "out of memory");
	kn = short_name(kv->key, sb, sizeof(sb));
	snprintf(what, sizeof(what), "key %" PRIu64 " '%s'", i, kn);
	if (rd_u32(r, &t, what) == -1)
		return -1;
	if (t >= N_GGUF_TYPES)
		return fail(r, "key '%s': unknown value type %" PRIu32, kn, t);
	kv->type = (enum gguf_type)t;
	if (t == GGUF_TYPE_STRING) {
		if (rd_str(r, &off, &len, what) == -1)
			return -1;
		kv->n = len;
		if ((kv->str = dupstr(r->p + off, len)) == NULL)
			return fail(r, "out of memory");
		return 0;
	}
	if (t != GGUF_TYPE_ARRAY) {
		if (need(r, type_size[t], what) == -1)
			return -1;
		kv->val = r->p + r->pos;
		if (t == GGUF_TYPE_BOOL && kv->val[0] > 1)
			return fail(r, "key '%s': bool value %u is not 0 or 1",
			    kn, kv->val[0]);
		r->pos += type_size[t];
		return 0;
	}
	if (rd_u32(r, &et, what) == -1)
		return -1;
	if (et == GGUF_TYPE_ARRAY)
		return fail(r, "key '%s': nested arrays are not supported",
		    kn);
	if (et >= N_GGUF_TYPES)
		return fail(r, "key '%s': unknown array element type %" PRIu32,
		    kn, et);
	kv->etype = (enum gguf_type)et;
	if (rd_u64(r, &n, what) == -1)
		return -1;
	kv->n = n;
	if (et == GGUF_TYPE_STRING) {
		/* Each element takes at least its 8-byte length. */
		if (n > (r->size - r->pos) / 8)
			return fail(r, "truncated: key '%s': %" PRIu64
			    " strings cannot fit in the %zu bytes left", kn, n,
			    r->size - r->pos);
		if (n > 0 && (kv->sref = calloc(n, sizeof(*kv->sref))) == NULL)
			return fail(r, "out of memory");
		for (j = 0; j < n; j++) {
			snprintf(what, sizeof(what), "key '%s' element %"
			    PRIu64, kn, j);
			if (rd_str(r, &kv->sref[j].off, &kv->sref[j].len,
			    what) == -1)
				return -1;
		}
		return 0;
	}
	esz = type_size[et];
	if (n > (r->size - r->pos) / esz)
		return fail(r, "truncated: key '%s': %" PRIu64
		    " elements of %s at offset %zu go past the end of the "
		    "file (%zu bytes)", kn, n, type_names[et], r->pos,
		    r->size);
	kv->val = r->p + r->pos;
	if (et == GGUF_TYPE_BOOL)
		for (j = 0; j < n; j++)
			if (kv->val[j] > 1)
				return fail(r, "key '%s': element %" PRIu64
				    ": bool value %u is not 0 or 1", kn, j,
				    kv->val[j]);
	r->pos += (size_t)(n * esz);
	return 0;
}

/* parse_tinfo - tensor info i at the cursor into *t (data set later). */
static int
parse_tinfo(struct rd *r, uint64_t i, struct gguf_tensor *t)
{
	char what[128], sb[80];
	const char *tn;
	const struct dtype_traits *tr;
	size_t off, len, blck, bsz;
	uint32_t nd, ty;
	uint64_t ne, nel, rows;
	int d;

	for (d = 0; d < 4; d++)
		t->ne[d] = 1;
	snprintf(what, sizeof(what), "tensor info %" PRIu64 " name", i);
	if (rd_str(r, &off, &len, what) == -1)
		return -1;
	if (len == 0)
		return fail(r, "tensor info %" PRIu64 ": empty name", i);
	if (memchr(r->p + off, '\0', len) != NULL)
		return fail(r, "tensor info %" PRIu64 ": name contains a NUL "
		    "byte", i);
	if ((t->name = dupstr(r->p + off, len)) == NULL)
		return fail(r, "out of memory");
	tn = short_name(t->name, sb, sizeof(sb));
	snprintf(what, sizeof(what), "tensor info %" PRIu64 " '%s'", i, tn);
	if (rd_u32(r, &nd, what) == -1)
		return -1;
	if (nd < 1 || nd > 4)
		return fail(r, "tensor '%s': %" PRIu32 " dimensions, expected "
		    "1 to 4", tn, nd);
	t->n_dims = (int)nd;
	nel = 1;
	for (d = 0; d < (int)nd; d++) {
		if (rd_u64(r, &ne, what) == -1)
			return -1;
		if (ne == 0 || ne > INT64_MAX)
			return fail(r, "tensor '%s': dimension %d is %" PRIu64,
			    tn, d, ne);
		if (ne > INT64_MAX / nel)
			return fail(r, "tensor '%s': element count overflows",
			    tn);
		nel *= ne;
		t->ne[d] = (int64_t)ne;
	}
	if (rd_u32(r, &ty, what) == -1 || rd_u64(r, &t->offset, what) == -1)
		return -1;
	if ((tr = dtype_traits((enum dtype)ty)) == NULL) {
		if (ty < DTYPE_N_GGML)
			return fail(r, "tensor '%s': unsupported tensor type %"
			    PRIu32 " (%s)", tn, ty, dtype_name((enum dtype)ty));
		return fail(r, "tensor '%s': unknown tensor type %" PRIu32, tn,
		    ty);
	}
	t->type = (enum dtype)ty;
	blck = (size_t)tr->blck_size;
	bsz = tr->type_size;
	if ((uint64_t)t->ne[0] % blck != 0)
		return fail(r, "tensor '%s': row length %" PRId64 " is not a "
		    "multiple of the %s block size %zu", tn, t->ne[0],
		    tr->gguf_name, blck);
	rows = nel / (uint64_t)t->ne[0];
	/* Bytes = blocks per row * block size * rows, each product checked. */
	ne = (uint64_t)t->ne[0] / blck;
	if (ne > SIZE_MAX / bsz || ne * bsz > SIZE_MAX / rows ||
	    ne * bsz * rows > r->size)
		return fail(r, "tensor '%s': %" PRIu64 " elements of %s are "
		    "larger than the file (%zu bytes)", tn, nel, tr->gguf_name,
		    r->size);
	t->nbytes = (size_t)(ne * bsz * rows);
	return 0;
}

/* index_names - sort ix (names filled in) and reject a duplicate name. */
static int
index_names(struct rd *r, struct nameidx *ix, int64_t n, const char *what)
{
	char sb[80];
	int64_t i;

	if (n == 0)
		return 0;
	qsort(ix, (size_t)n, sizeof(*ix), cmp_name);
	for (i = 1; i < n; i++)
		if (strcmp(ix[i - 1].name, ix[i].name) == 0)
			return fail(r, "duplicate %s '%s'", what,
			    short_name(ix[i].name, sb, sizeof(sb)));
	return 0;
}

/* parse - the whole header; g->base and g->size are set. */
static int
parse(struct gguf *g, struct rd *r)
{
	uint64_t nt, nkv, i;
	uint32_t v, sw;
	int64_t k;
	size_t a;
	char sb[80];
	struct gguf_tensor *t;

	if (need(r, 4, "magic") == -1)
		return -1;
	if (memcmp(r->p, "GGUF", 4) != 0)
		return fail(r, "bad magic: not a GGUF file");
	r->pos = 4;
	if (rd_u32(r, &v, "version") == -1)
		return -1;
	sw = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	    (v << 24);
	if (v != 2 && v != 3) {
		if (sw >= 1 && sw <= 3)
			return fail(r, "big-endian GGUF files are not "
			    "supported (version %" PRIu32 ")", sw);
		return fail(r, "unsupported version %" PRIu32 " (2 and 3 "
		    "are)", v);
	}
	g->version = v;
	if (rd_u64(r, &nt, "tensor count") == -1 ||
	    rd_u64(r, &nkv, "key count") == -1)
		return -1;
	a = r->size - r->pos;
	if (nkv > a / MIN_KV_BYTES || nt > a / MIN_TI_BYTES ||
	    nkv * MIN_KV_BYTES > a - nt * MIN_TI_BYTES)
		return fail(r, "truncated: %" PRIu64 " keys and %" PRIu64
		    " tensors cannot fit in the %zu bytes left", nkv, nt, a);
	if (nkv > 0 && ((g->kv = calloc(nkv, sizeof(*g->kv))) == NULL ||
	    (g->kv_sorted = calloc(nkv, sizeof(*g->kv_sorted))) == NULL))
		return fail(r, "out of memory");
	if (nt > 0 && ((g->t = calloc(nt, sizeof(*g->t))) == NULL ||
	    (g->t_sorted = calloc(nt, sizeof(*g->t_sorted))) == NULL))
		return fail(r, "out of memory");
	for (i = 0; i < nkv; i++) {
		g->n_kv = (int64_t)i + 1;	/* so gguf_close frees it */
		if (parse_kv(r, i, &g->kv[i]) == -1)
			return -1;
		g->kv_sorted[i].name = g->kv[i].key;
		g->kv_sorted[i].i = (int64_t)i;
	}
	if (index_names(r, g->kv_sorted, g->n_kv, "key") == -1)
		return -1;
	for (i = 0; i < nt; i++) {
		g->n_t = (int64_t)i + 1;
		if (parse_tinfo(r, i, &g->t[i]) == -1)
			return -1;
		g->t_sorted[i].name = g->t[i].name;
		g->t_sorted[i].i = (int64_t)i;
	}
	if (index_names(r, g->t_sorted, g->n_t, "tensor name") == -1)
		return -1;

	g->align = GGUF_DEFAULT_ALIGNMENT;
	if ((k = gguf_find_key(g, "general.alignment")) >= 0) {
		if (g->kv[k].type != GGUF_TYPE_UINT32)
			return fail(r, "key 'general.alignment': type %s, "
			    "expected uint32", gguf_type_name(g->kv[k].type));
		memcpy(&v, g->kv[k].val, 4);
		if (v == 0 || (v & (v - 1)) != 0)
			return fail(r, "general.alignment %" PRIu32 " is not a "
			    "power of two", v);
		g->align = v;
	}
	if (gguf_check_key(g, "general.architecture", GGUF_TYPE_STRING, sb,
	    sizeof(sb)) == -1)
		return fail(r, "%s", sb);
	g->arch = g->kv[gguf_find_key(g, "general.architecture")].str;

	/* The data section starts at the next multiple of the alignment. */
	a = r->pos % g->align;
	g->data_off = a == 0 ? r->pos : r->pos + (g->align - a);
	if (g->data_off < r->pos || (g->n_t > 0 && g->data_off > r->size))
		return fail(r, "truncated: data section at offset %zu is past "
		    "the end of the file (%zu bytes)", r->pos, r->size);
	for (k = 0; k < g->n_t; k++) {
		t = &g->t[k];
		if (t->offset % g->align != 0)
			return fail(r, "tensor '%s': offset %" PRIu64 " not "
			    "aligned to %zu", short_name(t->name, sb,
			    sizeof(sb)), t->offset, g->align);
		a = r->size - g->data_off;
		if (t->offset > a || t->nbytes > a - t->offset)
			return fail(r, "tensor '%s': data at offset %" PRIu64
			    " (%zu bytes) extends past the end of the file "
			    "(data section of %zu bytes at %zu)",
			    short_name(t->name, sb, sizeof(sb)), t->offset,
			    t->nbytes, a, g->data_off);
		t->data = r->p + g->data_off + t->offset;
	}
	return 0;
}

/* open_common - parse base[0..size) into a new handle. */
static struct gguf *
open_common(const uint8_t *base, size_t size, void *map, const char *name,
    char *err, size_t errsz)
{
	static const uint8_t empty[1];
	struct gguf *g;
	struct rd r;

	memset(&r, 0, sizeof(r));
	r.p = base != NULL ? base : empty;
	r.size = size;
	r.name = name != NULL ? name : "gguf";
	r.err = err;
	r.errsz = errsz;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		fail(&r, "out of memory");
		if (map != NULL)
			munmap(map, size);
		return NULL;
	}
	g->base = r.p;
	g->size = size;
	g->map = map;
	if (parse(g, &r) == -1) {
		gguf_close(g);
		return NULL;
	}
	return g;
}

/* gguf_open_mem - validate an in-memory GGUF image */
struct gguf *
gguf_open_mem(const void *buf, size_t len, const char *name, char *err,
    size_t errsz)
{
	return open_common(buf, len, NULL, name, err, errsz);
}

/* gguf_open - map and validate a GGUF file */
struct gguf *
gguf_open(const char *path, char *err, size_t errsz)
{
	struct stat sb;
	void *map = NULL;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((uint64_t)sb.st_size > SIZE_MAX) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s: too large", path);
		close(fd);
		return NULL;
	}
	if (sb.st_size > 0) {
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (map == MAP_FAILED) {
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "%s: mmap: %s", path,
				    strerror(errno));
			close(fd);
			return NULL;
		}
	}
	close(fd);
	return open_common(map, (size_t)sb.st_size, map, path, err, errsz);
}

/* gguf_close - release a handle */
void
gguf_close(struct gguf *g)
{
	int64_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n_kv; i++) {
		free(g->kv[i].key);
		free(g->kv[i].str);
		free(g->kv[i].sref);
	}
	for (i = 0; i < g->n_t; i++)
		free((char *)g->t[i].name);
	free(g->kv);
	free(g->kv_sorted);
	free(g->t);
	free(g->t_sorted);
	if (g->map != NULL)
		munmap(g->map, g->size);
	free(g);
}

/* gguf_version - file format version */
uint32_t
gguf_version(const struct gguf *g)
{
	return g->version;
}

/* gguf_alignment - tensor data alignment */
size_t
gguf_alignment(const struct gguf *g)
{
	return g->align;
}

/* gguf_data_offset - start of the data section */
size_t
gguf_data_offset(const struct gguf *g)
{
	return g->data_off;
}

/* gguf_file_size - bytes in the file */
size_t
gguf_file_size(const struct gguf *g)
{
	return g->size;
}

/* gguf_architecture - general.architecture */
const char *
gguf_architecture(const struct gguf *g)
{
	return g->arch;
}

/* gguf_n_kv - number of keys */
int64_t
gguf_n_kv(const struct gguf *g)
{
	return g->n_kv;
}

/* find - bsearch a sorted name index */
static int64_t
find(const struct nameidx *ix, int64_t n, const char *name)
{
	struct nameidx key, *hit;

	if (n == 0 || name == NULL)
		return -1;
	key.name = name;
	hit = bsearch(&key, ix, (size_t)n, sizeof(*ix), cmp_name);
	return hit != NULL ? hit->i : -1;
}

/* gguf_find_key - key index by name */
int64_t
gguf_find_key(const struct gguf *g, const char *key)
{
	return find(g->kv_sorted, g->kv_sorted != NULL ? g->n_kv : 0, key);
}

/* gguf_key_name - name of key index k */
const char *
gguf_key_name(const struct gguf *g, int64_t k)
{
	assert(k >= 0 && k < g->n_kv);
	return g->kv[k].key;
}

/* gguf_key_type - type of key index k */
enum gguf_type
gguf_key_type(const struct gguf *g, int64_t k)
{
	assert(k >= 0 && k < g->n_kv);
	return g->kv[k].type;
}

/* gguf_check_key - presence and type check with a message */
int
gguf_check_key(const struct gguf *g, const char *key, enum gguf_type want,
    char *err, size_t errsz)
{
	int64_t k = gguf_find_key(g, key);

	if (k < 0) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "missing key '%s'", key);
		return -1;
	}
	if (g->kv[k].type != want) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "key '%s': type %s, expected %s",
			    key, gguf_type_name(g->kv[k].type),
			    gguf_type_name(want));
		return -1;
	}
	return 0;
}

/* raw_int - read an integer of type t at p; 0, or -1 if t is no integer. */
static int
raw_int(enum gguf_type t, const uint8_t *p, int *neg, uint64_t *mag)
{
	uint8_t u8;
	int8_t i8;
	uint16_t u16;
	int16_t i16;
	uint32_t u32;
	int32_t i32;
	uint64_t u64;
	int64_t i64;

	*neg = 0;
	switch (t) {
	case GGUF_TYPE_UINT8:
	case GGUF_TYPE_BOOL:
		memcpy(&u8, p, 1);
		*mag = u8;
		return 0;
	case GGUF_TYPE_UINT16:
		memcpy(&u16, p, 2);
		*mag = u16;
		return 0;
	case GGUF_TYPE_UINT32:
		memcpy(&u32, p, 4);
		*mag = u32;
		return 0;
	case GGUF_TYPE_UINT64:
		memcpy(&u64, p, 8);
		*mag = u64;
		return 0;
	case GGUF_TYPE_INT8:
		memcpy(&i8, p, 1);
		i64 = i8;
		break;
	case GGUF_TYPE_INT16:
		memcpy(&i16, p, 2);
		i64 = i16;
		break;
	case GGUF_TYPE_INT32:
		memcpy(&i32, p, 4);
		i64 = i32;
		break;
	case GGUF_TYPE_INT64:
		memcpy(&i64, p, 8);
		break;
	default:
		return -1;
	}
	*neg = i64 < 0;
	*mag = i64 < 0 ? (uint64_t)0 - (uint64_t)i64 : (uint64_t)i64;
	return 0;
}

/* to_f32 - double to float without the undefined out-of-range cast. */
static float
to_f32(double d)
{
	if (d > FLT_MAX)
		return INFINITY;
	if (d < -FLT_MAX)
		return -INFINITY;
	return (float)d;
}

/* raw_f64 - a float32/float64 at p; 0, or -1 if t is neither. */
static int
raw_f64(enum gguf_type t, const uint8_t *p, double *out)
{
	float f;

	if (t == GGUF_TYPE_FLOAT32) {
		memcpy(&f, p, 4);
		*out = f;
		return 0;
	}
	if (t == GGUF_TYPE_FLOAT64) {
		memcpy(out, p, 8);
		return 0;
	}
	return -1;
}

/* scalar - the key's kv if it is a scalar integer/float; else NULL+rc. */
static const struct kv *
scalar(const struct gguf *g, const char *key, int *rc)
{
	int64_t k = gguf_find_key(g, key);

	*rc = GGUF_OK;
	if (k < 0) {
		*rc = GGUF_ENOKEY;
		return NULL;
	}
	if (g->kv[k].type == GGUF_TYPE_STRING ||
	    g->kv[k].type == GGUF_TYPE_ARRAY || g->kv[k].type ==
	    GGUF_TYPE_BOOL) {
		*rc = GGUF_ETYPE;
		return NULL;
	}
	return &g->kv[k];
}

/* get_int - an integer key within [-lo, hi]. */
static int
get_int(const struct gguf *g, const char *key, uint64_t lo, uint64_t hi,
    int *neg, uint64_t *mag)
{
	const struct kv *kv;
	int rc;

	if ((kv = scalar(g, key, &rc)) == NULL)
		return rc;
	if (raw_int(kv->type, kv->val, neg, mag) == -1)
		return GGUF_ETYPE;
	if ((*neg && *mag > lo) || (!*neg && *mag > hi))
		return GGUF_ETYPE;
	return GGUF_OK;
}

/* gguf_get_u32 - an integer key as uint32 */
int
gguf_get_u32(const struct gguf *g, const char *key, uint32_t *out)
{
	uint64_t m;
	int neg, rc;

	if ((rc = get_int(g, key, 0, UINT32_MAX, &neg, &m)) == GGUF_OK)
		*out = (uint32_t)m;
	return rc;
}

/* gguf_get_i32 - an integer key as int32 */
int
gguf_get_i32(const struct gguf *g, const char *key, int32_t *out)
{
	uint64_t m;
	int neg, rc;

	rc = get_int(g, key, (uint64_t)INT32_MAX + 1, INT32_MAX, &neg, &m);
	if (rc == GGUF_OK)
		*out = neg ? (int32_t)(-(int64_t)m) : (int32_t)m;
	return rc;
}

/* gguf_get_u64 - an integer key as uint64 */
int
gguf_get_u64(const struct gguf *g, const char *key, uint64_t *out)
{
	uint64_t m;
	int neg, rc;

	if ((rc = get_int(g, key, 0, UINT64_MAX, &neg, &m)) == GGUF_OK)
		*out = m;
	return rc;
}

/* gguf_get_i64 - an integer key as int64 */
int
gguf_get_i64(const struct gguf *g, const char *key, int64_t *out)
{
	uint64_t m;
	int neg, rc;

	rc = get_int(g, key, (uint64_t)INT64_MAX + 1, INT64_MAX, &neg, &m);
	if (rc == GGUF_OK)
		*out = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)m) : (int64_t)m;
	return rc;
}

/* gguf_get_f64 - a float key as double */
int
gguf_get_f64(const struct gguf *g, const char *key, double *out)
{
	const struct kv *kv;
	int rc;

	if ((kv = scalar(g, key, &rc)) == NULL)
		return rc;
	return raw_f64(kv->type, kv->val, out) == 0 ? GGUF_OK : GGUF_ETYPE;
}

/* gguf_get_f32 - a float key as float */
int
gguf_get_f32(const struct gguf *g, const char *key, float *out)
{
	double d;
	int rc;

	if ((rc = gguf_get_f64(g, key, &d)) == GGUF_OK)
		*out = to_f32(d);
	return rc;
}

/* gguf_get_bool - a bool key */
int
gguf_get_bool(const struct gguf *g, const char *key, int *out)
{
	int64_t k = gguf_find_key(g, key);

	if (k < 0)
		return GGUF_ENOKEY;
	if (g->kv[k].type != GGUF_TYPE_BOOL)
		return GGUF_ETYPE;
	*out = g->kv[k].val[0] != 0;
	return GGUF_OK;
}

/* gguf_get_str - a string key */
int
gguf_get_str(const struct gguf *g, const char *key, const char **s,
    size_t *len)
{
	int64_t k = gguf_find_key(g, key);

	if (k < 0)
		return GGUF_ENOKEY;
	if (g->kv[k].type != GGUF_TYPE_STRING)
		return GGUF_ETYPE;
	*s = g->kv[k].str;
	if (len != NULL)
		*len = (size_t)g->kv[k].n;
	return GGUF_OK;
}

/* gguf_get_arr - an array key's element type and length */
int
gguf_get_arr(const struct gguf *g, const char *key, enum gguf_type *etype,
    uint64_t *n)
{
	int64_t k = gguf_find_key(g, key);

	if (k < 0)
		return GGUF_ENOKEY;
	if (g->kv[k].type != GGUF_TYPE_ARRAY)
		return GGUF_ETYPE;
	if (etype != NULL)
		*etype = g->kv[k].etype;
	if (n != NULL)
		*n = g->kv[k].n;
	return GGUF_OK;
}

/* kv_at - key index k if valid, else NULL. */
static const struct kv *
kv_at(const struct gguf *g, int64_t k)
{
	return k >= 0 && k < g->n_kv ? &g->kv[k] : NULL;
}

/* to_i64 - double to int64, saturating; NaN gives 0. */
static int64_t
to_i64(double d)
{
	if (d != d)
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* num_i64 - the number at p of type t as int64; 0 if not a number. */
static int64_t
num_i64(enum gguf_type t, const uint8_t *p)
{
	uint64_t m;
	double d;
	int neg;

	if (raw_int(t, p, &neg, &m) == 0)
		return neg ? (int64_t)((uint64_t)0 - m) : (int64_t)m;
	if (raw_f64(t, p, &d) == 0)
		return to_i64(d);
	return 0;
}

/* num_f64 - the number at p of type t as double; 0 if not a number. */
static double
num_f64(enum gguf_type t, const uint8_t *p)
{
	uint64_t m;
	double d;
	int neg;

	if (raw_f64(t, p, &d) == 0)
		return d;
	if (raw_int(t, p, &neg, &m) == 0)
		return neg ? -(double)m : (double)m;
	return 0;
}

/* gguf_kv_i64 - scalar key index k as int64 */
int64_t
gguf_kv_i64(const struct gguf *g, int64_t k)
{
	const struct kv *kv = kv_at(g, k);

	return kv != NULL ? num_i64(kv->type, kv->val) : 0;
}

/* gguf_kv_u64 - scalar key index k as uint64 */
uint64_t
gguf_kv_u64(const struct gguf *g, int64_t k)
{
	return (uint64_t)gguf_kv_i64(g, k);
}

/* gguf_kv_f64 - scalar key index k as double */
double
gguf_kv_f64(const struct gguf *g, int64_t k)
{
	const struct kv *kv = kv_at(g, k);

	return kv != NULL ? num_f64(kv->type, kv->val) : 0;
}

/* gguf_kv_str - string key index k */
const char *
gguf_kv_str(const struct gguf *g, int64_t k, size_t *len)
{
	const struct kv *kv = kv_at(g, k);

	if (kv == NULL || kv->type != GGUF_TYPE_STRING) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = (size_t)kv->n;
	return kv->str;
}

/* arr - the array at key index k if k is one and i < its length. */
static const struct kv *
arr(const struct gguf *g, int64_t k, uint64_t i)
{
	const struct kv *kv = kv_at(g, k);

	if (kv == NULL || kv->type != GGUF_TYPE_ARRAY || i >= kv->n)
		return NULL;
	return kv;
}

/* gguf_arr_type - element type of array key index k */
enum gguf_type
gguf_arr_type(const struct gguf *g, int64_t k)
{
	const struct kv *kv = kv_at(g, k);

	return kv != NULL && kv->type == GGUF_TYPE_ARRAY ? kv->etype :
	    GGUF_TYPE_ARRAY;
}

/* gguf_arr_len - element count of array key index k */
uint64_t
gguf_arr_len(const struct gguf *g, int64_t k)
{
	const struct kv *kv = kv_at(g, k);

	return kv != NULL && kv->type == GGUF_TYPE_ARRAY ? kv->n : 0;
}

/* gguf_arr_f32 - numeric array element as float */
float
gguf_arr_f32(const struct gguf *g, int64_t k, uint64_t i)
{
	const struct kv *kv = arr(g, k, i);

	if (kv == NULL || kv->etype == GGUF_TYPE_STRING)
		return 0;
	return to_f32(num_f64(kv->etype, kv->val + i *
	    type_size[kv->etype]));
}

/* gguf_arr_i64 - numeric array element as int64 */
int64_t
gguf_arr_i64(const struct gguf *g, int64_t k, uint64_t i)
{
	const struct kv *kv = arr(g, k, i);

	if (kv == NULL || kv->etype == GGUF_TYPE_STRING)
		return 0;
	return num_i64(kv->etype, kv->val + i * type_size[kv->etype]);
}

/* gguf_arr_u64 - numeric array element as uint64 */
uint64_t
gguf_arr_u64(const struct gguf *g, int64_t k, uint64_t i)
{
	return (uint64_t)gguf_arr_i64(g, k, i);
}

/* gguf_arr_str - string array element, not NUL-terminated */
const char *
gguf_arr_str(const struct gguf *g, int64_t k, uint64_t i, size_t *len)
{
	const struct kv *kv = arr(g, k, i);

	if (kv == NULL || kv->etype != GGUF_TYPE_STRING) {
		*len = 0;
		return NULL;
	}
	*len = kv->sref[i].len;
	return (const char *)g->base + kv->sref[i].off;
}

/* gguf_arr_data - raw bytes of a numeric array */
const void *
gguf_arr_data(const struct gguf *g, int64_t k)
{
	const struct kv *kv = kv_at(g, k);

	if (kv == NULL || kv->type != GGUF_TYPE_ARRAY ||
	    kv->etype == GGUF_TYPE_STRING)
		return NULL;
	return kv->val;
}

/* gguf_n_tensors - number of tensors */
int64_t
gguf_n_tensors(const struct gguf *g)
{
	return g->n_t;
}

/* gguf_tensor - tensor by index */
const struct gguf_tensor *
gguf_tensor(const struct gguf *g, int64_t i)
{
	assert(i >= 0 && i < g->n_t);
	return &g->t[i];
}

/* gguf_find_tensor - tensor by name */
const struct gguf_tensor *
gguf_find_tensor(const struct gguf *g, const char *name)
{
	int64_t i = find(g->t_sorted, g->t_sorted != NULL ? g->n_t : 0, name);

	return i < 0 ? NULL : &g->t[i];
}
