/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_gguf - libFuzzer harness for the GGUF reader: gguf_open_mem on the
 * input, then every accessor on a file that opened, touching every byte
 * of tensor data so ASan sees any out-of-bounds pointer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infer/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* walk - use every accessor; returns a checksum so nothing is elided. */
static unsigned
walk(const struct gguf *g)
{
	const struct gguf_tensor *t;
	const uint8_t *p;
	const char *s;
	unsigned sum = 0;
	int64_t k, i;
	uint64_t j, n;
	size_t len, b;
	enum gguf_type et;

	for (k = 0; k < gguf_n_kv(g); k++) {
		s = gguf_key_name(g, k);
		if (gguf_find_key(g, s) != k)
			abort();
		switch (gguf_key_type(g, k)) {
		case GGUF_TYPE_STRING:
			s = gguf_kv_str(g, k, &len);
			if (s[len] != '\0')
				abort();
			sum += len ? (uint8_t)s[len - 1] : 0;
			break;
		case GGUF_TYPE_ARRAY:
			et = gguf_arr_type(g, k);
			n = gguf_arr_len(g, k);
			/* Wrong kinds and past-the-end indices are total. */
			s = gguf_arr_str(g, k, n, &len);
			if (s != NULL || len != 0 || gguf_arr_i64(g, k, n) ||
			    gguf_arr_f32(g, k, n) != 0)
				abort();
			sum += (unsigned)gguf_arr_i64(g, k, 0);
			sum += gguf_arr_f32(g, k, 0) > 0;
			sum += gguf_arr_str(g, k, 0, &len) != NULL;
			sum += gguf_arr_data(g, k) != NULL;
			for (j = 0; j < n && j < 4096; j++) {
				if (et == GGUF_TYPE_STRING) {
					s = gguf_arr_str(g, k, j, &len);
					for (b = 0; b < len; b++)
						sum += (uint8_t)s[b];
				} else if (et == GGUF_TYPE_FLOAT32 ||
				    et == GGUF_TYPE_FLOAT64) {
					sum += gguf_arr_f32(g, k, j) > 0;
				} else {
					sum += (unsigned)gguf_arr_i64(g, k, j);
					sum += gguf_arr_f32(g, k, j) > 0;
				}
			}
			break;
		case GGUF_TYPE_BOOL:
			break;
		default:
			break;
		}
		sum += (unsigned)gguf_kv_i64(g, k);
		sum += gguf_kv_f64(g, k) > 0;
		sum += (unsigned)gguf_arr_len(g, k);
	}
	for (i = 0; i < gguf_n_tensors(g); i++) {
		t = gguf_tensor(g, i);
		if (gguf_find_tensor(g, t->name) != t)
			abort();
		p = t->data;
		for (b = 0; b < t->nbytes; b++)
			sum += p[b];
	}
	sum += (unsigned)strlen(gguf_architecture(g));
	return sum;
}

/* LLVMFuzzerTestOneInput - one input: open, walk, close */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile unsigned sink;
	struct gguf *g;
	char err[256];
	uint8_t *copy;

	/* A private copy, so reads past size hit ASan's redzone. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	err[0] = '\0';
	g = gguf_open_mem(copy, size, "fuzz", err, sizeof(err));
	if (g == NULL) {
		if (strncmp(err, "fuzz: ", 6) != 0 || strlen(err) < 8)
			abort();	/* every failure explains itself */
	} else
		sink += walk(g);
	(void)sink;
	gguf_close(g);
	free(copy);
	return 0;
}
