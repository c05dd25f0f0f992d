/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_receive - the commit step: a success means file in place and row
 * committed; every failure leaves neither a file nor a row.  The instance's
 * Query/Retrieve row comes from the values handed over with it (m->qr),
 * in the same transaction, and its failure costs only that row; a late
 * instance flags its study for a new draft.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/db_sql.h"
#include "dicom/qr.h"
#include "node/receive.h"
#include "store/qr_index.h"
#include "util.h"

struct fx {
	char		 dir[256];
	char		 dbpath[300];
	struct db	*db;
	struct spool	*sp;
	struct receive	*rc;
};

static int
setup(void **state)
{
	static struct fx fx;
	char err[256], sp[300];

	snprintf(fx.dir, sizeof(fx.dir), "%s", util_tmpdir());
	fx.db = util_db(fx.dir);
	snprintf(fx.dbpath, sizeof(fx.dbpath), "%s/test.db", fx.dir);
	snprintf(sp, sizeof(sp), "%s/spool", fx.dir);
	assert_non_null(fx.sp = spool_open(sp, err, sizeof(err)));
	assert_non_null(fx.rc = receive_new(fx.sp, fx.dbpath, err, sizeof(err)));
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	receive_free(fx->rc);
	spool_close(fx->sp);
	db_close(fx->db);
	util_rmrf(fx->dir);
	return 0;
}

static void
meta(struct instance_meta *m, const char *sop)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->sop_instance_uid, sizeof(m->sop_instance_uid), "%s", sop);
	snprintf(m->sop_class_uid, sizeof(m->sop_class_uid), "1.2.840.10008.5.1.4.1.1.1");
	snprintf(m->study_uid, sizeof(m->study_uid), "9.9");
	snprintf(m->series_uid, sizeof(m->series_uid), "9.9.1");
	snprintf(m->transfer_syntax, sizeof(m->transfer_syntax), "1.2.840.10008.1.2");
	snprintf(m->calling_ae, sizeof(m->calling_ae), "MOD");
}

static int
tmp_with(struct fx *fx, char *path, size_t sz, const char *data)
{
	int fd = receive_tmp_open(fx->rc, path, sz);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	return fd;
}

static int
files_in(const char *dir)
{
	char cmd[512];
	FILE *fp;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%d", &n), 1);
	pclose(fp);
	return n;
}

static void
test_ok_and_idempotent(void **state)
{
	struct fx *fx = *state;
	struct instance_meta m;
	char tmp[SPOOL_PATH_MAX], sp[400];
	int fd;

	meta(&m, "1.2.3.4");
	fd = tmp_with(fx, tmp, sizeof(tmp), "first");
	assert_int_equal(receive_commit(fx->rc, &m, fd, tmp), RECEIVE_OK);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 1);
	assert_int_equal(util_count(fx->db, "SELECT size FROM instances"), 5);
	fd = tmp_with(fx, tmp, sizeof(tmp), "second!");
	assert_int_equal(receive_commit(fx->rc, &m, fd, tmp), RECEIVE_OK);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 1);
	assert_int_equal(util_count(fx->db, "SELECT size FROM instances"), 7);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM studies"), 1);
	snprintf(sp, sizeof(sp), "%s/spool", fx->dir);
	assert_int_equal(files_in(sp), 1);
}

static void
test_bad_uid(void **state)
{
	struct fx *fx = *state;
	struct instance_meta m;
	char tmp[SPOOL_PATH_MAX], sp[400];
	int fd;

	meta(&m, "1.2.x");
	fd = tmp_with(fx, tmp, sizeof(tmp), "data");
	assert_int_equal(receive_commit(fx->rc, &m, fd, tmp), RECEIVE_BAD_UID);
	snprintf(sp, sizeof(sp), "%s/spool", fx->dir);
	assert_int_equal(files_in(sp), 0);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 0);
}

static void
test_db_failure_removes_file(void **state)
{
	struct fx *fx = *state;
	struct instance_meta m;
	char tmp[SPOOL_PATH_MAX], sp[400];
	int fd;

	/* Make the index refuse every insert: the file must not stay behind. */
	assert_int_equal(sqlite3_exec(db_sqlite(fx->db),
	    "CREATE TRIGGER no_ins BEFORE INSERT ON instances BEGIN"
	    " SELECT RAISE(ABORT, 'disk full (simulated)'); END", NULL, NULL,
	    NULL), SQLITE_OK);
	meta(&m, "1.2.3.5");
	fd = tmp_with(fx, tmp, sizeof(tmp), "data");
	assert_int_equal(receive_commit(fx->rc, &m, fd, tmp), RECEIVE_NO_RESOURCES);
	snprintf(sp, sizeof(sp), "%s/spool", fx->dir);
	assert_int_equal(files_in(sp), 0);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 0);
	/* The study row went with the rolled-back transaction. */
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM studies"), 0);
}

/* ---- the Query/Retrieve row and the redraft flag ---- */

#define T DCM_QR_TAG

/* attrs - a as the C-STORE handler fills it: tag/value pairs up to a 0 tag. */
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
			fail_msg("tag %08x not asked for", tag);
		a->values[i] = strdup(v);
	}
	va_end(ap);
}

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
text(struct db *db, const char *sql)
{
	static char out[512];
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, sizeof(out), "%s", sqlite3_column_type(st, 0) ==
	    SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* store - receive_commit of data for sop with values a (may be NULL) */
static enum receive_rc
store(struct fx *fx, const char *sop, const char *data,
    const struct dcm_qr_attrs *a)
{
	struct instance_meta m;
	char tmp[SPOOL_PATH_MAX];
	int fd;

	meta(&m, sop);
	m.qr = a;
	fd = tmp_with(fx, tmp, sizeof(tmp), data);
	return receive_commit(fx->rc, &m, fd, tmp);
}

/* The row is written with the instance: its id, its spool path, the values. */
static void
test_qr_row(void **state)
{
	struct fx *fx = *state;
	struct dcm_qr_attrs a;

	attrs(&a, T(0x0008, 0x0018), "1.2.3.4", T(0x0008, 0x0016),
	    "1.2.840.10008.5.1.4.1.1.1", T(0x0020, 0x000d), "9.9",
	    T(0x0020, 0x000e), "9.9.1", T(0x0010, 0x0010), "M\xc3\xbcller^Hans",
	    T(0x0008, 0x0030), "09:15", T(0x0008, 0x0060), "DX",
	    T(0x0002, 0x0010), "1.2.840.10008.1.2", 0);
	assert_int_equal(store(fx, "1.2.3.4", "first", &a), RECEIVE_OK);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index q"
	    " JOIN instances i ON i.id = q.instance_id AND i.path = q.path"
	    " WHERE q.report_id IS NULL"), 1);
	assert_string_equal(text(fx->db, "SELECT SOPInstanceUID || ' ' ||"
	    " StudyInstanceUID || ' ' || SeriesInstanceUID || ' ' || PatientName"
	    " || ' ' || StudyTime || ' ' || Modality || ' ' || transfer_syntax"
	    " FROM qr_index"), "1.2.3.4 9.9 9.9.1 M\xc3\xbcller^Hans 091500 DX "
	    "1.2.840.10008.1.2");
	assert_string_equal(text(fx->db, "SELECT AccessionNumber FROM qr_index"),
	    "NULL");

	/* a resend: the row follows the new file and the new values */
	attrs(&a, T(0x0008, 0x0018), "1.2.3.4", T(0x0008, 0x0016),
	    "1.2.840.10008.5.1.4.1.1.1", T(0x0020, 0x000d), "9.9",
	    T(0x0020, 0x000e), "9.9.1", T(0x0008, 0x0060), "CR", 0);
	assert_int_equal(store(fx, "1.2.3.4", "second", &a), RECEIVE_OK);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index q"
	    " JOIN instances i ON i.id = q.instance_id AND i.path = q.path"), 1);
	assert_string_equal(text(fx->db, "SELECT Modality || ' ' ||"
	    " (PatientName IS NULL) FROM qr_index"), "CR 1");
}

/* query_images = no: the bridge hands nothing over, and no row is made. */
static void
test_qr_none(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store(fx, "1.2.3.4", "data", NULL), RECEIVE_OK);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 0);
}

/* A row that cannot be written costs that row, not the instance. */
static void
test_qr_failure_keeps_instance(void **state)
{
	struct fx *fx = *state;
	struct dcm_qr_attrs a;
	char sp[400];

	assert_int_equal(util_exec(fx->db,
	    "CREATE TRIGGER no_qr BEFORE INSERT ON qr_index BEGIN"
	    " SELECT RAISE(ABORT, 'qr_index refused (simulated)'); END"), 0);
	attrs(&a, T(0x0008, 0x0018), "1.2.3.4", T(0x0008, 0x0016),
	    "1.2.840.10008.5.1.4.1.1.1", T(0x0020, 0x000d), "9.9",
	    T(0x0020, 0x000e), "9.9.1", 0);
	assert_int_equal(store(fx, "1.2.3.4", "data", &a), RECEIVE_OK);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 0);
	snprintf(sp, sizeof(sp), "%s/spool", fx->dir);
	assert_int_equal(files_in(sp), 1);
	/* values the index cannot use (no Series Instance UID): the same */
	assert_int_equal(util_exec(fx->db, "DROP TRIGGER no_qr"), 0);
	attrs(&a, T(0x0008, 0x0018), "1.2.3.5", T(0x0008, 0x0016),
	    "1.2.840.10008.5.1.4.1.1.1", T(0x0020, 0x000d), "9.9", 0);
	assert_int_equal(store(fx, "1.2.3.5", "data", &a), RECEIVE_OK);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 2);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM qr_index"), 0);
}

/* A received copy of one of our reports is stored but never indexed over it. */
static void
test_qr_report_uid(void **state)
{
	struct fx *fx = *state;
	struct dcm_qr_attrs a;

	assert_int_equal(util_exec(fx->db,
	    "INSERT INTO studies (id, study_uid, first_received_at, last_received_at)"
	    " VALUES (7, '9.9', 0, 0);"
	    "INSERT INTO reports (id, study_id, sop_instance_uid, series_uid,"
	    " sop_class_uid, path, size, created_at, model, findings, impression)"
	    " VALUES (1, 7, '1.2.3.9', '8.1', '1.2.840.10008.5.1.4.1.1.88.11',"
	    " '/r/1.2.3.9.dcm', 1, 0, 'm', '', '');"
	    "INSERT INTO qr_index (report_id, path, transfer_syntax,"
	    " StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, SOPClassUID)"
	    " VALUES (1, '/r/1.2.3.9.dcm', '1.2.840.10008.1.2.1', '9.9', '8.1',"
	    " '1.2.3.9', '1.2.840.10008.5.1.4.1.1.88.11')"), 0);
	attrs(&a, T(0x0008, 0x0018), "1.2.3.9", T(0x0008, 0x0016),
	    "1.2.840.10008.5.1.4.1.1.88.11", T(0x0020, 0x000d), "9.9",
	    T(0x0020, 0x000e), "8.1", 0);
	assert_int_equal(store(fx, "1.2.3.9", "copy", &a), RECEIVE_OK);
	attrs_free(&a);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 1);
	assert_string_equal(text(fx->db, "SELECT report_id || ' ' || path ||"
	    " ' ' || (instance_id IS NULL) FROM qr_index"), "1 /r/1.2.3.9.dcm 1");
}

/* A new instance after the study's job was made asks for a new draft;
 * a resend of one it had does not. */
static void
test_late_instance(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(store(fx, "1.2.3.4", "data", NULL), RECEIVE_OK);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 0);
	assert_int_equal(util_exec(fx->db, "UPDATE studies SET job_created_at = 1"), 0);
	assert_int_equal(store(fx, "1.2.3.4", "again", NULL), RECEIVE_OK);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 0);
	assert_int_equal(store(fx, "1.2.3.5", "late", NULL), RECEIVE_OK);
	assert_int_equal(util_count(fx->db, "SELECT redraft FROM studies"), 1);
	assert_int_equal(util_count(fx->db, "SELECT count(*) FROM instances"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_and_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_failure_removes_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qr_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qr_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qr_failure_keeps_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qr_report_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_instance, setup, teardown),
	};

	return cmocka_run_group_tests_name("receive", tests, NULL, NULL);
}
