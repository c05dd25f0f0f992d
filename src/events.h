/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * events - the audit trail (table events): security events such as a
 * refused association, and admin actions.  Any thread, own connection.
 */
#ifndef RS_EVENTS_H
#define RS_EVENTS_H

#include "db.h"

/* events_add - one row in its own transaction; any string may be NULL. 0/-1. */
int	events_add(struct db *db, const char *kind, const char *calling_ae,
	    const char *called_ae, const char *peer, const char *detail);

#endif
