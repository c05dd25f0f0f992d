/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * events - the audit trail (table events): security events such as a
 * refused association, and admin actions.  Any thread, own connection.
 */
#ifndef RS_EVENTS_H
#define RS_EVENTS_H

#include "store/db.h"

/* events_add - one row in its own transaction; any string may be NULL. 0/-1. */
int	events_add(struct db *db, const char *kind, const char *calling_ae,
	    const char *called_ae, const char *peer, const char *detail);

/* Security events recorded per source address and minute, at most. */
#define EVENTS_PER_MINUTE	20

/*
 * events_add_limited - events_add for an event a peer can cause at will
 * (a refused association): at most EVENTS_PER_MINUTE rows a minute for one
 * peer address; the rest are counted, and the next row written for that
 * peer after the minute is preceded by an "events-dropped" row with the
 * count.  1 written, 0 dropped (the caller should not log it either), -1
 * on a database error.  Any thread.
 */
int	events_add_limited(struct db *db, const char *kind,
	    const char *calling_ae, const char *called_ae, const char *peer,
	    const char *detail);

#endif
