/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util - helpers for the unit tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/db_sql.h"
#include "util.h"

const char *
util_tmpdir(void)
{
	static char buf[256];
	const char *t = getenv("TMPDIR");

	snprintf(buf, sizeof(buf), "%s/rs-unit-XXXXXX", t ? t : "/tmp");
	assert_non_null(mkdtemp(buf));
	return buf;
}

void
util_rmrf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

struct db *
util_db(const char *dir)
{
	char path[512], err[512];
	struct db *db;

	snprintf(path, sizeof(path), "%s/test.db", dir);
	db = db_open(path, DB_CREATE, err, sizeof(err));
	if (db == NULL)
		fail_msg("db_open: %s", err);
	return db;
}

int64_t
util_count(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
util_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL);
}

int
util_write(const char *path, const char *content)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(content, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

int
util_fx_setup(void **state)
{
	static struct util_fx fx;

	snprintf(fx.dir, sizeof(fx.dir), "%s", util_tmpdir());
	fx.db = util_db(fx.dir);
	*state = &fx;
	return 0;
}

int
util_fx_teardown(void **state)
{
	struct util_fx *fx = *state;

	db_close(fx->db);
	util_rmrf(fx->dir);
	return 0;
}
