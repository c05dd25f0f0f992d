/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_image - view joining, llama.cpp-style resize and pad, normalisation,
 * image readers; and pixel-for-pixel parity with tests/ref/preprocess.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>

#include "infer/image.h"

static const uint8_t pad[3] = { 122, 116, 104 };
static char dir[256];

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/rs-image-XXXXXX", t ? t : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* grey - a w x h image with a deterministic pattern: gradient plus noise. */
static struct image *
grey(int w, int h, unsigned seed)
{
	struct image *im = image_new(w, h, 1);

	assert_non_null(im);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			seed = seed * 1103515245u + 12345u;
			im->px[y * w + x] = (uint8_t)((x * 255 / w + y * 97 / h +
			    (seed >> 24) % 40) & 0xff);
		}
	return im;
}

static void
write_png(const char *path, const struct image *im)
{
	png_image png;

	memset(&png, 0, sizeof(png));
	png.version = PNG_IMAGE_VERSION;
	png.width = (png_uint_32)im->w;
	png.height = (png_uint_32)im->h;
	png.format = PNG_FORMAT_GRAY;
	assert_true(png_image_write_to_file(&png, path, 0, im->px, 0, NULL));
}

static void
test_join(void **state)
{
	struct image *a = grey(30, 20, 1), *b = grey(12, 35, 2), *j;
	const struct image *v[2] = { a, b };

	(void)state;
	j = image_join(v, 2);
	assert_non_null(j);
	assert_int_equal(j->w, 30 + IMAGE_SEPARATOR + 12);
	assert_int_equal(j->h, 35);
	assert_int_equal(j->c, 1);
	/* a is top-aligned with black under it; the separator is black. */
	assert_memory_equal(j->px + 5 * j->w, a->px + 5 * 30, 30);
	for (int y = 0; y < 35; y++)
		for (int x = 30; x < 30 + IMAGE_SEPARATOR; x++)
			assert_int_equal(j->px[y * j->w + x], 0);
	assert_int_equal(j->px[25 * j->w + 3], 0);
	assert_memory_equal(j->px + 34 * j->w + 40, b->px + 34 * 12, 12);
	image_free(j);
	/* One view comes out unchanged. */
	j = image_join(v, 1);
	assert_int_equal(j->w, 30);
	assert_memory_equal(j->px, a->px, 30 * 20);
	image_free(j);
	assert_null(image_join(v, 0));
	image_free(a);
	image_free(b);
}

static void
test_resize_pad_geometry(void **state)
{
	struct image *im = image_new(100, 50, 1), *out;

	(void)state;
	memset(im->px, 200, 100 * 50);
	out = image_resize_pad(im, 336, pad);
	assert_non_null(out);
	assert_int_equal(out->w, 336);
	assert_int_equal(out->c, 3);
	/* 100x50 fits as 336x168, centred: rows 84..251 hold the image. */
	assert_memory_equal(out->px + (83 * 336 + 10) * 3, pad, 3);
	assert_int_equal(out->px[(84 * 336 + 10) * 3], 200);
	assert_int_equal(out->px[(251 * 336 + 335) * 3 + 2], 200);
	assert_memory_equal(out->px + (252 * 336) * 3, pad, 3);
	image_free(out);
	image_free(im);
}

static void
test_normalize(void **state)
{
	struct image *im = image_new(2, 1, 3);
	const float mean[3] = { 0.5f, 0.25f, 0.0f }, sd[3] = { 0.5f, 0.25f, 1.0f };
	float out[6];

	(void)state;
	im->px[0] = 255;	/* R of pixel 0 */
	im->px[4] = 0;		/* G of pixel 1 */
	im->px[5] = 51;		/* B of pixel 1 */
	image_normalize(im, mean, sd, out);
	/* Planar: R0 R1 G0 G1 B0 B1. */
	assert_float_equal(out[0], 1.0f, 1e-6);
	assert_float_equal(out[1], -1.0f, 1e-6);
	assert_float_equal(out[3], -1.0f, 1e-6);
	assert_float_equal(out[5], 0.2f, 1e-6);
	image_free(im);
}

static void
test_readers(void **state)
{
	char path[400], err[512];
	struct image *im;
	FILE *fp;

	(void)state;
	/* 16-bit PGM scales to 8 bits. */
	snprintf(path, sizeof(path), "%s/a.pgm", dir);
	fp = fopen(path, "wb");
	fprintf(fp, "P5\n# comment\n3 1\n65535\n");
	fwrite("\x00\x00\x80\x00\xff\xff", 1, 6, fp);
	fclose(fp);
	im = image_read(path, err, sizeof(err));
	assert_non_null(im);
	assert_int_equal(im->w, 3);
	assert_int_equal(im->px[0], 0);
	assert_int_equal(im->px[1], 128);
	assert_int_equal(im->px[2], 255);
	image_free(im);
	/* Truncated data, a bad header, not an image, a broken PNG: errors. */
	fp = fopen(path, "wb");
	fprintf(fp, "P5 4 4 255\n\x01\x02");
	fclose(fp);
	assert_null(image_read(path, err, sizeof(err)));
	assert_non_null(strstr(err, "truncated"));
	fp = fopen(path, "wb");
	fprintf(fp, "P5 -4 4 255\n");
	fclose(fp);
	assert_null(image_read(path, err, sizeof(err)));
	assert_non_null(strstr(err, "bad PGM header"));
	fp = fopen(path, "wb");
	fprintf(fp, "hello");
	fclose(fp);
	assert_null(image_read(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a PNG"));
	snprintf(path, sizeof(path), "%s/broken.png", dir);
	fp = fopen(path, "wb");
	fwrite("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDRxx", 1, 18, fp);
	fclose(fp);
	assert_null(image_read(path, err, sizeof(err)));
	assert_null(image_read("/nonexistent.png", err, sizeof(err)));
}

/* parity - C and tests/ref/preprocess.py agree byte for byte. */
static void
parity(const char *const *files, int n, int size)
{
	struct image *views[4], *j, *out;
	char cmd[4096], ref[400], err[512];
	const char *top = getenv("top_srcdir");
	uint8_t *want;
	size_t len = (size_t)size * size * 3;
	FILE *fp;
	int diff = 0;

	for (int i = 0; i < n; i++) {
		views[i] = image_read(files[i], err, sizeof(err));
		if (views[i] == NULL)
			fail_msg("%s", err);
	}
	j = image_join((const struct image *const *)views, n);
	out = image_resize_pad(j, size, pad);
	snprintf(ref, sizeof(ref), "%s/ref.rgb", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/ref/preprocess.py' "
	    "--size %d '%s'", top ? top : ".", size, ref);
	for (int i = 0; i < n; i++) {
		strcat(cmd, " '");
		strcat(cmd, files[i]);
		strcat(cmd, "'");
	}
	assert_int_equal(system(cmd), 0);
	want = malloc(len);
	fp = fopen(ref, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(want, 1, len, fp), len);
	fclose(fp);
	for (size_t i = 0; i < len; i++)
		diff += want[i] != out->px[i];
	if (diff)
		fail_msg("%d of %zu bytes differ from the numpy reference "
		    "(%s, size %d)", diff, len, files[0], size);
	free(want);
	image_free(out);
	image_free(j);
	for (int i = 0; i < n; i++)
		image_free(views[i]);
}

static void
test_parity_synthetic(void **state)
{
	static const int dims[][2] = {
		{ 640, 480 }, { 512, 700 }, { 101, 37 }, { 37, 301 }, { 336, 336 },
		{ 50, 50 }, { 1000, 999 }
	};
	char p[8][400];
	const char *files[3];

	(void)state;
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		struct image *im = grey(dims[i][0], dims[i][1], (unsigned)i + 7);

		snprintf(p[i], sizeof(p[i]), "%s/s%zu.png", dir, i);
		write_png(p[i], im);
		image_free(im);
		files[0] = p[i];
		parity(files, 1, 336);
		parity(files, 1, 224);
	}
	/* Two and three views of different heights, as a study gives them. */
	files[0] = p[0];
	files[1] = p[1];
	files[2] = p[3];
	parity(files, 2, 336);
	parity(files, 3, 336);
	parity(files, 3, 64);
}

static void
test_parity_radiographs(void **state)
{
	char list[600], cmd[800], path[1024];
	const char *shared = getenv("SHARED_DATA");
	const char *files[2];
	char a[1024] = "";
	FILE *fp;
	int n = 0;

	(void)state;
	/* Real radiographs when the shared data is there; synthetic ones else. */
	if (shared == NULL || access(shared, R_OK) != 0) {
		struct image *im = grey(256, 310, 99);

		snprintf(a, sizeof(a), "%s/r.png", dir);
		write_png(a, im);
		image_free(im);
		files[0] = a;
		parity(files, 1, 336);
		return;
	}
	snprintf(list, sizeof(list), "%s/list", dir);
	snprintf(cmd, sizeof(cmd), "ls '%s'/iuxray/images/*.png | head -n 6 > '%s'",
	    shared, list);
	assert_int_equal(system(cmd), 0);
	fp = fopen(list, "r");
	assert_non_null(fp);
	while (fgets(path, sizeof(path), fp) != NULL) {
		path[strcspn(path, "\n")] = '\0';
		files[0] = path;
		parity(files, 1, 336);
		if (n++ == 0)
			snprintf(a, sizeof(a), "%s", path);
		else {
			files[0] = a;
			files[1] = path;
			parity(files, 2, 336);
			parity(files, 2, 192);	/* the default model's input */
		}
	}
	fclose(fp);
	assert_true(n >= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_resize_pad_geometry),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test_setup_teardown(test_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parity_synthetic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parity_radiographs, setup, teardown),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
