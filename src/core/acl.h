/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * acl - which calling AE titles (optionally from which hosts) may open an
 * association to store (allow lines) or to query and retrieve
 * (allow_query lines).  Built from the config, host names resolved
 * once at build time.  An acl is immutable; SIGHUP builds a new one and
 * the daemon swaps it under its own lock.
 */
#ifndef RS_ACL_H
#define RS_ACL_H

#include <stddef.h>

#include "core/conf.h"

struct acl;

/* An entry whose AE title is this matches any calling AE title. */
#define ACL_ANY	"*"

/*
 * acl_new - from the allow lines; with none, any caller may store.  NULL
 * with "file:line: message" in err when a host won't resolve.
 */
struct acl *acl_new(const struct conf *conf, char *err, size_t errsz);
/*
 * acl_new_query - the same from the allow_query lines, but closed when
 * there are none: patient data is served only to callers a line names
 * (allow_query = * names them all).
 */
struct acl *acl_new_query(const struct conf *conf, char *err, size_t errsz);
void	acl_free(struct acl *acl);
/* acl_open_to_all - 1 when any calling AE from any host is allowed. */
int	acl_open_to_all(const struct acl *acl);
/* acl_permits - 1 when calling_ae from peer_ip (numeric) is allowed. */
int	acl_permits(const struct acl *acl, const char *calling_ae,
	    const char *peer_ip);
size_t	acl_count(const struct acl *acl);

#endif
