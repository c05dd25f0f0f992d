/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uid - UID root and UID generation. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/uid.h"

int
uid_valid_root(const char *s)
{
	size_t n = strlen(s);
	int start = 1;

	if (n == 0 || n > UID_ROOT_MAX || s[n - 1] == '.')
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return 0;
			start = 1;
		} else if (*s >= '0' && *s <= '9') {
			if (start && *s == '0' && s[1] != '.' && s[1] != '\0')
				return 0;	/* no leading zero in a component */
			start = 0;
		} else
			return 0;
	}
	return 1;
}

/* make_root - "2.25." and a version 4 UUID as one decimal integer. */
static int
make_root(char *out, size_t outsz)
{
	unsigned char b[16];
	unsigned __int128 v = 0;
	char dig[48];
	int n = 0;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (int i = 0; i < 16; i++)
		v = (v << 8) | b[i];
	do {
		dig[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v != 0);
	if ((size_t)n + 6 > outsz)
		return -1;
	memcpy(out, "2.25.", 5);
	for (int i = 0; i < n; i++)
		out[5 + i] = dig[n - 1 - i];
	out[5 + n] = '\0';
	return 0;
}

int
uid_root_load(struct db *db, const char *conf_root, char *out, char *err,
    size_t errsz)
{
	int rc;

	if (conf_root != NULL) {
		if (!uid_valid_root(conf_root)) {
			snprintf(err, errsz, "uid_root \"%s\" is not a UID root "
			    "(digits and dots, no leading zeros, at most %d "
			    "characters)", conf_root, UID_ROOT_MAX);
			return -1;
		}
		snprintf(out, UID_ROOT_MAX + 1, "%s", conf_root);
		return 0;
	}
	if ((rc = db_setting_get(db, "uid_root", out, UID_ROOT_MAX + 1)) == 1)
		return 0;
	if (rc == -1)
		goto dberr;
	if (make_root(out, UID_ROOT_MAX + 1) == -1) {
		snprintf(err, errsz, "uid_root: no random bytes for a UUID");
		return -1;
	}
	if (db_setting_put(db, "uid_root", out) == -1)
		goto dberr;
	log_info("uid_root: made %s (kept in the database)", out);
	return 0;
dberr:
	snprintf(err, errsz, "uid_root: database: %s", db_errmsg(db));
	return -1;
}

void
uid_make(const char *root, char *out)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last;
	uint64_t v;

	/* Milliseconds times 1000 plus a sequence: unique and increasing. */
	pthread_mutex_lock(&mu);
	v = (uint64_t)clock_now_ms() * 1000;
	if (v <= last)
		v = last + 1;
	last = v;
	pthread_mutex_unlock(&mu);
	snprintf(out, UID_MAX + 1, "%s.%llu", root, (unsigned long long)v);
}
