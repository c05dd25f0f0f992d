/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_receive - the commit step: a success means file in place and row
 * committed; every failure leaves neither a file nor a row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/db_sql.h"
#include "node/receive.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_and_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_failure_removes_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("receive", tests, NULL, NULL);
}
