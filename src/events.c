/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events - append-only audit rows. */
#include "clock.h"
#include "events.h"

int
events_add(struct db *db, const char *kind, const char *calling_ae,
    const char *called_ae, const char *peer, const char *detail)
{
	static const char sql[] =
	    "INSERT INTO events (at, kind, calling_ae, called_ae, peer, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, clock_now_ms());
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, calling_ae, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, called_ae, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, detail, -1, SQLITE_STATIC);
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}
