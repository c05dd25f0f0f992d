/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image - the vision input: 8-bit grey views in, the normalised square
 * RGB tensor the ViT reads out.  Views are joined side by side with a
 * black separator (Med-CXRGen), then resized and padded exactly as
 * llama.cpp's clip code does for LLaVA-1.5.  Pure functions; any thread.
 */
#ifndef RS_IMAGE_H
#define RS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* An 8-bit image, row-major; c is 1 (grey) or 3 (interleaved RGB). */
struct image {
	int	 w, h, c;
	uint8_t	*px;
};

#define IMAGE_SEPARATOR	10	/* pixels of black between joined views */

/* image_new - zero-filled; NULL on a bad size.  Free with image_free. */
struct image *image_new(int w, int h, int c);
void	image_free(struct image *im);
/*
 * image_read - a PNG (any bit depth or colour type, via libpng; colour is
 * converted to grey) or a binary PGM (P5; 16-bit scaled to 8).  Returns a
 * grey image the caller frees, or NULL with err set.
 */
struct image *image_read(const char *path, char *err, size_t errsz);
/*
 * image_join - views (grey) side by side, left to right, IMAGE_SEPARATOR
 * black columns between them; the height is the tallest view's and
 * shorter views are top-aligned on black.  One view is copied as is.
 */
struct image *image_join(const struct image *const *views, int n);
/*
 * image_resize_pad - llama.cpp's resize_and_pad_image: scale to fit a
 * size x size square keeping the aspect ratio (its bicubic filter), centre
 * it on a canvas of colour pad.  Input grey or RGB; output RGB.
 */
struct image *image_resize_pad(const struct image *im, int size,
	    const uint8_t pad[3]);
/*
 * image_normalize - (x / 255 - mean[c]) / std[c] into out, planar CHW
 * (3 x h x w floats), the layout the patch embedding reads.  im is RGB.
 */
void	image_normalize(const struct image *im, const float mean[3],
	    const float std[3], float *out /* OUT */);

#endif
