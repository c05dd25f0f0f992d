/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db - connection setup, migrations and a small statement cache.  Called
 * by any thread on its own connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db_sql.h"
#include "core/log.h"
#include "core/xmem.h"

#define DB_BUSY_MS	10000
#define DB_NSTMT	32

struct db {
	sqlite3		*h;
	int		 last_rc;
	struct {
		const char	*sql;	/* static strings: compared by pointer */
		sqlite3_stmt	*st;
	} cache[DB_NSTMT];
};

int
db_latest_version(void)
{
	return db_migrations[db_nmigrations - 1].version;
}

static int
user_version(sqlite3 *h)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
migrate(struct db *db, char *err, size_t errsz)
{
	char *msg = NULL, pragma[64];
	int v = user_version(db->h);

	if (v < 0) {
		snprintf(err, errsz, "cannot read user_version: %s",
		    sqlite3_errmsg(db->h));
		return -1;
	}
	if (v > db_latest_version()) {
		snprintf(err, errsz, "database schema version %d is newer than "
		    "this radscribe (%d)", v, db_latest_version());
		return -1;
	}
	for (size_t i = 0; i < db_nmigrations; i++) {
		if (db_migrations[i].version <= v)
			continue;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;",
		    db_migrations[i].version);
		if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db->h, db_migrations[i].sql, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db->h, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db->h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errsz, "migration %s: %s",
			    db_migrations[i].name, msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		log_info("database migrated to version %d (%s)",
		    db_migrations[i].version, db_migrations[i].name);
	}
	return 0;
}

struct db *
db_open(const char *path, enum db_mode mode, char *err, size_t errsz)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	char *msg = NULL;
	int v;

	if (mode == DB_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path,
		    db->h ? sqlite3_errmsg(db->h) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_MS);
	if (sqlite3_exec(db->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    " PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	if (mode == DB_CREATE) {
		if (migrate(db, err, errsz) == -1)
			goto fail;
	} else if ((v = user_version(db->h)) != db_latest_version()) {
		snprintf(err, errsz, "%s: schema version %d, expected %d (start "
		    "radscribed once to upgrade it)", path, v,
		    db_latest_version());
		goto fail;
	}
	return db;
fail:
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < DB_NSTMT; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close(db->h);
	free(db);
}

sqlite3 *
db_sqlite(struct db *db)
{
	return db->h;
}

static int
exec(struct db *db, const char *sql)
{
	db->last_rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	return db->last_rc == SQLITE_OK ? 0 : -1;
}

int
db_begin(struct db *db)
{
	return exec(db, "BEGIN IMMEDIATE");
}

int
db_commit(struct db *db)
{
	if (exec(db, "COMMIT") == 0)
		return 0;
	db_rollback(db);
	return -1;
}

void
db_rollback(struct db *db)
{
	int rc = db->last_rc;

	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->last_rc = rc;	/* keep the error that caused the rollback */
}

const char *
db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

int
db_errcode(struct db *db)
{
	return db->last_rc;
}

int
db_step(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db->last_rc = sqlite3_extended_errcode(db->h);
	return rc;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql)
{
	size_t i;

	for (i = 0; i < DB_NSTMT && db->cache[i].sql != NULL; i++)
		if (db->cache[i].sql == sql) {
			sqlite3_reset(db->cache[i].st);
			sqlite3_clear_bindings(db->cache[i].st);
			return db->cache[i].st;
		}
	if (i == DB_NSTMT)
		panic("db: statement cache full");
	db->last_rc = sqlite3_prepare_v2(db->h, sql, -1, &db->cache[i].st, NULL);
	if (db->last_rc != SQLITE_OK) {
		db->cache[i].st = NULL;
		return NULL;
	}
	db->cache[i].sql = sql;
	return db->cache[i].st;
}

int
db_setting_get(struct db *db, const char *name, char *out, size_t outsz)
{
	static const char sql[] = "SELECT value FROM settings WHERE name = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == SQLITE_ROW &&
	    (size_t)snprintf(out, outsz, "%s", sqlite3_column_text(st, 0)) >= outsz)
		rc = SQLITE_TOOBIG;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_setting_put(struct db *db, const char *name, const char *value)
{
	static const char sql[] =
	    "INSERT INTO settings (name, value) VALUES (?1, ?2)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}
