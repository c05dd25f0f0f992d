/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_qr - C-FIND matching and C-MOVE/C-GET selection over qr_index
 * (qr_query.c), on rows written directly: ranges and their partial bounds,
 * wildcards and what GLOB must not see, list of UIDs, grouping by level,
 * the status of bad values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/qr_query.h"
#include "util.h"

#define T DCM_QR_TAG
#define PATIENT_NAME	T(0x0010, 0x0010)
#define PATIENT_ID	T(0x0010, 0x0020)
#define STUDY_UID	T(0x0020, 0x000d)
#define STUDY_DATE	T(0x0008, 0x0020)
#define STUDY_TIME	T(0x0008, 0x0030)
#define ACCESSION	T(0x0008, 0x0050)
#define MODALITIES	T(0x0008, 0x0061)
#define N_STUDY_INST	T(0x0020, 0x1208)
#define SERIES_UID	T(0x0020, 0x000e)
#define SERIES_NUMBER	T(0x0020, 0x0011)
#define SOP_UID		T(0x0008, 0x0018)


static int
setup(void **state)
{
	struct util_fx *fx;

	util_fx_setup(state);
	fx = *state;
	assert_int_equal(util_exec(fx->db,
	    "INSERT INTO studies (id, study_uid, first_received_at, last_received_at)"
	    " VALUES (1, '1.1', 0, 0), (2, '1.2', 0, 0);"
	    "INSERT INTO reports (id, study_id, sop_instance_uid, series_uid,"
	    " sop_class_uid, path, size, created_at, model, findings, impression)"
	    " VALUES (1, 1, '9.1', '8.1', '1.2.840.10008.5.1.4.1.1.88.11', '/r/9.1.dcm', 1, 0, 'm', '', ''),"
	    " (2, 1, '9.2', '8.2', '1.2.840.10008.5.1.4.1.1.88.11', '/r/9.2.dcm', 1, 0, 'm', '', ''),"
	    " (3, 2, '9.3', '8.3', '1.2.840.10008.5.1.4.1.1.88.11', '/r/9.3.dcm', 1, 0, 'm', '', '');"
	    "INSERT INTO qr_index (report_id, path, transfer_syntax, PatientName,"
	    " PatientID, StudyInstanceUID, StudyDate, StudyTime, AccessionNumber,"
	    " SeriesInstanceUID, Modality, SeriesNumber, SOPInstanceUID, SOPClassUID)"
	    " VALUES (1, '/r/9.1.dcm', '1.2.840.10008.1.2.1', 'DOE^JANE', 'P1', '1.1',"
	    "  '20240115', '103012', 'A[1]X', '8.1', 'SR', '9901', '9.1', '1.2.840.10008.5.1.4.1.1.88.11'),"
	    " (2, '/r/9.2.dcm', '1.2.840.10008.1.2.1', 'DOE^JANE', 'P1', '1.1',"
	    "  '20240115', '103012', 'A[1]X', '8.2', 'SR', '9901', '9.2', '1.2.840.10008.5.1.4.1.1.88.11'),"
	    " (3, '/r/9.3.dcm', '1.2.840.10008.1.2.1', 'Roe^Richard', 'P2', '1.2',"
	    "  '20250301', '115959.5', 'A1X', '8.3', 'SR', '12', '9.3', '1.2.840.10008.5.1.4.1.1.88.11');"
	    /* a received image of study 1.2, seen with query_images only */
	    "INSERT INTO instances (id, sop_instance_uid, study_id, series_uid,"
	    " sop_class_uid, transfer_syntax, path, size, received_at, calling_ae)"
	    " VALUES (1, '7.1', 2, '6.1', '1.2.840.10008.5.1.4.1.1.1.1', '1.2.840.10008.1.2.4.50',"
	    " '/o/7.1.dcm', 1, 0, 'M');"
	    "INSERT INTO qr_index (instance_id, path, transfer_syntax, PatientName,"
	    " PatientID, StudyInstanceUID, StudyDate, SeriesInstanceUID, Modality,"
	    " SOPInstanceUID, SOPClassUID) VALUES (1, '/o/7.1.dcm',"
	    " '1.2.840.10008.1.2.4.50', 'Roe^Richard', 'P2', '1.2', '20250301', '6.1',"
	    " 'DX', '7.1', '1.2.840.10008.5.1.4.1.1.1.1');"),
	    0);
	return 0;
}


/*
 * find - a STUDY level query (Study Root) with one matching key and the
 * Study Instance UID returned; the matched UIDs, space separated, or
 * "rc=N" when it failed.
 */
static const char *
findi(struct util_fx *fx, int images, enum dcm_qr_level level, uint32_t tag,
    const char *value)
{
	static char out[256];
	struct dcm_qr_key keys[2] = {
		{ tag, value, 0 },
		{ level == DCM_QR_STUDY ? STUDY_UID : SOP_UID, "", 0 },
	};
	struct dcm_qr_query q = { DCM_QR_STUDY_ROOT, level, keys, 2 };
	struct dcm_qr_matches m;
	char why[256];
	enum dcm_qr_rc rc;

	out[0] = '\0';
	if ((rc = qr_query_find(fx->db, &q, images, 0, &m, why, sizeof(why))) != DCM_QR_OK) {
		snprintf(out, sizeof(out), "rc=%d", (int)rc);
		return out;
	}
	for (size_t i = 0; i < m.n; i++) {
		const char *v = m.v[i * 2 + 1];

		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? " " : "", v ? v : "NULL");
	}
	qr_query_matches_free(&m, 2);
	return out;
}

/* find - as findi, over the reports only (query_images = no). */
static const char *
find(struct util_fx *fx, enum dcm_qr_level level, uint32_t tag, const char *value)
{
	return findi(fx, 0, level, tag, value);
}

static void
test_ranges(void **state)
{
	struct util_fx *fx = *state;

	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "20240115"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "20240101-20251231"), "1.1 1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "20250101-"), "1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "-20240115"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "20250101-20240101"), "");
	/* a partial upper bound covers its hour or minute */
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "10-11"), "1.1 1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "1031-"), "1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "-1030"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "1030"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "10:30:12"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "115959.4-115959.6"), "1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "1029"), "");
}

static void
test_text(void **state)
{
	struct util_fx *fx = *state;

	/* PN without regard to ASCII case; other text exactly */
	assert_string_equal(find(fx, DCM_QR_STUDY, PATIENT_NAME, "doe*"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, PATIENT_NAME, "roe^richard"), "1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, PATIENT_NAME, "*"), "1.1 1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, PATIENT_ID, "p1"), "");
	assert_string_equal(find(fx, DCM_QR_STUDY, PATIENT_ID, "P?"), "1.1 1.2");
	/* '[' is a literal, not a GLOB class */
	assert_string_equal(find(fx, DCM_QR_STUDY, ACCESSION, "A[1]*"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, ACCESSION, "A[1]X"), "1.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, MODALITIES, "CT\\S?"), "1.1 1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, MODALITIES, "CT"), "");
}

static void
test_uids_and_levels(void **state)
{
	struct util_fx *fx = *state;

	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_UID, "1.2\\1.1"), "1.1 1.2");
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_UID, "1.2"), "1.2");
	assert_string_equal(find(fx, DCM_QR_IMAGE, STUDY_UID, "1.1"), "9.1 9.2");
	assert_string_equal(find(fx, DCM_QR_IMAGE, SOP_UID, "9.3\\ 9.1 "), "9.1 9.3");
	assert_string_equal(find(fx, DCM_QR_IMAGE, SERIES_NUMBER, "+00012"), "9.3");
}

static void
test_bad_values(void **state)
{
	struct util_fx *fx = *state;
	char want[16];

	snprintf(want, sizeof(want), "rc=%d", (int)DCM_QR_CANNOT_PROCESS);
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "2024-01-15"), want);
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_DATE, "-"), want);
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "1"), want);
	assert_string_equal(find(fx, DCM_QR_STUDY, STUDY_TIME, "1030.5"), want);
	assert_string_equal(find(fx, DCM_QR_IMAGE, SERIES_NUMBER, "12a"), want);
}

/* Counts, keys below the level, unknown tags: returned or flagged. */
static void
test_returned(void **state)
{
	struct util_fx *fx = *state;
	struct dcm_qr_key keys[4] = {
		{ STUDY_UID, "1.1", 0 },
		{ N_STUDY_INST, "", 0 },
		{ SOP_UID, "", 0 },			/* below STUDY */
		{ T(0x0009, 0x1001), "x", 0 },		/* not kept */
	};
	struct dcm_qr_query q = { DCM_QR_STUDY_ROOT, DCM_QR_STUDY, keys, 4 };
	struct dcm_qr_matches m;
	char why[256];

	assert_int_equal(qr_query_find(fx->db, &q, 0, 0, &m, why, sizeof(why)), DCM_QR_OK);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0], "1.1");
	assert_string_equal(m.v[1], "2");
	assert_null(m.v[2]);
	assert_null(m.v[3]);
	assert_true(m.unsupported);
	qr_query_matches_free(&m, 4);
}

static void
test_retrieve(void **state)
{
	struct util_fx *fx = *state;
	struct dcm_qr_key keys[2] = {
		{ STUDY_UID, "1.2\\1.1", 0 },
		{ PATIENT_NAME, "nobody", 0 },		/* not a unique key: ignored */
	};
	struct dcm_qr_query q = { DCM_QR_STUDY_ROOT, DCM_QR_STUDY, keys, 2 };
	struct dcm_qr_file *f;
	size_t n;
	char why[256];

	assert_int_equal(qr_query_retrieve(fx->db, &q, 0, &f, &n, why, sizeof(why)), DCM_QR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(f[0].path, "/r/9.1.dcm");
	assert_string_equal(f[2].sop_instance_uid, "9.3");
	assert_string_equal(f[2].transfer_syntax, "1.2.840.10008.1.2.1");
	qr_query_files_free(f, n);
	/* SERIES level: the Series Instance UID selects */
	keys[1].tag = SERIES_UID;
	keys[1].value = "8.2";
	q.level = DCM_QR_SERIES;
	assert_int_equal(qr_query_retrieve(fx->db, &q, 0, &f, &n, why, sizeof(why)), DCM_QR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].sop_instance_uid, "9.2");
	qr_query_files_free(f, n);
	/* no unique key at all */
	keys[0].tag = PATIENT_NAME;
	keys[1].tag = ACCESSION;
	assert_int_equal(qr_query_retrieve(fx->db, &q, 0, &f, &n, why, sizeof(why)),
	    DCM_QR_BAD_IDENTIFIER);
	assert_null(f);
	assert_int_equal(n, 0);
}

/* query_images: the received image joins its study's answers. */
static void
test_images(void **state)
{
	struct util_fx *fx = *state;
	struct dcm_qr_key keys[1] = { { STUDY_UID, "1.2", 0 } };
	struct dcm_qr_query q = { DCM_QR_STUDY_ROOT, DCM_QR_STUDY, keys, 1 };
	struct dcm_qr_file *f;
	size_t n;
	char why[256];

	assert_string_equal(find(fx, DCM_QR_IMAGE, STUDY_UID, "1.2"), "9.3");
	assert_string_equal(findi(fx, 1, DCM_QR_IMAGE, STUDY_UID, "1.2"), "9.3 7.1");
	assert_string_equal(find(fx, DCM_QR_STUDY, MODALITIES, "DX"), "");
	assert_string_equal(findi(fx, 1, DCM_QR_STUDY, MODALITIES, "DX"), "1.2");
	assert_int_equal(qr_query_retrieve(fx->db, &q, 1, &f, &n, why, sizeof(why)), DCM_QR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(f[1].path, "/o/7.1.dcm");
	assert_string_equal(f[1].transfer_syntax, "1.2.840.10008.1.2.4.50");
	qr_query_files_free(f, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ranges, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_uids_and_levels, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_returned, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_retrieve, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_images, setup, util_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
