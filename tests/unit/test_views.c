/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_views - chest recognition, frontal/lateral, and the pick of views. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "report/views.h"

static struct dcm_image_info
img(const char *body, const char *view, const char *series, int number)
{
	struct dcm_image_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.body_part, sizeof(in.body_part), "%s", body);
	snprintf(in.view_position, sizeof(in.view_position), "%s", view);
	snprintf(in.series_description, sizeof(in.series_description), "%s", series);
	in.instance_number = number;
	in.rows = in.columns = 256;
	return in;
}

static void
test_classify(void **state)
{
	struct dcm_image_info a;

	(void)state;
	a = img("CHEST", "PA", "", 1);
	assert_int_equal(views_classify(&a), VIEW_FRONTAL);
	a = img("CHEST", "AP", "", 1);
	assert_int_equal(views_classify(&a), VIEW_FRONTAL);
	a = img("CHEST", "LL", "", 1);
	assert_int_equal(views_classify(&a), VIEW_LATERAL);
	a = img("CHEST", "RL", "", 1);
	assert_int_equal(views_classify(&a), VIEW_LATERAL);
	/* View Position first, then the series description. */
	a = img("CHEST", "", "Chest LAT", 1);
	assert_int_equal(views_classify(&a), VIEW_LATERAL);
	a = img("CHEST", "", "Thorax p.a.", 1);
	assert_int_equal(views_classify(&a), VIEW_UNKNOWN);
	a = img("CHEST", "", "CHEST PA", 1);
	assert_int_equal(views_classify(&a), VIEW_FRONTAL);
	a = img("CHEST", "PA", "lateral", 1);
	assert_int_equal(views_classify(&a), VIEW_FRONTAL);
	/* Whole words only: "ALL" and "PACS" say nothing. */
	a = img("CHEST", "", "ALL IMAGES FROM PACS", 1);
	assert_int_equal(views_classify(&a), VIEW_UNKNOWN);
	snprintf(a.image_comments, sizeof(a.image_comments), "lateral view");
	assert_int_equal(views_classify(&a), VIEW_LATERAL);
}

static void
test_chest(void **state)
{
	struct dcm_image_info a;
	char why[256];

	(void)state;
	a = img("CHEST", "", "", 1);
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 1);
	a = img("THORAX", "", "", 1);
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 1);
	a = img("HIP", "", "Chest", 1);
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "Body Part Examined names another"));
	assert_null(strstr(why, "HIP"));
	/* No body part: descriptions decide; nothing at all counts as chest. */
	a = img("", "", "", 1);
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 1);
	a = img("", "", "KNEE 2 VIEWS", 1);
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "Series Description names another"));
	assert_null(strstr(why, "KNEE"));
	a = img("", "", "Chest 2 views", 1);
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 1);
	snprintf(a.series_description, sizeof(a.series_description), "%s", "");
	snprintf(a.study_description, sizeof(a.study_description), "PELVIS AP");
	assert_int_equal(views_is_chest(&a, why, sizeof(why)), 0);
	/* The three answers behind it. */
	a = img("CHEST", "", "", 1);
	assert_int_equal(views_body_part(&a, why, sizeof(why)), VIEWS_PART_CHEST);
	a = img("", "", "Chest 2 views", 1);
	assert_int_equal(views_body_part(&a, why, sizeof(why)), VIEWS_PART_CHEST);
	a = img("", "", "", 1);
	assert_int_equal(views_body_part(&a, why, sizeof(why)), VIEWS_PART_UNKNOWN);
	assert_non_null(strstr(why, "no Body Part Examined"));
	/* A study description that names no body part (NIH's "No Finding"). */
	snprintf(a.study_description, sizeof(a.study_description), "No Finding");
	assert_int_equal(views_body_part(&a, why, sizeof(why)), VIEWS_PART_UNKNOWN);
	a = img("SKULL", "", "", 1);
	assert_int_equal(views_body_part(&a, why, sizeof(why)), VIEWS_PART_OTHER);
}

static void
test_unknown_part(void **state)
{
	struct dcm_image_info pa = img("CHEST", "PA", "", 2);
	struct dcm_image_info upa = img("", "PA", "", 1);
	struct dcm_image_info ulat = img("", "LATERAL", "", 3);
	const struct dcm_image_info *v[3];
	int idx[2], unk = -1;
	char why[256];

	(void)state;
	/* Nothing names the body part: drafted, flagged. */
	v[0] = &upa; v[1] = &ulat;
	assert_int_equal(views_select(v, 2, idx, &unk, why, sizeof(why)), 2);
	assert_int_equal(unk, 1);
	/* One image names the chest: not flagged, and it wins its kind
	 * over an unnamed one with a lower Instance Number. */
	v[0] = &upa; v[1] = &ulat; v[2] = &pa;
	unk = -1;
	assert_int_equal(views_select(v, 3, idx, &unk, why, sizeof(why)), 2);
	assert_int_equal(unk, 0);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 1);
}

static void
test_select(void **state)
{
	struct dcm_image_info lat = img("CHEST", "LL", "", 2);
	struct dcm_image_info pa2 = img("CHEST", "PA", "", 3);
	struct dcm_image_info pa1 = img("CHEST", "PA", "", 1);
	struct dcm_image_info unk = img("CHEST", "", "", 4);
	struct dcm_image_info hip = img("HIP", "AP", "", 1);
	struct dcm_image_info sr = img("", "", "", 1);
	const struct dcm_image_info *v[4];
	int idx[2], unk_part = -1;
	char why[256];

	(void)state;
	/* Frontal first (lowest Instance Number), then the lateral. */
	v[0] = &lat; v[1] = &pa2; v[2] = &pa1; v[3] = &unk;
	assert_int_equal(views_select(v, 4, idx, &unk_part, why, sizeof(why)), 2);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 0);
	/* No frontal: an unknown view stands in for it. */
	v[0] = &unk; v[1] = &lat;
	assert_int_equal(views_select(v, 2, idx, &unk_part, why, sizeof(why)), 2);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 1);
	/* A lateral alone. */
	v[0] = &lat;
	assert_int_equal(views_select(v, 1, idx, &unk_part, why, sizeof(why)), 1);
	assert_int_equal(idx[0], 0);
	/* Unreadable entries and non-images are skipped. */
	sr.rows = sr.columns = 0;
	v[0] = NULL; v[1] = &sr; v[2] = &pa2;
	assert_int_equal(views_select(v, 3, idx, &unk_part, why, sizeof(why)), 1);
	assert_int_equal(idx[0], 2);
	/* Nothing usable: the reason says why. */
	v[0] = &hip;
	assert_int_equal(views_select(v, 1, idx, &unk_part, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "not a chest radiograph"));
	v[0] = NULL; v[1] = &sr;
	assert_int_equal(views_select(v, 2, idx, &unk_part, why, sizeof(why)), 0);
	assert_string_equal(why, "no image in the study");
	/* A chest image beside a hip image: the chest one is used. */
	v[0] = &hip; v[1] = &pa1;
	assert_int_equal(views_select(v, 2, idx, &unk_part, why, sizeof(why)), 1);
	assert_int_equal(idx[0], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_chest),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_unknown_part),
	};

	return cmocka_run_group_tests_name("views", tests, NULL, NULL);
}
