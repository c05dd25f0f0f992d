/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * views - which of a study's images the model reads: is it a chest
 * radiograph, frontal or lateral (View Position, then Series Description
 * and Image Comments; DESIGN.md "Views"), and the pick: one frontal and
 * one lateral.  Pure functions; any thread.
 */
#ifndef RS_VIEWS_H
#define RS_VIEWS_H

#include <stddef.h>

#include "dicom/dcmbridge.h"

enum view_kind { VIEW_FRONTAL, VIEW_LATERAL, VIEW_UNKNOWN };

enum view_kind views_classify(const struct dcm_image_info *in);
const char *views_kind_name(enum view_kind k);

enum views_part {
	VIEWS_PART_CHEST,	/* Body Part Examined or a description says chest */
	VIEWS_PART_OTHER,	/* they name another body part */
	VIEWS_PART_UNKNOWN	/* nothing names a body part */
};

/*
 * views_body_part - what in says it shows: Body Part Examined when it is
 * set, else the series and study descriptions and the protocol name.
 * The reason goes to why for VIEWS_PART_OTHER and VIEWS_PART_UNKNOWN.
 */
enum views_part views_body_part(const struct dcm_image_info *in, char *why,
	    size_t whysz);

/*
 * views_is_chest - 1 when in may be a chest radiograph (chest, or nothing
 * names a body part); 0 with the reason in why.
 */
int	views_is_chest(const struct dcm_image_info *in, char *why, size_t whysz);

/*
 * views_select - pick from n images (in[i] NULL: not readable) the
 * frontal view (an unknown one when there is no frontal) and the lateral,
 * preferring images that name the chest; their indexes go to idx[0..1]
 * (OUT), frontal first.  *unknown (OUT) is 1 when no usable image names
 * its body part (the study may not be a chest study at all).  Returns how
 * many (1 or 2), or 0 with the reason in why (no image; not a chest study).
 */
int	views_select(const struct dcm_image_info *const *in, int n, int idx[2],
	    int *unknown /* OUT */, char *why, size_t whysz);

#endif
