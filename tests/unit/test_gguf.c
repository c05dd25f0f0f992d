/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_gguf - the GGUF reader against files written by tests/tools/mkgguf.py
 * (models/convert/gguf.py): every accessor, every tensor dequantised by an
 * independent C dequantiser (here, not src/infer/quant.c) and compared
 * bit for bit with the python side, every corruption mode, a truncation
 * sweep, seeded byte mutations, and the fuzzer's regression inputs.  The
 * quantised blocks gguf.py wrote are also compared byte for byte with a C
 * transcription of ggml's reference quantisers (quantize_row_*_ref).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "infer/gguf.h"

/* ggml's reference code is compiled without a*b+c contraction. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static char tmpdir[256];
static char good[512];		/* all types, alignment 32 */
static char good64[512];	/* all types, alignment 64 */
static char small[512];		/* one tensor per type, 50 tokens */

/* slurp - whole file into malloc'd memory; *len set. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (fp == NULL)
		fail_msg("%s: cannot open", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* spew - write len bytes to path. */
static void
spew(const char *path, const void *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* mkgguf - run tests/tools/mkgguf.py with args; fails the test on error. */
static void
mkgguf(const char *args)
{
	const char *top = getenv("top_srcdir");
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 "
	    "'%s/tests/tools/mkgguf.py' %s", top != NULL ? top : ".", args);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");
	char args[1024];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/rs-gguf-XXXXXX", t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(good, sizeof(good), "%s/good.gguf", tmpdir);
	snprintf(good64, sizeof(good64), "%s/good64.gguf", tmpdir);
	snprintf(small, sizeof(small), "%s/small.gguf", tmpdir);
	snprintf(args, sizeof(args), "tensors '%s' --seed 1", good);
	mkgguf(args);
	snprintf(args, sizeof(args), "tensors '%s' --seed 7 --alignment 64",
	    good64);
	mkgguf(args);
	snprintf(args, sizeof(args), "tensors '%s' --seed 3 --small "
	    "--no-expect", small);
	mkgguf(args);
	snprintf(args, sizeof(args), "badall '%s/bad'", tmpdir);
	mkgguf(args);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------ independent dequantiser */

/* f16 - IEEE half to float, written from the format, not from ggml. */
static float
f16(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31,
	    m = h & 1023, u;
	float f;

	if (e == 0) {
		f = ldexpf((float)m, -24);
		return sign ? -f : f;
	}
	if (e == 31)
		u = sign | 0x7f800000 | (m << 13);
	else
		u = sign | ((e + 112) << 23) | (m << 13);
	memcpy(&f, &u, 4);
	return f;
}

static float
bf16(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* dequant - n values of type t at p into out. */
static void
dequant(enum dtype t, const uint8_t *p, size_t n, float *out)
{
	size_t i, b, j;
	float d, dm, sc[8], mn[8];
	const uint8_t *s, *q;
	uint8_t a, c;

	switch (t) {
	case DTYPE_F32:
		memcpy(out, p, n * 4);
		break;
	case DTYPE_F16:
		for (i = 0; i < n; i++)
			out[i] = f16(rd16(p + 2 * i));
		break;
	case DTYPE_BF16:
		for (i = 0; i < n; i++)
			out[i] = bf16(rd16(p + 2 * i));
		break;
	case DTYPE_Q8_0:
		for (b = 0; b < n / 32; b++, p += 34) {
			d = f16(rd16(p));
			for (j = 0; j < 32; j++)
				out[b * 32 + j] = d * (float)(int8_t)p[2 + j];
		}
		break;
	case DTYPE_Q4_0:
		for (b = 0; b < n / 32; b++, p += 18) {
			d = f16(rd16(p));
			for (j = 0; j < 16; j++) {
				a = p[2 + j];
				out[b * 32 + j] = (float)((a & 15) - 8) * d;
				out[b * 32 + j + 16] = (float)((a >> 4) - 8) *
				    d;
			}
		}
		break;
	case DTYPE_Q4_K:
		for (b = 0; b < n / 256; b++, p += 144) {
			d = f16(rd16(p));
			dm = f16(rd16(p + 2));
			s = p + 4;
			q = p + 16;
			/* 6-bit scale and min of sub-block j (ggml's k4). */
			for (j = 0; j < 8; j++) {
				if (j < 4) {
					a = s[j] & 63;
					c = s[j + 4] & 63;
				} else {
					a = (s[j + 4] & 15) |
					    ((s[j - 4] >> 6) << 4);
					c = (s[j + 4] >> 4) |
					    ((s[j] >> 6) << 4);
				}
				sc[j] = d * (float)a;
				mn[j] = dm * (float)c;
			}
			/* Bytes 32k..32k+31: sub-blocks 2k (low), 2k+1. */
			for (j = 0; j < 256; j++) {
				size_t sb = j / 32, at = (sb / 2) * 32 + j % 32;
				int v = sb % 2 ? q[at] >> 4 : q[at] & 15;

				out[b * 256 + j] = sc[sb] * (float)v - mn[sb];
			}
		}
		break;
	default:
		fail_msg("dequant: type %d", (int)t);
	}
}

/* ---------------------------- ggml's reference quantisers, transcribed */

/* to_f16 - float to IEEE half, round to nearest even (as F16C does). */
static uint16_t
to_f16(float f)
{
	uint32_t u, sign, mant, r;
	int e;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	e = (int)((u >> 23) & 255) - 127 + 15;
	mant = u & 0x7fffff;
	if (((u >> 23) & 255) == 255)
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) {
		if (e < -10)
			return (uint16_t)sign;
		mant |= 0x800000;
		r = mant >> (14 - e);
		/* Round half to even on the bits shifted out. */
		if ((mant & ((1u << (14 - e)) - 1)) > (1u << (13 - e)) ||
		    ((mant & ((1u << (14 - e)) - 1)) == (1u << (13 - e)) &&
		    (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	r = ((uint32_t)e << 10) | (mant >> 13);
	if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) == 0x1000 && (r & 1)))
		r++;	/* a carry into the exponent is still right */
	return (uint16_t)(sign | r);
}

/* nearest_int - ggml's: round half to even via the 1.5 * 2^23 trick. */
static int
nearest_int(float fval)
{
	float val = fval + 12582912.f;
	int i;

	memcpy(&i, &val, sizeof(int));
	return (i & 0x007fffff) - 0x00400000;
}

#define MAXI(a, b) ((a) > (b) ? (a) : (b))
#define MINI(a, b) ((a) < (b) ? (a) : (b))

/* ref_q8_0 - quantize_row_q8_0_ref. */
static void
ref_q8_0(const float *x, uint8_t *y, size_t n)
{
	size_t i, j;
	float amax, d, id;

	for (i = 0; i < n / 32; i++, y += 34) {
		amax = 0;
		for (j = 0; j < 32; j++)
			amax = MAXI(amax, fabsf(x[i * 32 + j]));
		d = amax / 127;
		id = d ? 1.0f / d : 0.0f;
		y[0] = to_f16(d) & 255;
		y[1] = to_f16(d) >> 8;
		for (j = 0; j < 32; j++)
			y[2 + j] = (uint8_t)(int8_t)roundf(x[i * 32 + j] * id);
	}
}

/* ref_q4_0 - quantize_row_q4_0_ref. */
static void
ref_q4_0(const float *x, uint8_t *y, size_t n)
{
	size_t i, j;
	float amax, max, d, id, v;
	uint8_t a, b;

	for (i = 0; i < n / 32; i++, y += 18, x += 32) {
		amax = max = 0;
		for (j = 0; j < 32; j++) {
			v = x[j];
			if (amax < fabsf(v)) {
				amax = fabsf(v);
				max = v;
			}
		}
		d = max / -8;
		id = d ? 1.0f / d : 0.0f;
		y[0] = to_f16(d) & 255;
		y[1] = to_f16(d) >> 8;
		for (j = 0; j < 16; j++) {
			a = (uint8_t)MINI(15, (int8_t)(x[j] * id + 8.5f));
			b = (uint8_t)MINI(15, (int8_t)(x[16 + j] * id + 8.5f));
			y[2 + j] = (uint8_t)(a | b << 4);
		}
	}
}

/* make_qkx2_quants - ggml's, with use_mad false. */
static float
make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
    uint8_t *L, float *the_min, uint8_t *Laux, float rmin, float rdelta,
    int nstep)
{
	float min = x[0], max = x[0], sum_w = weights[0];
	float sum_x = sum_w * x[0], iscale, scale, best_mad = 0, diff, w;
	float sum_l, sum_l2, sum_xl, D, this_scale, this_min, mad;
	int i, is, l;

	for (i = 1; i < n; ++i) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		w = weights[i];
		sum_w += w;
		sum_x += w * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		for (i = 0; i < n; ++i)
			L[i] = 0;
		*the_min = -min;
		return 0.f;
	}
	iscale = nmax / (max - min);
	scale = 1 / iscale;
	for (i = 0; i < n; ++i) {
		l = nearest_int(iscale * (x[i] - min));
		L[i] = (uint8_t)MAXI(0, MINI(nmax, l));
		diff = scale * L[i] + min - x[i];
		diff = diff * diff;
		best_mad += weights[i] * diff;
	}
	for (is = 0; is <= nstep; ++is) {
		iscale = (rmin + rdelta * is + nmax) / (max - min);
		sum_l = sum_l2 = sum_xl = 0;
		for (i = 0; i < n; ++i) {
			l = nearest_int(iscale * (x[i] - min));
			l = MAXI(0, MINI(nmax, l));
			Laux[i] = (uint8_t)l;
			w = weights[i];
			sum_l += w * l;
			sum_l2 += w * l * l;
			sum_xl += w * l * x[i];
		}
		D = sum_w * sum_l2 - sum_l * sum_l;
		if (D > 0) {
			this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			mad = 0;
			for (i = 0; i < n; ++i) {
				diff = this_scale * Laux[i] + this_min - x[i];
				diff = diff * diff;
				mad += weights[i] * diff;
			}
			if (mad < best_mad) {
				for (i = 0; i < n; ++i)
					L[i] = Laux[i];
				best_mad = mad;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

/* ref_q4_k - quantize_row_q4_K_ref. */
static void
ref_q4_k(const float *x, uint8_t *y, size_t n)
{
	uint8_t L[256], Laux[32], ls, lm, sc, m, *s, *q;
	float weights[32], mins[8], scales[8], max_scale, max_min, sum_x2;
	float av_x, inv_scale, inv_min, d, dm, dd, dmin;
	size_t i;
	int j, l, ii;

	for (i = 0; i < n / 256; i++, y += 144, x += 256) {
		memset(y, 0, 144);
		max_scale = max_min = 0;
		for (j = 0; j < 8; ++j) {
			sum_x2 = 0;
			for (l = 0; l < 32; ++l)
				sum_x2 += x[32 * j + l] * x[32 * j + l];
			av_x = sqrtf(sum_x2 / 32);
			for (l = 0; l < 32; ++l)
				weights[l] = av_x + fabsf(x[32 * j + l]);
			scales[j] = make_qkx2_quants(32, 15, x + 32 * j,
			    weights, L + 32 * j, &mins[j], Laux, -1.f, 0.1f,
			    20);
			if (scales[j] > max_scale)
				max_scale = scales[j];
			if (mins[j] > max_min)
				max_min = mins[j];
		}
		inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
		inv_min = max_min > 0 ? 63.f / max_min : 0.f;
		s = y + 4;
		for (j = 0; j < 8; ++j) {
			ls = (uint8_t)nearest_int(inv_scale * scales[j]);
			lm = (uint8_t)nearest_int(inv_min * mins[j]);
			ls = MINI(63, ls);
			lm = MINI(63, lm);
			if (j < 4) {
				s[j] = ls;
				s[j + 4] = lm;
			} else {
				s[j + 4] = (uint8_t)((ls & 0xF) |
				    ((lm & 0xF) << 4));
				s[j - 4] |= (uint8_t)((ls >> 4) << 6);
				s[j] |= (uint8_t)((lm >> 4) << 6);
			}
		}
		y[0] = to_f16(max_scale / 63.f) & 255;
		y[1] = to_f16(max_scale / 63.f) >> 8;
		y[2] = to_f16(max_min / 63.f) & 255;
		y[3] = to_f16(max_min / 63.f) >> 8;
		d = f16(rd16(y));
		dmin = f16(rd16(y + 2));
		for (j = 0; j < 8; ++j) {
			if (j < 4) {
				sc = s[j] & 63;
				m = s[j + 4] & 63;
			} else {
				sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
				m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
			}
			dd = d * sc;
			if (!dd)
				continue;
			dm = dmin * m;
			for (ii = 0; ii < 32; ++ii) {
				l = nearest_int((x[32 * j + ii] + dm) / dd);
				L[32 * j + ii] = (uint8_t)MAXI(0, MINI(15, l));
			}
		}
		q = y + 16;
		for (j = 0; j < 256; j += 64, q += 32)
			for (l = 0; l < 32; ++l)
				q[l] = (uint8_t)(L[j + l] |
				    (L[j + l + 32] << 4));
	}
}

/* ------------------------------------------------------------- metadata */

static void
test_metadata(void **state)
{
	struct gguf *g;
	char err[256];
	uint32_t u32;
	int32_t i32;
	uint64_t u64, n;
	int64_t i64, k;
	float f;
	double d;
	int b;
	const char *s;
	size_t len;
	enum gguf_type et;
	char want[32];

	(void)state;
	g = gguf_open(good, err, sizeof(err));
	if (g == NULL)
		fail_msg("%s", err);
	assert_int_equal(gguf_version(g), 3);
	assert_int_equal(gguf_alignment(g), 32);
	assert_int_equal(gguf_data_offset(g) % 32, 0);
	assert_string_equal(gguf_architecture(g), "test");
	/* No general.alignment key in this file: 32 is the default. */
	assert_int_equal(gguf_n_kv(g), 26);
	assert_int_equal(gguf_find_key(g, "general.alignment"), -1);
	assert_string_equal(gguf_key_name(g, 0), "general.architecture");
	assert_int_equal(gguf_key_type(g, 0), GGUF_TYPE_STRING);
	assert_int_equal(gguf_find_key(g, "general.name"), 1);
	assert_int_equal(gguf_find_key(g, "nope"), -1);
	assert_int_equal(gguf_find_key(g, ""), -1);

	/* Each integer getter: exact type, wider and narrower, out of range. */
	assert_int_equal(gguf_get_u32(g, "test.u8", &u32), 0);
	assert_int_equal(u32, 200);
	assert_int_equal(gguf_get_i32(g, "test.i8", &i32), 0);
	assert_int_equal(i32, -100);
	assert_int_equal(gguf_get_u32(g, "test.i8", &u32), GGUF_ETYPE);
	assert_int_equal(gguf_get_u32(g, "test.u16", &u32), 0);
	assert_int_equal(u32, 60000);
	assert_int_equal(gguf_get_i32(g, "test.i16", &i32), 0);
	assert_int_equal(i32, -30000);
	assert_int_equal(gguf_get_u32(g, "test.u32", &u32), 0);
	assert_int_equal(u32, 4000000000u);
	assert_int_equal(gguf_get_i32(g, "test.u32", &i32), GGUF_ETYPE);
	assert_int_equal(gguf_get_i64(g, "test.u32", &i64), 0);
	assert_int_equal(i64, 4000000000LL);
	assert_int_equal(gguf_get_i32(g, "test.i32", &i32), 0);
	assert_int_equal(i32, -2000000000);
	assert_int_equal(gguf_get_u64(g, "test.i32", &u64), GGUF_ETYPE);
	assert_int_equal(gguf_get_u64(g, "test.u64", &u64), 0);
	assert_int_equal(u64, (1ULL << 40) + 1);
	assert_int_equal(gguf_get_u32(g, "test.u64", &u32), GGUF_ETYPE);
	assert_int_equal(gguf_get_i64(g, "test.i64", &i64), 0);
	assert_int_equal(i64, -(1LL << 40));
	assert_int_equal(gguf_get_i32(g, "test.i64", &i32), GGUF_ETYPE);
	assert_int_equal(gguf_get_u32(g, "test.f32", &u32), GGUF_ETYPE);
	assert_int_equal(gguf_get_u32(g, "test.str", &u32), GGUF_ETYPE);
	assert_int_equal(gguf_get_u32(g, "test.bool", &u32), GGUF_ETYPE);
	assert_int_equal(gguf_get_u32(g, "absent", &u32), GGUF_ENOKEY);

	/* Floats. */
	assert_int_equal(gguf_get_f32(g, "test.f32", &f), 0);
	assert_true(f == 1.5f);
	assert_int_equal(gguf_get_f64(g, "test.f64", &d), 0);
	assert_true(d == 0.1);
	assert_int_equal(gguf_get_f32(g, "test.f64", &f), 0);
	assert_true(f == 0.1f);
	assert_int_equal(gguf_get_f32(g, "test.u8", &f), GGUF_ETYPE);
	assert_int_equal(gguf_get_f32(g, "absent", &f), GGUF_ENOKEY);

	/* Bool and strings. */
	assert_int_equal(gguf_get_bool(g, "test.bool", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(gguf_get_bool(g, "test.false", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(gguf_get_bool(g, "test.u8", &b), GGUF_ETYPE);
	assert_int_equal(gguf_get_str(g, "test.str", &s, &len), 0);
	assert_int_equal(len, 13);
	assert_string_equal(s, "h\xc3\xa9llo, world");
	assert_int_equal(gguf_get_str(g, "test.empty", &s, NULL), 0);
	assert_string_equal(s, "");
	assert_int_equal(gguf_get_str(g, "test.u8", &s, &len), GGUF_ETYPE);
	assert_int_equal(gguf_get_str(g, "absent", &s, &len), GGUF_ENOKEY);

	/* Index-based scalar access, as a dumper uses it. */
	k = gguf_find_key(g, "test.i16");
	assert_int_equal(gguf_kv_i64(g, k), -30000);
	assert_true(gguf_kv_f64(g, k) == -30000.0);
	k = gguf_find_key(g, "test.u64");
	assert_int_equal(gguf_kv_u64(g, k), (1ULL << 40) + 1);
	k = gguf_find_key(g, "test.f32");
	assert_true(gguf_kv_f64(g, k) == 1.5);
	k = gguf_find_key(g, "general.name");
	assert_string_equal(gguf_kv_str(g, k, &len), "mkgguf tensors");
	assert_int_equal(len, 14);

	/* gguf_check_key messages. */
	assert_int_equal(gguf_check_key(g, "test.u32", GGUF_TYPE_UINT32, err,
	    sizeof(err)), 0);
	assert_int_equal(gguf_check_key(g, "test.str", GGUF_TYPE_UINT32, err,
	    sizeof(err)), -1);
	assert_string_equal(err,
	    "key 'test.str': type string, expected uint32");
	assert_int_equal(gguf_check_key(g, "llama.block_count",
	    GGUF_TYPE_UINT32, err, sizeof(err)), -1);
	assert_string_equal(err, "missing key 'llama.block_count'");

	/* Arrays of each kind. */
	assert_int_equal(gguf_get_arr(g, "test.arr.u8", &et, &n), 0);
	assert_int_equal(et, GGUF_TYPE_UINT8);
	assert_int_equal(n, 3);
	k = gguf_find_key(g, "test.arr.u8");
	assert_int_equal(gguf_arr_u64(g, k, 2), 255);
	assert_true(gguf_arr_f32(g, k, 1) == 2.0f);
	assert_memory_equal(gguf_arr_data(g, k), "\x01\x02\xff", 3);
	k = gguf_find_key(g, "test.arr.i16");
	assert_int_equal(gguf_arr_i64(g, k, 0), -32768);
	assert_int_equal(gguf_arr_i64(g, k, 2), 32767);
	k = gguf_find_key(g, "test.arr.i32");
	assert_int_equal(gguf_arr_len(g, k), 4);
	assert_int_equal(gguf_arr_type(g, k), GGUF_TYPE_INT32);
	assert_int_equal(gguf_arr_i64(g, k, 0), -7);
	assert_int_equal(gguf_arr_i64(g, k, 3), 2147483647);
	assert_true(gguf_arr_f32(g, k, 0) == -7.0f);
	k = gguf_find_key(g, "test.arr.u64");
	assert_int_equal(gguf_arr_u64(g, k, 1), 1ULL << 63);
	k = gguf_find_key(g, "test.arr.f32");
	assert_true(gguf_arr_f32(g, k, 0) == 0.5f);
	assert_true(gguf_arr_f32(g, k, 1) == -2.25f);
	assert_true(gguf_arr_f32(g, k, 2) == 1e-3f);
	k = gguf_find_key(g, "test.arr.f64");
	assert_true(gguf_arr_f32(g, k, 0) == 0.1f);
	assert_true(isinf(gguf_arr_f32(g, k, 1)));
	k = gguf_find_key(g, "test.arr.bool");
	assert_int_equal(gguf_arr_i64(g, k, 0), 1);
	assert_int_equal(gguf_arr_i64(g, k, 1), 0);
	assert_int_equal(gguf_get_arr(g, "test.arr.empty", &et, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(et, GGUF_TYPE_INT32);
	assert_int_equal(gguf_get_arr(g, "test.u8", &et, &n), GGUF_ETYPE);
	assert_int_equal(gguf_get_arr(g, "absent", &et, &n), GGUF_ENOKEY);
	k = gguf_find_key(g, "test.arr.str");
	assert_int_equal(gguf_arr_type(g, k), GGUF_TYPE_STRING);
	assert_null(gguf_arr_data(g, k));
	s = gguf_arr_str(g, k, 0, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(s, "a", 1);
	gguf_arr_str(g, k, 1, &len);
	assert_int_equal(len, 0);
	s = gguf_arr_str(g, k, 2, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(s, "\xc3\xbcn\xc3\xaf", 5);
	/* The index accessors never fail: wrong kind or range gives 0. */
	k = gguf_find_key(g, "test.arr.f32");
	assert_int_equal(gguf_arr_i64(g, k, 1), -2);
	assert_true(gguf_arr_f32(g, k, 3) == 0.0f);
	assert_null(gguf_arr_str(g, k, 0, &len));
	assert_int_equal(len, 0);
	k = gguf_find_key(g, "test.arr.f64");
	assert_int_equal(gguf_arr_i64(g, k, 1), INT64_MIN);
	k = gguf_find_key(g, "test.arr.str");
	assert_int_equal(gguf_arr_i64(g, k, 0), 0);
	assert_true(gguf_arr_f32(g, k, 0) == 0.0f);
	assert_null(gguf_arr_str(g, k, 3, &len));
	k = gguf_find_key(g, "test.u8");
	assert_int_equal(gguf_arr_len(g, k), 0);
	assert_int_equal(gguf_arr_type(g, k), GGUF_TYPE_ARRAY);
	assert_null(gguf_arr_data(g, k));
	assert_int_equal(gguf_arr_i64(g, k, 0), 0);
	assert_null(gguf_kv_str(g, k, &len));
	assert_int_equal(gguf_kv_i64(g, gguf_find_key(g, "test.str")), 0);
	assert_int_equal(gguf_kv_i64(g, gguf_find_key(g, "test.bool")), 1);
	assert_int_equal(gguf_kv_i64(g, gguf_find_key(g, "test.f32")), 1);
	assert_int_equal(gguf_kv_i64(g, -1), 0);
	assert_true(gguf_kv_f64(g, gguf_n_kv(g)) == 0.0);
	assert_int_equal(gguf_arr_len(g, -1), 0);

	k = gguf_find_key(g, "test.tokens");
	assert_int_equal(gguf_arr_len(g, k), 1000);
	for (n = 0; n < 1000; n += 37) {
		snprintf(want, sizeof(want), "tok%d", (int)n);
		s = gguf_arr_str(g, k, n, &len);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(s, want, len);
	}
	gguf_close(g);
}

/* ------------------------------------------------------------- tensors */

/* Shapes mkgguf.py writes, in file order (numpy shape, reversed = ne). */
static const struct {
	const char	*name;
	enum dtype	 type;
	int		 n_dims;
	int64_t		 ne[4];
} want_t[] = {
	{ "f32.0", DTYPE_F32, 2, { 64, 3, 1, 1 } },
	{ "f32.1", DTYPE_F32, 1, { 5, 1, 1, 1 } },
	{ "f32.2", DTYPE_F32, 4, { 8, 4, 3, 2 } },
	{ "f16.0", DTYPE_F16, 2, { 32, 4, 1, 1 } },
	{ "f16.1", DTYPE_F16, 3, { 16, 2, 2, 1 } },
	{ "bf16.0", DTYPE_BF16, 2, { 32, 4, 1, 1 } },
	{ "bf16.1", DTYPE_BF16, 1, { 7, 1, 1, 1 } },
	{ "q8_0.0", DTYPE_Q8_0, 2, { 64, 3, 1, 1 } },
	{ "q8_0.1", DTYPE_Q8_0, 3, { 32, 2, 2, 1 } },
	{ "q4_0.0", DTYPE_Q4_0, 2, { 64, 3, 1, 1 } },
	{ "q4_0.1", DTYPE_Q4_0, 1, { 32, 1, 1, 1 } },
	{ "q4_k.0", DTYPE_Q4_K, 2, { 256, 2, 1, 1 } },
	{ "q4_k.1", DTYPE_Q4_K, 3, { 512, 1, 2, 1 } },
};

/* check_tensors - shapes, layout and values of a mkgguf "tensors" file. */
static void
check_tensors(const char *path, size_t align)
{
	char err[256], xp[600];
	struct gguf *g;
	const struct gguf_tensor *t;
	float *expect, *src, *got;
	size_t elen, slen, off = 0, n, i, blck, bsz;
	double se, ss, lim;
	int64_t k;

	g = gguf_open(path, err, sizeof(err));
	if (g == NULL)
		fail_msg("%s", err);
	snprintf(xp, sizeof(xp), "%s.f32", path);
	expect = (float *)slurp(xp, &elen);
	snprintf(xp, sizeof(xp), "%s.src", path);
	src = (float *)slurp(xp, &slen);
	assert_int_equal(elen, slen);
	assert_int_equal(gguf_alignment(g), align);
	assert_int_equal(gguf_n_tensors(g), sizeof(want_t) / sizeof(want_t[0]));
	for (k = 0; k < gguf_n_tensors(g); k++) {
		t = gguf_tensor(g, k);
		assert_string_equal(t->name, want_t[k].name);
		assert_ptr_equal(gguf_find_tensor(g, t->name), t);
		assert_int_equal(t->type, want_t[k].type);
		assert_int_equal(t->n_dims, want_t[k].n_dims);
		assert_memory_equal(t->ne, want_t[k].ne, sizeof(t->ne));
		n = (size_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
		assert_non_null(dtype_traits(t->type));
		blck = (size_t)dtype_traits(t->type)->blck_size;
		bsz = dtype_traits(t->type)->type_size;
		assert_int_equal(t->nbytes, n / blck * bsz);
		assert_int_equal(t->offset % align, 0);
		/* The mapping is page-aligned, so the pointer is too. */
		assert_int_equal((uintptr_t)t->data % align, 0);
		assert_true(off + n <= elen / 4);
		got = malloc(n * sizeof(float));
		assert_non_null(got);
		dequant(t->type, t->data, n, got);
		/* Bit for bit against gguf.py's own dequantisation. */
		for (i = 0; i < n; i++)
			if (memcmp(&got[i], &expect[off + i], 4) != 0)
				fail_msg("%s[%zu]: C %.9g, python %.9g",
				    t->name, i, got[i], expect[off + i]);
		/* And close to the values before encoding. */
		se = ss = 0;
		for (i = 0; i < n; i++) {
			se += ((double)got[i] - src[off + i]) *
			    ((double)got[i] - src[off + i]);
			ss += (double)src[off + i] * src[off + i];
			if (t->type == DTYPE_F32)
				assert_true(got[i] == src[off + i]);
			if (t->type == DTYPE_F16 || t->type == DTYPE_BF16) {
				lim = fabs(src[off + i]) * (t->type ==
				    DTYPE_F16 ? 0x1p-11 : 0x1p-8) + 0x1p-24;
				assert_true(fabs(got[i] - src[off + i]) <= lim);
			}
		}
		lim = t->type == DTYPE_Q8_0 ? 0.01 : t->type == DTYPE_Q4_0 ?
		    0.15 : t->type == DTYPE_Q4_K ? 0.12 : 0.005;
		if (sqrt(se / ss) > lim)
			fail_msg("%s: relative rms error %g > %g", t->name,
			    sqrt(se / ss), lim);
		/* Quantised blocks: byte for byte as ggml's reference. */
		if (t->type == DTYPE_Q8_0 || t->type == DTYPE_Q4_0 ||
		    t->type == DTYPE_Q4_K) {
			uint8_t *ref = malloc(t->nbytes);

			assert_non_null(ref);
			if (t->type == DTYPE_Q8_0)
				ref_q8_0(src + off, ref, n);
			else if (t->type == DTYPE_Q4_0)
				ref_q4_0(src + off, ref, n);
			else
				ref_q4_k(src + off, ref, n);
			for (i = 0; i < t->nbytes; i++)
				if (ref[i] != ((const uint8_t *)t->data)[i])
					fail_msg("%s: byte %zu: ggml %u, "
					    "gguf.py %u", t->name, i, ref[i],
					    ((const uint8_t *)t->data)[i]);
			free(ref);
		}
		/* F16 and BF16 rounding as ggml does it. */
		for (i = 0; i < n && t->type == DTYPE_F16; i++)
			assert_int_equal(rd16((const uint8_t *)t->data + 2 * i),
			    to_f16(src[off + i]));
		free(got);
		off += n;
	}
	assert_int_equal(off, elen / 4);
	assert_null(gguf_find_tensor(g, "nope"));
	free(expect);
	free(src);
	gguf_close(g);
}

static void
test_tensors(void **state)
{
	(void)state;
	check_tensors(good, 32);
}

static void
test_tensors_align64(void **state)
{
	(void)state;
	check_tensors(good64, 64);
}

/* A version 2 file (same layout) opens; version 1 and 4 do not. */
static void
test_version2(void **state)
{
	char path[512], err[256];
	struct gguf *g;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = slurp(small, &len);
	buf[4] = 2;
	snprintf(path, sizeof(path), "%s/v2.gguf", tmpdir);
	spew(path, buf, len);
	g = gguf_open(path, err, sizeof(err));
	if (g == NULL)
		fail_msg("%s", err);
	assert_int_equal(gguf_version(g), 2);
	gguf_close(g);
	buf[4] = 4;
	assert_null(gguf_open_mem(buf, len, NULL, err, sizeof(err)));
	assert_string_equal(err, "gguf: unsupported version 4 (2 and 3 are)");
	free(buf);
}

/* ------------------------------------------------------- broken files */

static void
test_bad_modes(void **state)
{
	char path[1024], line[256], err[1280], *tab;
	struct gguf *g;
	FILE *fp;
	int n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad/modes.txt", tmpdir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		assert_non_null(tab = strchr(line, '\t'));
		*tab++ = '\0';
		snprintf(path, sizeof(path), "%s/bad/%s.gguf", tmpdir, line);
		err[0] = '\0';
		g = gguf_open(path, err, sizeof(err));
		if (g != NULL)
			fail_msg("%s: opened", line);
		if (strncmp(err, path, strlen(path)) != 0 ||
		    strstr(err, tab) == NULL)
			fail_msg("%s: want '%s' in '%s'", line, tab, err);
		/* The same with no error buffer at all. */
		assert_null(gguf_open(path, NULL, 0));
		n++;
	}
	fclose(fp);
	assert_true(n >= 30);
}

static void
test_open_errors(void **state)
{
	char err[512], tiny[4];

	(void)state;
	assert_null(gguf_open("/nonexistent/x.gguf", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/x.gguf: No such file or "
	    "directory");
	assert_null(gguf_open(tmpdir, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	/* A small error buffer truncates the message, NUL-terminated. */
	assert_null(gguf_open_mem("GGUZ", 4, "m", tiny, sizeof(tiny)));
	assert_string_equal(tiny, "m: ");
	assert_null(gguf_open_mem(NULL, 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "truncated"));
	gguf_close(NULL);
}

/*
 * Every prefix of a valid file: a cut inside the header or tensor infos
 * says "truncated", one inside tensor data says "extends past the end",
 * and only a cut in the final padding still opens.  Each prefix lives in
 * an exact-size allocation, so ASan catches any read past it.
 */
static void
sweep(const char *path)
{
	char err[512];
	struct gguf *g;
	const struct gguf_tensor *t;
	uint8_t *buf, *cut;
	size_t len, at, data_off, end = 0;
	int64_t k;

	buf = slurp(path, &len);
	g = gguf_open_mem(buf, len, "sweep", err, sizeof(err));
	if (g == NULL)
		fail_msg("%s", err);
	data_off = gguf_data_offset(g);
	for (k = 0; k < gguf_n_tensors(g); k++) {
		t = gguf_tensor(g, k);
		if (data_off + t->offset + t->nbytes > end)
			end = data_off + t->offset + t->nbytes;
	}
	gguf_close(g);
	for (at = 0; at <= len; at++) {
		cut = malloc(at ? at : 1);
		assert_non_null(cut);
		memcpy(cut, buf, at);
		err[0] = '\0';
		g = gguf_open_mem(at ? cut : NULL, at, "sweep", err,
		    sizeof(err));
		if (at >= end) {
			if (g == NULL)
				fail_msg("cut at %zu of %zu: %s", at, len, err);
		} else if (g != NULL) {
			fail_msg("cut at %zu of %zu (data ends at %zu) opened",
			    at, len, end);
		} else if (strstr(err, at < data_off ? "truncated" :
		    "extends past the end") == NULL) {
			fail_msg("cut at %zu: %s", at, err);
		}
		gguf_close(g);
		free(cut);
	}
	free(buf);
}

static void
test_truncation_sweep(void **state)
{
	(void)state;
	sweep(small);
	sweep(good);
}

/*
 * Seeded random byte mutations of the small file (a mini fuzzer that
 * runs in every `make check`): each must open or fail with a message.
 */
static void
test_mutations(void **state)
{
	char err[512];
	struct gguf *g;
	uint8_t *buf, *m;
	size_t len, j, pos, nm, hdr;
	uint32_t x = 12345;
	int i, opened = 0;
	int64_t k;
	volatile uint8_t sink = 0;

	(void)state;
	buf = slurp(small, &len);
	g = gguf_open_mem(buf, len, "mut", err, sizeof(err));
	assert_non_null(g);
	hdr = gguf_data_offset(g);
	gguf_close(g);
	m = malloc(len);
	assert_non_null(m);
	for (i = 0; i < 20000; i++) {
		memcpy(m, buf, len);
		x = x * 1103515245u + 12345u;
		nm = 1 + (x >> 16) % 4;
		for (j = 0; j < nm; j++) {
			x = x * 1103515245u + 12345u;
			/* Mostly the header: that is where the parsing is. */
			pos = (x >> 8) % (j == 0 ? hdr : len);
			x = x * 1103515245u + 12345u;
			m[pos] = (x >> 24) & 1 ? (uint8_t)(x >> 16) :
			    m[pos] ^ (uint8_t)(1u << ((x >> 16) & 7));
		}
		err[0] = '\0';
		g = gguf_open_mem(m, len, "mut", err, sizeof(err));
		if (g == NULL) {
			assert_true(strncmp(err, "mut: ", 5) == 0 &&
			    strlen(err) > 6);
			continue;
		}
		opened++;
		for (k = 0; k < gguf_n_tensors(g); k++) {
			const struct gguf_tensor *t = gguf_tensor(g, k);

			assert_true((const uint8_t *)t->data + t->nbytes <=
			    m + len);
			if (t->nbytes > 0)
				sink ^= ((const uint8_t *)t->data)
				    [t->nbytes - 1];
		}
		gguf_close(g);
	}
	(void)sink;
	/* Some mutations hit values only and leave a valid file. */
	assert_true(opened > 0);
	free(m);
	free(buf);
}

/* open_all - every *.gguf (or corpus file) under dir opens or fails cleanly. */
static int
open_all(const char *dir)
{
	char path[1024], err[512];
	struct dirent *de;
	struct gguf *g;
	DIR *d;
	int n = 0;
	int64_t k;
	size_t i;
	const struct gguf_tensor *t;
	unsigned sum = 0;

	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: cannot open", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strcmp(de->d_name, "README.md") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		err[0] = '\0';
		g = gguf_open(path, err, sizeof(err));
		if (g == NULL) {
			if (strncmp(err, path, strlen(path)) != 0 ||
			    strlen(err) < strlen(path) + 3)
				fail_msg("%s: unclear error '%s'", path, err);
		} else {
			for (k = 0; k < gguf_n_tensors(g); k++) {
				t = gguf_tensor(g, k);
				for (i = 0; i < t->nbytes; i++)
					sum += ((const uint8_t *)t->data)[i];
			}
			gguf_close(g);
		}
		n++;
	}
	closedir(d);
	(void)sum;
	return n;
}

/* The fuzzer's kept inputs and the checked-in regression files. */
static void
test_regressions(void **state)
{
	const char *top = getenv("top_srcdir");
	char dir[512];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/data/gguf",
	    top != NULL ? top : ".");
	assert_true(open_all(dir) > 0);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus",
	    top != NULL ? top : ".");
	assert_true(open_all(dir) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_tensors),
		cmocka_unit_test(test_tensors_align64),
		cmocka_unit_test(test_version2),
		cmocka_unit_test(test_bad_modes),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_regressions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
