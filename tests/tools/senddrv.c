/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * senddrv - drives the sender (src/node/sender.c) without the rest of the
 * daemon, for tests/e2e/deliver.sh.  It creates or migrates the database,
 * runs sender_start, waits until a condition holds or a timeout passes,
 * then sender_stop, and prints how long the stop took.  The test puts the
 * studies, reports, deliveries and jobs rows in with sqlite3 itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/db_sql.h"
#include "core/clock.h"
#include "core/conf.h"
#include "store/db.h"
#include "dicom/dcmbridge.h"
#include "core/log.h"
#include "node/sender.h"
#include "core/xmem.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: senddrv -d db [-cv] [-e aet] [-a name=AET@host:port]...\n"
	    "         [-r min:max] [-m max_age] [-t acse:dimse] [-s spool]\n"
	    "         [-u idle|final|SECONDS] [-T timeout]\n"
	    "  -c      create or migrate the database, then exit\n"
	    "  -u idle   until no send job is INCOMING, ACTIVE or due\n"
	    "  -u final  until every send job is DONE, FAILED or HOLD\n"
	    "  -u N      for N seconds (default: idle)\n"
	    "  -T      give up waiting after so many s (default 60): exit 3\n"
	    "Prints \"stop_ms=N\" (time sender_stop took) on stdout.\n");
	exit(2);
}

static int64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* parse_archive - "name=AET@host:port" into a (strings malloc'd). */
static int
parse_archive(const char *spec, struct conf_archive *a)
{
	const char *eq = strchr(spec, '='), *at, *colon;
	char *end;
	long port;

	if (eq == NULL || (at = strchr(eq, '@')) == NULL ||
	    (colon = strrchr(at, ':')) == NULL)
		return -1;
	if (eq == spec || at - eq - 1 < 1 || at - eq - 1 > CONF_AET_MAX ||
	    colon - at - 1 < 1)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	memset(a, 0, sizeof(*a));
	a->name = xmalloc((size_t)(eq - spec) + 1);
	memcpy(a->name, spec, (size_t)(eq - spec));
	a->name[eq - spec] = '\0';
	memcpy(a->ae, eq + 1, (size_t)(at - eq - 1));
	a->ae[at - eq - 1] = '\0';
	a->host = xmalloc((size_t)(colon - at));
	memcpy(a->host, at + 1, (size_t)(colon - at - 1));
	a->host[colon - at - 1] = '\0';
	a->port = (int)port;
	return 0;
}

/* count - one integer from sql; -1 on error. */
static long
count(struct db *db, const char *sql)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	long n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, clock_now_ms());
	if (db_step(db, st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int
main(int argc, char *argv[])
{
	static const char idle_sql[] =
	    "SELECT count(*) FROM jobs WHERE stage = 'send' AND"
	    " (state IN ('INCOMING', 'ACTIVE')"
	    "  OR (state = 'DEFERRED' AND next_try <= ?1))";
	static const char final_sql[] =
	    "SELECT count(*) FROM jobs WHERE stage = 'send' AND"
	    " state NOT IN ('DONE', 'FAILED', 'HOLD')";
	struct sender_params p;
	struct conf_archive *archives = NULL;
	size_t narchives = 0;
	const char *dbpath = NULL, *until = "idle";
	char err[1024];
	struct db *db;
	struct sender *s;
	int ch, create = 0, verbose = 0, timeout = 60, rc = 0, seconds = -1;
	int64_t t0, stop0, stop_ms;

	memset(&p, 0, sizeof(p));
	p.ae_title = "RADSCRIBE";
	p.retry.min_s = 10;
	p.retry.max_s = 600;
	p.retry.max_age_s = 259200;
	p.acse_timeout = 10;
	p.dimse_timeout = 10;
	while ((ch = getopt(argc, argv, "a:cd:e:m:r:s:t:T:u:v")) != -1)
		switch (ch) {
		case 'a':
			archives = xrealloc(archives,
			    (narchives + 1) * sizeof(*archives));
			if (parse_archive(optarg, &archives[narchives]) == -1) {
				fprintf(stderr, "senddrv: bad archive %s\n",
				    optarg);
				usage();
			}
			narchives++;
			break;
		case 'c':
			create = 1;
			break;
		case 'd':
			dbpath = optarg;
			break;
		case 'e':
			p.ae_title = optarg;
			break;
		case 'm':
			p.retry.max_age_s = atoi(optarg);
			break;
		case 'r':
			if (sscanf(optarg, "%d:%d", &p.retry.min_s,
			    &p.retry.max_s) != 2)
				usage();
			break;
		case 's':
			p.spool_dir = optarg;
			break;
		case 't':
			if (sscanf(optarg, "%d:%d", &p.acse_timeout,
			    &p.dimse_timeout) != 2)
				usage();
			break;
		case 'T':
			timeout = atoi(optarg);
			break;
		case 'u':
			until = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	if (dbpath == NULL || optind != argc)
		usage();
	if (strcmp(until, "idle") != 0 && strcmp(until, "final") != 0 &&
	    (seconds = atoi(until)) <= 0)
		usage();

	log_init("senddrv", 1, verbose ? LOG_LV_DEBUG : LOG_LV_INFO);
	if (dcm_init(err, sizeof(err)) == -1)
		fatal("%s", err);
	if ((db = db_open(dbpath, DB_CREATE, err, sizeof(err))) == NULL)
		fatal("database %s", err);
	if (create) {
		db_close(db);
		return 0;
	}
	p.database = dbpath;
	p.archives = archives;
	p.narchives = narchives;
	if ((s = sender_start(&p, err, sizeof(err))) == NULL)
		fatal("%s", err);
	/* The parameters were copied: prove it by freeing ours now. */
	for (size_t i = 0; i < narchives; i++) {
		free(archives[i].name);
		free(archives[i].host);
	}
	free(archives);
	sender_wake(s);

	t0 = mono_ms();
	for (;;) {
		int64_t el = mono_ms() - t0;

		if (seconds > 0) {
			if (el >= (int64_t)seconds * 1000)
				break;
		} else {
			long n = count(db, strcmp(until, "idle") == 0 ?
			    idle_sql : final_sql);

			if (n == 0)
				break;
			if (el >= (int64_t)timeout * 1000) {
				log_warn("senddrv: condition \"%s\" not met "
				    "within %d s", until, timeout);
				rc = 3;
				break;
			}
		}
		usleep(50000);
	}
	stop0 = mono_ms();
	sender_stop(s);
	stop_ms = mono_ms() - stop0;
	printf("stop_ms=%lld\n", (long long)stop_ms);
	db_close(db);
	return rc;
}
