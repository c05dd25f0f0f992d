/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uid - the UIDs radscribed makes: under the configured uid_root, or a
 * 2.25 root made once from a random UUID (PS3.5 B.2) and kept in the
 * settings table.  uid_make is thread-safe.
 */
#ifndef RS_UID_H
#define RS_UID_H

#include <stddef.h>

#include "store/db.h"

#define UID_MAX		64	/* PS3.5: UI is at most 64 characters */
#define UID_ROOT_MAX	44	/* leaves room for ".<18 digits>" */

/* uid_valid_root - 1 when s is a UID root we can extend (digits, dots). */
int	uid_valid_root(const char *s);
/*
 * uid_root_load - conf_root when set (checked), else the root kept in db,
 * made and stored on first use.  Into out (UID_ROOT_MAX + 1).  0, or -1
 * with err set.  Start-up, main thread.
 */
int	uid_root_load(struct db *db, const char *conf_root, char *out,
	    char *err, size_t errsz);
/* uid_make - a new UID under root into out (UID_MAX + 1 bytes). */
void	uid_make(const char *root, char *out);

#endif
