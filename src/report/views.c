/* SPDX-License-Identifier: GPL-2.0-or-later */
/* views - view classification and choice for the model. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "report/views.h"

static const char *const chest_parts[] = { "CHEST", "THORAX", "LUNG", "RIB", NULL };
/* Body parts that rule a chest study out when only a description names them. */
static const char *const other_parts[] = {
	"HIP", "PELVIS", "KNEE", "HAND", "FOOT", "SKULL", "HEAD", "SPINE",
	"ABDOMEN", "EXTREMITY", "SHOULDER", "ANKLE", "WRIST", "ELBOW", "FEMUR",
	"LEG", "ARM", "FINGER", "TOE", "BREAST", "MAMMO", "DENTAL", "CSPINE",
	"LSPINE", "TSPINE", "SINUS", "ORBIT", NULL
};

/* word - s holds w as a whole word (case-insensitive). */
static int
word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = s; *p; p++) {
		if (strncasecmp(p, w, n) != 0)
			continue;
		if ((p == s || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[n]))
			return 1;
	}
	return 0;
}

static int
any_word(const char *s, const char *const *ws)
{
	for (int i = 0; ws[i] != NULL; i++)
		if (word(s, ws[i]))
			return 1;
	return 0;
}

static enum view_kind
from_text(const char *s)
{
	static const char *const lat[] = { "LAT", "LATERAL", "LL", "RL", "LLD", "RLD", NULL };
	static const char *const fro[] = { "PA", "AP", "FRONTAL", "AP SUPINE", "SUPINE", NULL };

	if (any_word(s, lat))
		return VIEW_LATERAL;
	if (any_word(s, fro))
		return VIEW_FRONTAL;
	return VIEW_UNKNOWN;
}

enum view_kind
views_classify(const struct dcm_image_info *in)
{
	enum view_kind k;

	if ((k = from_text(in->view_position)) != VIEW_UNKNOWN ||
	    (k = from_text(in->series_description)) != VIEW_UNKNOWN ||
	    (k = from_text(in->image_comments)) != VIEW_UNKNOWN)
		return k;
	return VIEW_UNKNOWN;
}

const char *
views_kind_name(enum view_kind k)
{
	return k == VIEW_FRONTAL ? "frontal" : k == VIEW_LATERAL ? "lateral" :
	    "unknown";
}

enum views_part
views_body_part(const struct dcm_image_info *in, char *why, size_t whysz)
{
	const char *desc[3] = { in->series_description, in->study_description,
	    in->protocol_name };

	if (in->body_part[0] != '\0') {
		for (int i = 0; chest_parts[i] != NULL; i++)
			if (strstr(in->body_part, chest_parts[i]) != NULL)
				return VIEWS_PART_CHEST;
		/* No value in the reason: it is logged and shown by status. */
		snprintf(why, whysz, "Body Part Examined names another body "
		    "part than the chest");
		return VIEWS_PART_OTHER;
	}
	for (int i = 0; i < 3; i++) {
		if (any_word(desc[i], chest_parts))
			return VIEWS_PART_CHEST;
		if (any_word(desc[i], other_parts)) {
			snprintf(why, whysz, "the %s names another body part "
			    "than the chest", i == 0 ? "Series Description" :
			    i == 1 ? "Study Description" : "Protocol Name");
			return VIEWS_PART_OTHER;
		}
	}
	snprintf(why, whysz, "no Body Part Examined, and no description "
	    "names the chest");
	return VIEWS_PART_UNKNOWN;
}

int
views_is_chest(const struct dcm_image_info *in, char *why, size_t whysz)
{
	return views_body_part(in, why, whysz) != VIEWS_PART_OTHER;
}

/* better - a is a better pick than b: a named chest first, then Instance Number. */
static int
better(const struct dcm_image_info *a, int a_unknown,
    const struct dcm_image_info *b, int b_unknown)
{
	if (a_unknown != b_unknown)
		return !a_unknown;
	return a->instance_number < b->instance_number;
}

int
views_select(const struct dcm_image_info *const *in, int n, int idx[2],
    int *unknown, char *why, size_t whysz)
{
	int best[3] = { -1, -1, -1 }, bunk[3] = { 0, 0, 0 }, images = 0,
	    chest = 0, named = 0;
	char reason[256] = "", r2[256];

	for (int i = 0; i < n; i++) {
		enum view_kind k;

		if (in[i] == NULL || in[i]->rows == 0 || in[i]->columns == 0)
			continue;
		images++;
		enum views_part part = views_body_part(in[i], r2, sizeof(r2));
		if (part == VIEWS_PART_OTHER) {
			snprintf(reason, sizeof(reason), "%s", r2);
			continue;
		}
		chest++;
		named += part == VIEWS_PART_CHEST;
		k = views_classify(in[i]);
		/* Per kind: an image named chest, the lowest Instance Number,
		 * then arrival order. */
		if (best[k] == -1 || better(in[i], part == VIEWS_PART_UNKNOWN,
		    in[best[k]], bunk[k])) {
			best[k] = i;
			bunk[k] = part == VIEWS_PART_UNKNOWN;
		}
	}
	*unknown = named == 0;
	if (images == 0) {
		snprintf(why, whysz, "no image in the study");
		return 0;
	}
	if (chest == 0) {
		snprintf(why, whysz, "not a chest radiograph: %s", reason);
		return 0;
	}
	n = 0;
	if (best[VIEW_FRONTAL] != -1)
		idx[n++] = best[VIEW_FRONTAL];
	else if (best[VIEW_UNKNOWN] != -1)
		idx[n++] = best[VIEW_UNKNOWN];
	if (best[VIEW_LATERAL] != -1)
		idx[n++] = best[VIEW_LATERAL];
	return n;
}
