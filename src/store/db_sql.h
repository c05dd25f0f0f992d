/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db_sql - the SQLite handle behind a struct db, for the modules in
 * src/store that own tables.  Nothing outside src/store includes it
 * (tests/lint.sh checks).
 */
#ifndef RS_DB_SQL_H
#define RS_DB_SQL_H

#include <sqlite3.h>

#include "store/db.h"

/* db_sqlite - the borrowed handle, valid until db_close. */
sqlite3	*db_sqlite(struct db *db);
/* db_step - sqlite3_step that remembers a failure for db_errcode. */
int	db_step(struct db *db, sqlite3_stmt *st);
/* db_prepare - a statement cached on the connection; do not finalize it. */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);

#endif
