/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db - one SQLite connection, opened by the thread that uses it and never
 * handed to another.  Sets WAL, synchronous=FULL (a C-STORE success is a
 * promise), foreign_keys and busy_timeout; applies the migrations built
 * from sql/.  Only the modules in src/store run SQL, through db_sql.h;
 * everyone else sees an opaque connection and transactions.
 */
#ifndef RS_DB_H
#define RS_DB_H

#include <stddef.h>

struct db;

struct db_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct db_migration db_migrations[];
extern const size_t db_nmigrations;

enum db_mode {
	DB_CREATE,	/* create and migrate (radscribed) */
	DB_EXISTING	/* must exist at the latest version (radscribe) */
};

/* db_open - NULL with a message in err on failure; close with db_close. */
struct db *db_open(const char *path, enum db_mode mode, char *err, size_t errsz);
void	db_close(struct db *db);
/* db_begin - BEGIN IMMEDIATE.  0, or -1 (SQLITE_BUSY after busy_timeout too). */
int	db_begin(struct db *db);
int	db_commit(struct db *db);
/* db_rollback - safe to call when no transaction is open. */
void	db_rollback(struct db *db);
/* db_errmsg - the last error on this connection (borrowed). */
const char *db_errmsg(struct db *db);
/* db_errcode - the extended code of the last failure (SQLITE_FULL...). */
int	db_errcode(struct db *db);
int	db_latest_version(void);
/*
 * db_setting_get - the value of a node setting (table settings) into out.
 * 1 found, 0 none, -1 on a database error or a value too long.
 */
int	db_setting_get(struct db *db, const char *name, char *out /* OUT */,
	    size_t outsz);
/* db_setting_put - set a node setting once; 0, or -1 (one exists, error). */
int	db_setting_put(struct db *db, const char *name, const char *value);

#endif
