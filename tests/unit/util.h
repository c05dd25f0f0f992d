/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util - shared by the unit tests: temp dirs and a fresh database. */
#ifndef RS_TEST_UTIL_H
#define RS_TEST_UTIL_H

#include <stdint.h>

#include "store/db.h"

/* util_tmpdir - a new directory under $TMPDIR (static buffer); removed by util_rmrf. */
const char *util_tmpdir(void);
void	util_rmrf(const char *dir);
/* util_db - a migrated database in dir; aborts the test on failure. */
struct db *util_db(const char *dir);
/* util_count - the single integer a query returns. */
int64_t	util_count(struct db *db, const char *sql);
/* util_exec - run SQL statements; 0, or the SQLite error code. */
int	util_exec(struct db *db, const char *sql);
/* util_write - a file with the given content; 0/-1. */
int	util_write(const char *path, const char *content);

/* A temp directory with a migrated database: the usual cmocka fixture. */
struct util_fx {
	char		 dir[256];
	struct db	*db;
};
/* util_fx_setup - *state = a static util_fx, made afresh; 0. */
int	util_fx_setup(void **state);
/* util_fx_teardown - closes the database, removes the directory; 0. */
int	util_fx_teardown(void **state);

/* mock_clock_set - what clock_now_ms() returns (tests/unit/mock_clock.c). */
void	mock_clock_set(int64_t ms);

#endif
