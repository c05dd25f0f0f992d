/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_qr - C-FIND matching and C-MOVE/C-GET selection over qr_index
 * (qr_query.c), on rows written directly: ranges and their partial bounds,
 * wildcards and what GLOB must not see, list of UIDs, grouping by level,
 * the status of bad values.  Then the writer (qr_index.c): rows from the
 * values the bridge hands over (no file is read), the report/instance
 * rules, start-up recovery through a stand-in reader, purge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/db_sql.h"
#include "store/qr_index.h"
#include "store/qr_query.h"
#include "store/qr_schema.h"
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
#define SOP_CLASS	T(0x0008, 0x0016)
#define MODALITY	T(0x0008, 0x0060)
#define CONTENT_TIME	T(0x0008, 0x0033)
#define COMPLETION	T(0x0040, 0xa491)
#define XFER		T(0x0002, 0x0010)
#define SR_CLASS	"1.2.840.10008.5.1.4.1.1.88.11"


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

/* ---- qr_index.c ---- */

/*
 * attrs - a as the bridge fills it: qr_index_attrs_init's tags, then
 * tag/value pairs (an unsigned tag, a string), up to a 0 tag.
 */
static void
attrs(struct dcm_qr_attrs *a, ...)
{
	va_list ap;
	unsigned tag;

	qr_index_attrs_init(a);
	va_start(ap, a);
	while ((tag = va_arg(ap, unsigned)) != 0) {
		const char *v = va_arg(ap, const char *);
		size_t i;

		for (i = 0; i < a->n && a->tags[i] != tag; i++)
			continue;
		if (i == a->n)
			fail_msg("tag %08x not asked for by qr_index_attrs_init", tag);
		a->values[i] = strdup(v);
	}
	va_end(ap);
}

/* attrs_free - dcm_qr_attrs_clear is the bridge's, not linked here */
static void
attrs_free(struct dcm_qr_attrs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->values[i]);
		a->values[i] = NULL;
	}
}

/* text - the single text value (or "NULL") a query returns; static. */
static const char *
text(struct util_fx *fx, const char *sql)
{
	static char out[512];
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(fx->db), sql, -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, sizeof(out), "%s", sqlite3_column_type(st, 0) ==
	    SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* What the index asks the bridge for: every stored column, and the syntax. */
static void
test_attrs_init(void **state)
{
	struct dcm_qr_attrs a;
	size_t stored = 0, seen = 0;

	(void)state;
	memset(&a, 0x55, sizeof(a));
	qr_index_attrs_init(&a);
	for (size_t i = 0; i < qr_schema_nattrs; i++)
		stored += qr_schema_stored(&qr_schema_attrs[i]) != 0;
	assert_int_equal(a.n, stored + 1);
	assert_true(a.n <= DCM_QR_ATTRS_MAX);
	for (size_t i = 0; i < a.n; i++) {
		assert_null(a.values[i]);
		seen += a.tags[i] == SOP_UID || a.tags[i] == STUDY_UID ||
		    a.tags[i] == SERIES_UID || a.tags[i] == SOP_CLASS ||
		    a.tags[i] == XFER || a.tags[i] == CONTENT_TIME ||
		    a.tags[i] == COMPLETION;
		/* computed attributes are not read */
		assert_int_not_equal(a.tags[i], MODALITIES);
		assert_int_not_equal(a.tags[i], N_STUDY_INST);
	}
	assert_int_equal(seen, 7);
}

/* A report's row from the values in hand; a second put replaces it. */
static void
test_put_report(void **state)
{
	struct util_fx *fx = *state;
	struct dcm_qr_attrs a;

	assert_int_equal(util_exec(fx->db,
	    "INSERT INTO reports (id, study_id, sop_instance_uid, series_uid,"
	    " sop_class_uid, path, size, created_at, model, findings, impression)"
	    " VALUES (4, 2, '9.4', '8.4', '" SR_CLASS "', '/r/9.4.dcm', 1, 0,"
	    " 'm', '', '')"), 0);
	attrs(&a, SOP_UID, "9.4", SOP_CLASS, SR_CLASS, STUDY_UID, "1.2",
	    SERIES_UID, "8.4", PATIENT_NAME, "Roe^Richard", PATIENT_ID, "P2",
	    MODALITY, "SR", CONTENT_TIME, "10:30", COMPLETION, "COMPLETE",
	    STUDY_DATE, "20250301", XFER, "1.2.840.10008.1.2.1", 0);
	assert_int_equal(qr_index_put_report(fx->db, 4, "/r/9.4.dcm", &a), 0);
	attrs_free(&a);
	assert_string_equal(text(fx, "SELECT report_id || ' ' || path || ' ' ||"
	    " transfer_syntax || ' ' || SOPClassUID || ' ' || SeriesInstanceUID"
	    " || ' ' || PatientName || ' ' || Modality || ' ' || CompletionFlag"
	    " FROM qr_index WHERE SOPInstanceUID = '9.4'"),
	    "4 /r/9.4.dcm 1.2.840.10008.1.2.1 " SR_CLASS " 8.4 Roe^Richard SR "
	    "COMPLETE");
	assert_string_equal(text(fx, "SELECT instance_id IS NULL FROM qr_index"
	    " WHERE SOPInstanceUID = '9.4'"), "1");
	/* TM as HHMMSS, so that ranges compare as text */
	assert_string_equal(text(fx, "SELECT ContentTime FROM qr_index"
	    " WHERE report_id = 4"), "103000");
	/* absent: NULL, not "" */
	assert_string_equal(text(fx, "SELECT AccessionNumber FROM qr_index"
	    " WHERE report_id = 4"), "NULL");
	/* C-FIND sees it */
	assert_string_equal(find(fx, DCM_QR_IMAGE, STUDY_UID, "1.2"), "9.3 9.4");

	/* again, other values and no syntax: one row, replaced */
	attrs(&a, SOP_UID, "9.4", SOP_CLASS, SR_CLASS, STUDY_UID, "1.2",
	    SERIES_UID, "8.4", PATIENT_NAME, "Roe^R", 0);
	assert_int_equal(qr_index_put_report(fx->db, 4, "/r/9.4b.dcm", &a), 0);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"
	    " WHERE report_id = 4"), 1);
	assert_string_equal(text(fx, "SELECT path || ' ' || PatientName || ' '"
	    " || transfer_syntax || ' ' || (ContentTime IS NULL) FROM qr_index"
	    " WHERE report_id = 4"), "/r/9.4b.dcm Roe^R 1.2.840.10008.1.2.1 1");
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 5);
}

/* Without a UID the index needs, nothing is written. */
static void
test_put_missing_uid(void **state)
{
	struct util_fx *fx = *state;
	struct dcm_qr_attrs a;

	assert_int_equal(util_exec(fx->db,
	    "INSERT INTO reports (id, study_id, sop_instance_uid, series_uid,"
	    " sop_class_uid, path, size, created_at, model, findings, impression)"
	    " VALUES (4, 2, '9.4', '8.4', '" SR_CLASS "', '/r/9.4.dcm', 1, 0,"
	    " 'm', '', '')"), 0);
	attrs(&a, SOP_UID, "9.4", SOP_CLASS, SR_CLASS, STUDY_UID, "1.2", 0);
	assert_int_equal(qr_index_put_report(fx->db, 4, "/r/9.4.dcm", &a), 1);
	attrs_free(&a);
	attrs(&a, SOP_CLASS, SR_CLASS, STUDY_UID, "1.2", SERIES_UID, "8.4", 0);
	assert_int_equal(qr_index_put_report(fx->db, 4, "/r/9.4.dcm", &a), 1);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"
	    " WHERE report_id = 4"), 0);
}

/* An instance never displaces a report's row; a report displaces an instance's. */
static void
test_put_instance(void **state)
{
	struct util_fx *fx = *state;
	struct dcm_qr_attrs a;

	assert_int_equal(util_exec(fx->db,
	    "INSERT INTO instances (id, sop_instance_uid, study_id, series_uid,"
	    " sop_class_uid, transfer_syntax, path, size, received_at, calling_ae)"
	    " VALUES (2, '7.2', 2, '6.1', '1.2.840.10008.5.1.4.1.1.1.1',"
	    " '1.2.840.10008.1.2', '/o/7.2.dcm', 1, 0, 'M'),"
	    " (3, '9.3', 2, '6.1', '" SR_CLASS "', '1.2.840.10008.1.2.1',"
	    " '/o/9.3.dcm', 1, 0, 'M')"), 0);
	attrs(&a, SOP_UID, "7.2", SOP_CLASS, "1.2.840.10008.5.1.4.1.1.1.1",
	    STUDY_UID, "1.2", SERIES_UID, "6.1", MODALITY, "DX",
	    XFER, "1.2.840.10008.1.2", 0);
	assert_int_equal(qr_index_put_instance(fx->db, 2, "/o/7.2.dcm", &a), 0);
	attrs_free(&a);
	assert_string_equal(text(fx, "SELECT instance_id || ' ' || path || ' ' ||"
	    " transfer_syntax || ' ' || Modality || ' ' || (report_id IS NULL)"
	    " FROM qr_index WHERE SOPInstanceUID = '7.2'"),
	    "2 /o/7.2.dcm 1.2.840.10008.1.2 DX 1");
	assert_string_equal(findi(fx, 1, DCM_QR_IMAGE, STUDY_UID, "1.2"),
	    "9.3 7.1 7.2");
	/* a received copy of our report 9.3 stays out */
	attrs(&a, SOP_UID, "9.3", SOP_CLASS, SR_CLASS, STUDY_UID, "1.2",
	    SERIES_UID, "6.1", 0);
	assert_int_equal(qr_index_put_instance(fx->db, 3, "/o/9.3.dcm", &a), 1);
	attrs_free(&a);
	assert_string_equal(text(fx, "SELECT report_id || ' ' || path FROM"
	    " qr_index WHERE SOPInstanceUID = '9.3'"), "3 /r/9.3.dcm");
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"
	    " WHERE instance_id = 3"), 0);
	/* a report with the UID of a received instance takes its row */
	assert_int_equal(util_exec(fx->db,
	    "INSERT INTO reports (id, study_id, sop_instance_uid, series_uid,"
	    " sop_class_uid, path, size, created_at, model, findings, impression)"
	    " VALUES (4, 2, '7.2', '8.4', '" SR_CLASS "', '/r/7.2.dcm', 1, 0,"
	    " 'm', '', '')"), 0);
	attrs(&a, SOP_UID, "7.2", SOP_CLASS, SR_CLASS, STUDY_UID, "1.2",
	    SERIES_UID, "8.4", 0);
	assert_int_equal(qr_index_put_report(fx->db, 4, "/r/7.2.dcm", &a), 0);
	attrs_free(&a);
	assert_string_equal(text(fx, "SELECT report_id || ' ' || path ||"
	    " ' ' || (instance_id IS NULL) FROM qr_index WHERE"
	    " SOPInstanceUID = '7.2'"), "4 /r/7.2.dcm 1");
}

/* The stand-in reader of qr_index_missing: values by path. */
static int reads;

static int
fake_read(const char *path, const uint32_t *tags, size_t ntags, char **values,
    char *err, size_t errsz)
{
	static const struct {
		const char	*path, *sop, *series;
	} files[] = {
		{ "/r/9.1.dcm", "9.1", "8.1" },
		{ "/r/9.2.dcm", "9.2", "8.2" },
		{ "/o/7.1.dcm", "7.1", "6.1" },
	};

	reads++;
	for (size_t k = 0; k < ntags; k++)
		values[k] = NULL;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		if (strcmp(path, files[f].path) != 0)
			continue;
		for (size_t k = 0; k < ntags; k++) {
			const char *v = NULL;

			if (tags[k] == SOP_UID)
				v = files[f].sop;
			else if (tags[k] == SERIES_UID)
				v = files[f].series;
			else if (tags[k] == STUDY_UID)
				v = path[1] == 'r' ? "1.1" : "1.2";
			else if (tags[k] == SOP_CLASS)
				v = SR_CLASS;
			else if (tags[k] == STUDY_TIME)
				v = "0930";
			if (v != NULL)
				values[k] = strdup(v);
		}
		return 0;
	}
	snprintf(err, errsz, "%s: no such file", path);
	return -1;
}

/* Start-up recovery: what has no row is read and indexed, nothing else. */
static void
test_missing(void **state)
{
	struct util_fx *fx = *state;

	/* reports 1 and 2, instance 1 lose their rows; report 3 keeps its */
	assert_int_equal(util_exec(fx->db, "DELETE FROM qr_index WHERE"
	    " report_id IN (1, 2) OR instance_id = 1"), 0);
	reads = 0;
	assert_int_equal(qr_index_missing(fx->db, 0, fake_read), 2);
	assert_int_equal(reads, 2);
	assert_string_equal(text(fx, "SELECT group_concat(report_id || ':' ||"
	    " SOPInstanceUID || ':' || StudyTime || ':' || path, ' ') FROM"
	    " (SELECT * FROM qr_index ORDER BY report_id)"),
	    "1:9.1:093000:/r/9.1.dcm 2:9.2:093000:/r/9.2.dcm "
	    "3:9.3:115959.5:/r/9.3.dcm");
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"
	    " WHERE instance_id IS NOT NULL"), 0);
	/* query_images: the instance too; then nothing is left to do */
	reads = 0;
	assert_int_equal(qr_index_missing(fx->db, 1, fake_read), 1);
	assert_int_equal(reads, 1);
	assert_string_equal(text(fx, "SELECT instance_id || ':' || path FROM"
	    " qr_index WHERE SOPInstanceUID = '7.1'"), "1:/o/7.1.dcm");
	reads = 0;
	assert_int_equal(qr_index_missing(fx->db, 1, fake_read), 0);
	assert_int_equal(reads, 0);
	/* a file that cannot be read is skipped, not fatal */
	assert_int_equal(util_exec(fx->db, "DELETE FROM qr_index WHERE"
	    " report_id = 3"), 0);
	assert_int_equal(qr_index_missing(fx->db, 1, fake_read), 0);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 3);
}

static void
test_purge_study(void **state)
{
	struct util_fx *fx = *state;

	assert_int_equal(qr_index_purge_study(fx->db, 2), 0);
	assert_string_equal(text(fx, "SELECT group_concat(SOPInstanceUID, ' ')"
	    " FROM (SELECT * FROM qr_index ORDER BY id)"), "9.1 9.2");
	assert_int_equal(qr_index_purge_study(fx->db, 1), 0);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 0);
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
		cmocka_unit_test(test_attrs_init),
		cmocka_unit_test_setup_teardown(test_put_report, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_put_missing_uid, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_put_instance, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, util_fx_teardown),
		cmocka_unit_test_setup_teardown(test_purge_study, setup, util_fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
