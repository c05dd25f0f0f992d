/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_uid - UID roots and the UIDs made under them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/uid.h"
#include "util.h"

static void
test_valid_root(void **state)
{
	(void)state;
	assert_true(uid_valid_root("1.2.826.0.1.3680043.10.999"));
	assert_true(uid_valid_root("2.25.0"));
	assert_false(uid_valid_root(""));
	assert_false(uid_valid_root("1.2."));
	assert_false(uid_valid_root(".1.2"));
	assert_false(uid_valid_root("1..2"));
	assert_false(uid_valid_root("1.02.3"));
	assert_false(uid_valid_root("1.2.a"));
	assert_false(uid_valid_root("1.2.3456789012345678901234567890123456789012345"));
}

static void
test_make(void **state)
{
	char a[UID_MAX + 1], b[UID_MAX + 1];
	const char *root = "2.25.340282366920938463463374607431768211455";

	(void)state;
	mock_clock_set(1798000000000LL);
	uid_make(root, a);
	uid_make(root, b);
	assert_true(strlen(a) <= UID_MAX);
	assert_int_equal(strncmp(a, root, strlen(root)), 0);
	assert_int_equal(a[strlen(root)], '.');
	assert_string_not_equal(a, b);
	/* The same millisecond, and a clock going back: still new UIDs. */
	mock_clock_set(1000);
	uid_make(root, a);
	assert_string_not_equal(a, b);
}

static void
test_root_kept(void **state)
{
	const char *dir = util_tmpdir();
	struct db *db = util_db(dir);
	char r1[UID_ROOT_MAX + 1], r2[UID_ROOT_MAX + 1], err[256];

	(void)state;
	assert_int_equal(uid_root_load(db, NULL, r1, err, sizeof(err)), 0);
	assert_int_equal(strncmp(r1, "2.25.", 5), 0);
	assert_true(uid_valid_root(r1));
	assert_int_equal(uid_root_load(db, NULL, r2, err, sizeof(err)), 0);
	assert_string_equal(r1, r2);		/* made once, kept */
	assert_int_equal(uid_root_load(db, "1.2.3", r2, err, sizeof(err)), 0);
	assert_string_equal(r2, "1.2.3");	/* the configured root wins */
	assert_int_equal(uid_root_load(db, "1.2.x", r2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1.2.x"));
	db_close(db);
	util_rmrf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_root),
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_root_kept),
	};

	return cmocka_run_group_tests_name("uid", tests, NULL, NULL);
}
