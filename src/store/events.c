/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events - append-only audit rows. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/db_sql.h"
#include "core/clock.h"
#include "store/events.h"

/*
 * Per-source budget of rows for security events, so a loop of refused
 * associations costs bounded disk I/O.  Shared by the association threads
 * under its own lock; the least recently seen source gives its slot up.
 */
#define LIMIT_SLOTS	64
#define LIMIT_WINDOW_MS	60000

static struct slot {
	char	peer[64];
	int64_t	window, last;
	int	used, dropped;
} slots[LIMIT_SLOTS];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;

/* take - a row may be written for peer now; *dropped (OUT): what the last
 * window dropped and the caller should report. */
static int
take(const char *peer, int64_t now, int *dropped)
{
	struct slot *s = NULL, *old = &slots[0];
	int ok;

	*dropped = 0;
	pthread_mutex_lock(&slots_mu);
	for (int i = 0; i < LIMIT_SLOTS; i++) {
		if (strcmp(slots[i].peer, peer) == 0 && slots[i].last != 0) {
			s = &slots[i];
			break;
		}
		if (slots[i].last < old->last)
			old = &slots[i];
	}
	if (s == NULL) {
		s = old;
		memset(s, 0, sizeof(*s));
		snprintf(s->peer, sizeof(s->peer), "%s", peer);
		s->window = now;
	}
	s->last = now;
	if (now - s->window >= LIMIT_WINDOW_MS) {
		*dropped = s->dropped;
		s->window = now;
		s->used = 0;
		s->dropped = 0;
	}
	ok = s->used < EVENTS_PER_MINUTE;
	if (ok)
		s->used++;
	else
		s->dropped++;
	pthread_mutex_unlock(&slots_mu);
	return ok;
}

/* events_add_limited - a security event, at most EVENTS_PER_MINUTE a source */
int
events_add_limited(struct db *db, const char *kind, const char *calling_ae,
    const char *called_ae, const char *peer, const char *detail)
{
	char msg[160];
	int dropped;

	if (!take(peer != NULL ? peer : "", clock_now_ms(), &dropped))
		return 0;
	if (dropped > 0) {
		snprintf(msg, sizeof(msg), "%d %s events from this source not "
		    "recorded (more than %d a minute)", dropped, kind,
		    EVENTS_PER_MINUTE);
		if (events_add(db, "events-dropped", NULL, NULL, peer, msg) == -1)
			return -1;
	}
	return events_add(db, kind, calling_ae, called_ae, peer, detail) == 0 ?
	    1 : -1;
}

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
