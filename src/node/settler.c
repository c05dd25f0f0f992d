/* SPDX-License-Identifier: GPL-2.0-or-later */
/* settler - the settle and redraft passes, once a second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/xmem.h"
#include "node/settler.h"
#include "store/db.h"
#include "store/settle.h"

struct settler {
	const struct conf	*conf;
	struct worker		*worker;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 kick;		/* under mu */
	atomic_bool		 stop;
	struct db		*db;		/* the thread's own */
};

static void *
run(void *arg)
{
	struct settler *s = arg;
	int64_t settle_ms = (int64_t)s->conf->settle_time * 1000;
	struct timespec until;
	char err[512];
	int n;

	/* The thread's own connection (STYLE.md 6). */
	if ((s->db = db_open(s->conf->database, DB_EXISTING, err,
	    sizeof(err))) == NULL) {
		log_err("settler: %s", err);
		return NULL;
	}
	while (!atomic_load(&s->stop)) {
		if ((n = settle_run(s->db, settle_ms)) == -1)
			log_warn("settler: %s (will retry)", db_errmsg(s->db));
		if (n > 0)
			worker_wake(s->worker);
		if (s->conf->redraft == CONF_REDRAFT &&
		    (n = settle_redraft(s->db, settle_ms)) != 0) {
			if (n == -1)
				log_warn("settler: %s (will retry)",
				    db_errmsg(s->db));
			else
				worker_wake(s->worker);
		}
		/* Wake-ups are hints: the database is polled every second anyway. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&s->mu);
		if (!s->kick && !atomic_load(&s->stop))
			pthread_cond_timedwait(&s->cv, &s->mu, &until);
		s->kick = 0;
		pthread_mutex_unlock(&s->mu);
	}
	db_close(s->db);
	return NULL;
}

struct settler *
settler_start(const struct conf *conf, struct worker *w, char *err,
    size_t errsz)
{
	struct settler *s = xcalloc(1, sizeof(*s));

	s->conf = conf;
	s->worker = w;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		snprintf(err, errsz, "settler: cannot start its thread");
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return NULL;
	}
	return s;
}

void
settler_wake(struct settler *s)
{
	pthread_mutex_lock(&s->mu);
	s->kick = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
settler_stop(struct settler *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, 1);
	settler_wake(s);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
