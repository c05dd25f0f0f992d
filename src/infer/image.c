/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image - view joining and llama.cpp-compatible preprocessing.  The
 * bicubic filter reproduces llama.cpp's arithmetic (float variables,
 * double constants, round half away from zero) so that the same file
 * gives the same pixels in both engines; tests/ref/preprocess.py is the
 * independent twin the tests compare against.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/image.h"

#define IMAGE_MAX_SIDE	32768

struct image *
image_new(int w, int h, int c)
{
	struct image *im;

	if (w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
	    (c != 1 && c != 3))
		return NULL;
	if ((im = calloc(1, sizeof(*im))) == NULL)
		return NULL;
	if ((im->px = calloc((size_t)w * h, (size_t)c)) == NULL) {
		free(im);
		return NULL;
	}
	im->w = w;
	im->h = h;
	im->c = c;
	return im;
}

void
image_free(struct image *im)
{
	if (im == NULL)
		return;
	free(im->px);
	free(im);
}

static struct image *
read_png(const char *path, char *err, size_t errsz)
{
	png_image png;
	struct image *im;

	memset(&png, 0, sizeof(png));
	png.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&png, path)) {
		snprintf(err, errsz, "%s: %s", path, png.message);
		return NULL;
	}
	png.format = PNG_FORMAT_GRAY;
	if (png.width > IMAGE_MAX_SIDE || png.height > IMAGE_MAX_SIDE ||
	    (im = image_new((int)png.width, (int)png.height, 1)) == NULL) {
		snprintf(err, errsz, "%s: image of %ux%u not supported", path,
		    png.width, png.height);
		png_image_free(&png);
		return NULL;
	}
	if (!png_image_finish_read(&png, NULL, im->px, 0, NULL)) {
		snprintf(err, errsz, "%s: %s", path, png.message);
		image_free(im);
		png_image_free(&png);
		return NULL;
	}
	return im;
}

/* pnm_int - next decimal in a PNM header, skipping blanks and comments. */
static long
pnm_int(FILE *fp)
{
	long v = 0;
	int ch, digits = 0;

	while ((ch = getc(fp)) != EOF) {
		if (ch == '#')
			while ((ch = getc(fp)) != EOF && ch != '\n')
				;
		else if (ch >= '0' && ch <= '9')
			break;
		else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			return -1;
	}
	for (; ch >= '0' && ch <= '9'; ch = getc(fp)) {
		if (v > 100000000)
			return -1;
		v = v * 10 + (ch - '0');
		digits++;
	}
	/* Exactly one whitespace byte ends the header's last number. */
	return digits > 0 && (ch == ' ' || ch == '\t' || ch == '\n' ||
	    ch == '\r') ? v : -1;
}

static struct image *
read_pgm(FILE *fp, const char *path, char *err, size_t errsz)
{
	struct image *im;
	long w = pnm_int(fp), h = pnm_int(fp), max = pnm_int(fp);
	size_t n;

	if (w <= 0 || h <= 0 || max <= 0 || max > 65535 ||
	    (im = image_new((int)(w > IMAGE_MAX_SIDE ? 0 : w),
	    (int)(h > IMAGE_MAX_SIDE ? 0 : h), 1)) == NULL) {
		snprintf(err, errsz, "%s: bad PGM header", path);
		return NULL;
	}
	n = (size_t)w * (size_t)h;
	for (size_t i = 0; i < n; i++) {
		long v;
		int a = getc(fp), b = 0;

		if (a == EOF || (max > 255 && (b = getc(fp)) == EOF)) {
			snprintf(err, errsz, "%s: truncated PGM data", path);
			image_free(im);
			return NULL;
		}
		v = max > 255 ? (long)a << 8 | b : a;
		if (v > max)
			v = max;
		im->px[i] = (uint8_t)((v * 255 + max / 2) / max);
	}
	return im;
}

struct image *
image_read(const char *path, char *err, size_t errsz)
{
	unsigned char sig[8];
	struct image *im = NULL;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(sig, 1, sizeof(sig), fp);
	if (n >= 8 && png_sig_cmp(sig, 0, 8) == 0) {
		fclose(fp);
		return read_png(path, err, errsz);
	}
	if (n >= 3 && sig[0] == 'P' && sig[1] == '5') {
		rewind(fp);
		getc(fp);
		getc(fp);
		im = read_pgm(fp, path, err, errsz);
	} else
		snprintf(err, errsz, "%s: not a PNG or binary PGM image", path);
	fclose(fp);
	return im;
}

struct image *
image_join(const struct image *const *views, int n)
{
	struct image *out;
	int w = 0, h = 0, x = 0;

	if (n <= 0)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (views[i] == NULL || views[i]->c != 1)
			return NULL;
		w += views[i]->w + (i > 0 ? IMAGE_SEPARATOR : 0);
		if (views[i]->h > h)
			h = views[i]->h;
	}
	if ((out = image_new(w, h, 1)) == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct image *v = views[i];

		for (int y = 0; y < v->h; y++)
			memcpy(out->px + (size_t)y * w + x,
			    v->px + (size_t)y * v->w, (size_t)v->w);
		x += v->w + IMAGE_SEPARATOR;
	}
	return out;
}

static int
clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * bicubic - llama.cpp's filter for one channel.  The mix of float
 * variables and double constants is deliberate: it is what makes the
 * rounding match.
 */
static void
bicubic(const uint8_t *src, int nx, int ny, int sc, uint8_t *dst, int tw,
    int th, int dc)
{
	float tx = (float)nx / (float)tw, ty = (float)ny / (float)th;

	for (int i = 0; i < th; i++)
		for (int j = 0; j < tw; j++) {
			int x = (int)(tx * j), y = (int)(ty * i);
			float dx = tx * j - x, dy = ty * i - y;
			float C[4], d0, d2, d3, a0, a1, a2, a3, Cc;

			for (int jj = 0; jj <= 3; jj++) {
				const uint8_t *row = src +
				    (size_t)clampi(y - 1 + jj, 0, ny - 1) * nx * sc;
				float p0 = row[clampi(x, 0, nx - 1) * sc];

				d0 = row[clampi(x - 1, 0, nx - 1) * sc] - p0;
				d2 = row[clampi(x + 1, 0, nx - 1) * sc] - p0;
				d3 = row[clampi(x + 2, 0, nx - 1) * sc] - p0;
				a0 = p0;
				a1 = -1.0 / 3 * d0 + d2 - 1.0 / 6 * d3;
				a2 = 1.0 / 2 * d0 + 1.0 / 2 * d2;
				a3 = -1.0 / 6 * d0 - 1.0 / 2 * d2 + 1.0 / 6 * d3;
				C[jj] = a0 + a1 * dx + a2 * dx * dx + a3 * dx * dx * dx;
			}
			d0 = C[0] - C[1];
			d2 = C[2] - C[1];
			d3 = C[3] - C[1];
			a0 = C[1];
			a1 = -1.0 / 3 * d0 + d2 - 1.0 / 6 * d3;
			a2 = 1.0 / 2 * d0 + 1.0 / 2 * d2;
			a3 = -1.0 / 6 * d0 - 1.0 / 2 * d2 + 1.0 / 6 * d3;
			Cc = a0 + a1 * dy + a2 * dy * dy + a3 * dy * dy * dy;
			Cc = roundf(Cc);
			dst[((size_t)i * tw + j) * dc] =
			    (uint8_t)(Cc < 0.0f ? 0.0f : Cc > 255.0f ? 255.0f : Cc);
		}
}

struct image *
image_resize_pad(const struct image *im, int size, const uint8_t pad[3])
{
	struct image *out;
	float sw, sh;
	int nw, nh, px, py;
	uint8_t *tmp;

	if (im == NULL || (out = image_new(size, size, 3)) == NULL)
		return NULL;
	sw = (float)size / im->w;
	sh = (float)size / im->h;
	if (sw < sh) {
		nw = size;
		nh = (int)ceilf(im->h * sw);
		nh = nh < size ? nh : size;
	} else {
		nh = size;
		nw = (int)ceilf(im->w * sh);
		nw = nw < size ? nw : size;
	}
	for (size_t i = 0; i < (size_t)size * size; i++)
		memcpy(out->px + i * 3, pad, 3);
	if ((tmp = malloc((size_t)nw * nh * 3)) == NULL) {
		image_free(out);
		return NULL;
	}
	/* A grey input gives three equal channels: filter once, copy. */
	for (int c = 0; c < im->c; c++)
		bicubic(im->px + c, im->w, im->h, im->c, tmp + c, nw, nh, 3);
	if (im->c == 1)
		for (size_t i = 0; i < (size_t)nw * nh; i++)
			tmp[i * 3 + 1] = tmp[i * 3 + 2] = tmp[i * 3];
	px = (size - nw) / 2;
	py = (size - nh) / 2;
	for (int y = 0; y < nh; y++)
		memcpy(out->px + ((size_t)(y + py) * size + px) * 3,
		    tmp + (size_t)y * nw * 3, (size_t)nw * 3);
	free(tmp);
	return out;
}

void
image_normalize(const struct image *im, const float mean[3],
    const float std[3], float *out)
{
	size_t n = (size_t)im->w * im->h;

	for (int c = 0; c < 3; c++)
		for (size_t i = 0; i < n; i++)
			out[c * n + i] = (im->px[i * 3 + c] / 255.0f - mean[c]) /
			    std[c];
}
