/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_spool - temporary files, durable placement, clean-up and walking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/spool.h"
#include "util.h"

struct fx {
	char		 dir[256];
	struct spool	*sp;
};

static int
setup(void **state)
{
	static struct fx fx;
	char err[256];

	snprintf(fx.dir, sizeof(fx.dir), "%s/spool", util_tmpdir());
	fx.sp = spool_open(fx.dir, err, sizeof(err));
	assert_non_null(fx.sp);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char parent[256];

	spool_close(fx->sp);
	snprintf(parent, sizeof(parent), "%s", fx->dir);
	*strrchr(parent, '/') = '\0';
	util_rmrf(parent);
	return 0;
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void
test_uid_valid(void **state)
{
	(void)state;
	assert_true(spool_uid_valid("1.2.840.10008.5.1.4.1.1.1"));
	assert_true(spool_uid_valid("1"));
	assert_false(spool_uid_valid(""));
	assert_false(spool_uid_valid("1..2"));
	assert_false(spool_uid_valid(".1.2"));
	assert_false(spool_uid_valid("1.2."));
	assert_false(spool_uid_valid("../../etc/passwd"));
	assert_false(spool_uid_valid("1.2/3"));
	assert_false(spool_uid_valid(
	    "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26"));
}

static void
test_commit(void **state)
{
	struct fx *fx = *state;
	char tmp[SPOOL_PATH_MAX], final[SPOOL_PATH_MAX], buf[16] = "";
	int fd, existed = -1;

	fd = spool_tmp_open(fx->sp, tmp, sizeof(tmp));
	assert_true(fd >= 0);
	assert_non_null(strstr(tmp, "/tmp/"));
	assert_int_equal(write(fd, "hello", 5), 5);
	assert_int_equal(spool_final_path(fx->sp, "1.2.3", final, sizeof(final)), 0);
	assert_non_null(strstr(final, "/objects/"));
	assert_non_null(strstr(final, "/1.2.3.dcm"));
	assert_int_equal(spool_commit(fd, tmp, final, &existed), 0);
	assert_int_equal(existed, 0);
	assert_false(exists(tmp));
	fd = open(final, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	assert_string_equal(buf, "hello");

	/* The same UID again replaces the file atomically. */
	fd = spool_tmp_open(fx->sp, tmp, sizeof(tmp));
	assert_int_equal(write(fd, "again", 5), 5);
	assert_int_equal(spool_commit(fd, tmp, final, &existed), 0);
	assert_int_equal(existed, 1);
	fd = open(final, O_RDONLY);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	assert_string_equal(buf, "again");
	assert_int_equal(spool_final_path(fx->sp, "1..2", final, sizeof(final)), -1);
}

static void
test_commit_failure_leaves_nothing(void **state)
{
	struct fx *fx = *state;
	char tmp[SPOOL_PATH_MAX], bad[SPOOL_PATH_MAX];
	int fd, existed;

	/* A shard "directory" that is a file: rename cannot succeed. */
	snprintf(bad, sizeof(bad), "%s/objects/zz", fx->dir);
	assert_int_equal(util_write(bad, "x"), 0);
	snprintf(bad, sizeof(bad), "%s/objects/zz/1.2.dcm", fx->dir);
	fd = spool_tmp_open(fx->sp, tmp, sizeof(tmp));
	assert_int_equal(write(fd, "data", 4), 4);
	assert_int_equal(spool_commit(fd, tmp, bad, &existed), -1);
	assert_false(exists(tmp));
	assert_false(exists(bad));
}

static int
count_cb(void *arg, const char *path)
{
	(void)path;
	(*(int *)arg)++;
	return 0;
}

static void
test_clean_and_walk(void **state)
{
	struct fx *fx = *state;
	char tmp[SPOOL_PATH_MAX], final[SPOOL_PATH_MAX];
	int fd, existed, n = 0;

	for (int i = 0; i < 3; i++) {
		char uid[32];

		snprintf(uid, sizeof(uid), "1.2.%d", i);
		fd = spool_tmp_open(fx->sp, tmp, sizeof(tmp));
		assert_int_equal(spool_final_path(fx->sp, uid, final, sizeof(final)), 0);
		assert_int_equal(spool_commit(fd, tmp, final, &existed), 0);
	}
	/* Two partial files, as a crash would leave them. */
	close(spool_tmp_open(fx->sp, tmp, sizeof(tmp)));
	close(spool_tmp_open(fx->sp, tmp, sizeof(tmp)));
	assert_int_equal(spool_clean_tmp(fx->sp), 2);
	assert_int_equal(spool_clean_tmp(fx->sp), 0);
	assert_int_equal(spool_walk(fx->sp, count_cb, &n), 0);
	assert_int_equal(n, 3);
}

/* Reports: their names, the durable commit of a file written by name. */
static void
test_reports(void **state)
{
	struct fx *fx = *state;
	char tmp[SPOOL_PATH_MAX], final[SPOOL_PATH_MAX], want[SPOOL_PATH_MAX];
	int n = 0;

	assert_int_equal(spool_report_paths(fx->sp, "1.2.840.99", tmp,
	    sizeof(tmp), final, sizeof(final)), 0);
	snprintf(want, sizeof(want), "%s/reports/1.2.840.99.dcm", fx->dir);
	assert_string_equal(final, want);
	snprintf(want, sizeof(want), "%s/tmp/sr-1.2.840.99.tmp", fx->dir);
	assert_string_equal(tmp, want);
	/* A UID is a file name: nothing else is one. */
	assert_int_equal(spool_report_paths(fx->sp, "../1.2", tmp, sizeof(tmp),
	    final, sizeof(final)), -1);
	assert_int_equal(spool_report_paths(fx->sp, "1.2.3", tmp, 8, final,
	    sizeof(final)), -1);
	assert_int_equal(spool_report_paths(fx->sp, "1.2.840.99", tmp,
	    sizeof(tmp), final, sizeof(final)), 0);
	assert_int_equal(util_write(tmp, "SR"), 0);
	assert_int_equal(spool_commit_file(tmp, final), 0);
	assert_false(exists(tmp));
	assert_true(exists(final));
	assert_int_equal(spool_walk_reports(fx->sp, count_cb, &n), 0);
	assert_int_equal(n, 1);
	/* A missing file fails with errno and leaves nothing. */
	errno = 0;
	assert_int_equal(spool_commit_file(tmp, final), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spool_area_path(fx->dir, SPOOL_REPORTS, want,
	    sizeof(want)), 0);
	assert_true(exists(want));
	assert_int_equal(spool_area_path(fx->dir, SPOOL_OBJECTS, want, 4), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid_valid),
		cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_and_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
