/* SPDX-License-Identifier: GPL-2.0-or-later */
/* acl - allow-list matching on AE title and numeric peer address. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/acl.h"
#include "core/xmem.h"

struct acl_entry {
	char	  ae[CONF_AET_MAX + 1];
	char	**addrs;	/* NULL: any host */
	size_t	  naddrs;
};

struct acl {
	struct acl_entry *e;
	size_t		  n;
	int		  open_if_empty;	/* allow: yes; allow_query: no */
};

static int
resolve(struct acl_entry *e, const char *key, const char *host, char *err,
    size_t errsz)
{
	struct addrinfo hints, *res, *ai;
	char buf[INET6_ADDRSTRLEN];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(err, errsz, "%s: host \"%s\": %s", key, host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf),
		    NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		e->addrs = xrealloc(e->addrs, (e->naddrs + 1) * sizeof(char *));
		e->addrs[e->naddrs++] = xstrdup(buf);
	}
	freeaddrinfo(res);
	return 0;
}

/* build - an acl from the lines of one key. */
static struct acl *
build(const struct conf *conf, const struct conf_allow *allow, size_t n,
    const char *key, char *err, size_t errsz)
{
	struct acl *acl = xcalloc(1, sizeof(*acl));
	char msg[256];

	acl->e = xcalloc(n, sizeof(*acl->e));
	for (size_t i = 0; i < n; i++, acl->n++) {
		snprintf(acl->e[i].ae, sizeof(acl->e[i].ae), "%s", allow[i].ae);
		if (allow[i].host != NULL &&
		    resolve(&acl->e[i], key, allow[i].host, msg, sizeof(msg)) == -1) {
			snprintf(err, errsz, "%s:%d: %s", conf->path,
			    allow[i].line, msg);
			acl->n++;
			acl_free(acl);
			return NULL;
		}
	}
	return acl;
}

struct acl *
acl_new(const struct conf *conf, char *err, size_t errsz)
{
	struct acl *acl = build(conf, conf->allow, conf->nallow, "allow", err,
	    errsz);

	if (acl != NULL)
		acl->open_if_empty = 1;
	return acl;
}

/* acl_new_query - who may query and retrieve: nobody unless a line says */
struct acl *
acl_new_query(const struct conf *conf, char *err, size_t errsz)
{
	return build(conf, conf->allow_query, conf->nallow_query, "allow_query",
	    err, errsz);
}

/* acl_open_to_all - an entry "*" with no host lets any caller in. */
int
acl_open_to_all(const struct acl *acl)
{
	if (acl->n == 0)
		return acl->open_if_empty;
	for (size_t i = 0; i < acl->n; i++)
		if (strcmp(acl->e[i].ae, ACL_ANY) == 0 && acl->e[i].addrs == NULL)
			return 1;
	return 0;
}

void
acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	for (size_t i = 0; i < acl->n; i++) {
		for (size_t j = 0; j < acl->e[i].naddrs; j++)
			free(acl->e[i].addrs[j]);
		free(acl->e[i].addrs);
	}
	free(acl->e);
	free(acl);
}

size_t
acl_count(const struct acl *acl)
{
	return acl->n;
}

/* IPv4-mapped IPv6 peers compare as their IPv4 form. */
static const char *
unmap(const char *ip)
{
	return strncmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.') ? ip + 7 : ip;
}

int
acl_permits(const struct acl *acl, const char *calling_ae, const char *peer_ip)
{
	if (acl->n == 0)
		return acl->open_if_empty;
	for (size_t i = 0; i < acl->n; i++) {
		if (strcmp(acl->e[i].ae, calling_ae) != 0 &&
		    strcmp(acl->e[i].ae, ACL_ANY) != 0)
			continue;
		if (acl->e[i].addrs == NULL)
			return 1;
		for (size_t j = 0; j < acl->e[i].naddrs; j++)
			if (strcmp(unmap(acl->e[i].addrs[j]), unmap(peer_ip)) == 0)
				return 1;
	}
	return 0;
}
