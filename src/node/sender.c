/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sender - the send stage's thread.  It alone uses its database connection:
 * it claims 'send' jobs, C-STOREs the study's latest report to each
 * configured archive that has not accepted it, and records every outcome.
 * No transaction is held across network I/O.  deliveries.accepted_at is
 * set here and nowhere else, and only after the archive answered with a
 * success or warning status.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/db.h"
#include "dicom/dcmbridge.h"
#include "dicom/scu.h"
#include "core/log.h"
#include "store/queue.h"
#include "store/reports.h"
#include "node/sender.h"
#include "core/xmem.h"

#define SENDER_POLL_MS	3000	/* idle poll, besides wake-ups and next_try */
#define SENDER_ERRSZ	512
#define SENDER_TRIES	3	/* database writes that must not be lost */

struct sender {
	/* copies of the parameters, read-only while the thread runs */
	char			*database;
	char			 ae_title[CONF_AET_MAX + 1];
	struct conf_archive	*archives;
	size_t			 narchives;
	char			*spool_dir;
	struct queue_retry	 retry;
	int			 acse_timeout, dimse_timeout;

	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* on CLOCK_MONOTONIC */
	int			 woken;		/* under mu */
	int			 started;	/* under mu: 1 ok, -1 failed */
	char			 start_err[SENDER_ERRSZ];
	atomic_bool		 stop;
	struct db		*db;		/* the thread's own */
};

/* The report a pass delivers. */
struct report {
	int64_t		 id;
	int64_t		 created_at;
	char		 study_uid[65];
	char		 uid[65];
	char		 path[4096];
};

/* What one pass saw; decides the job's next state. */
struct pass {
	int		 failed;	/* deliveries refused or not answered */
	int		 dberr;		/* an outcome could not be recorded */
	int		 permanent;	/* the report itself is unusable */
	int		 interrupted;	/* sender_stop cut the pass short */
	char		 err[SENDER_ERRSZ];	/* for jobs.last_error */
};

static void	pass_error(struct pass *ps, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
static void	textf(char *buf, size_t sz, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* textf - snprintf for messages, where truncation is acceptable. */
static void
textf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

/* pass_error - append "; text" to the job's error, truncated if need be. */
static void
pass_error(struct pass *ps, const char *fmt, ...)
{
	size_t n = strlen(ps->err);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(ps->err)) {
		memcpy(ps->err + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= sizeof(ps->err))
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, sizeof(ps->err) - n, fmt, ap);
	va_end(ap);
}

static const struct conf_archive *
archive_find(const struct sender *s, const char *name)
{
	for (size_t i = 0; i < s->narchives; i++)
		if (strcmp(s->archives[i].name, name) == 0)
			return &s->archives[i];
	return NULL;
}

/*
 * load_report - the study's latest report.  1 found, 0 none (r->study_uid
 * still set when the study exists), -1 on a database error.
 */
static int
load_report(struct sender *s, int64_t study_id, struct report *r)
{
	struct reports_current cur;
	int found, n;

	memset(r, 0, sizeof(*r));
	found = reports_current(s->db, study_id, &cur);
	snprintf(r->study_uid, sizeof(r->study_uid), "%s", cur.study_uid);
	if (found != 1)
		return found;
	r->id = cur.id;
	snprintf(r->uid, sizeof(r->uid), "%s", cur.sop_instance_uid);
	if (cur.path[0] != '/' && s->spool_dir != NULL)
		n = snprintf(r->path, sizeof(r->path), "%s/%s", s->spool_dir,
		    cur.path);
	else
		n = snprintf(r->path, sizeof(r->path), "%s", cur.path);
	if (n < 0 || (size_t)n >= sizeof(r->path))
		r->path[0] = '\0';	/* too long: reported as unreadable */
	r->created_at = cur.created_at;
	return 1;
}

/* latest_id - id of the study's latest report, 0 when none, -1 on error. */
static int64_t
latest_id(struct sender *s, int64_t study_id)
{
	struct report r;

	switch (load_report(s, study_id, &r)) {
	case 1:
		return r.id;
	case 0:
		return 0;
	default:
		return -1;
	}
}

/*
 * pending - how many configured archives have not accepted report_id;
 * their names, comma-separated, in names (may be NULL).  -1 on error.
 */
static int
pending(struct sender *s, int64_t report_id, char *names, size_t namesz)
{
	int n = 0, rc;

	if (names != NULL && namesz > 0)
		names[0] = '\0';
	for (size_t i = 0; i < s->narchives; i++) {
		if ((rc = reports_accepted(s->db, report_id,
		    s->archives[i].name)) == 1)
			continue;
		if (rc == -1)
			return -1;
		if (names != NULL) {
			size_t len = strlen(names);

			snprintf(names + len, namesz - len, "%s%s",
			    n ? "," : "", s->archives[i].name);
		}
		n++;
	}
	return n;
}

/*
 * ensure_rows - a deliveries row for the report and every configured
 * archive (the worker may have made them already).  0, or -1.
 */
static int
ensure_rows(struct sender *s, int64_t report_id)
{
	if (s->narchives == 0)
		return 0;
	if (db_begin(s->db) == -1)
		return -1;
	for (size_t i = 0; i < s->narchives; i++)
		if (reports_delivery_ensure(s->db, report_id,
		    s->archives[i].name) == -1)
			goto fail;
	return db_commit(s->db);
fail:
	db_rollback(s->db);
	return -1;
}

struct delivery {
	int64_t			 id;
	const struct conf_archive *archive;
};

struct pending_walk {
	struct sender		*s;
	const struct queue_job	*job;
	const struct report	*r;
	struct delivery		*d;
	int			 n;
};

static int
pending_one(void *arg, int64_t id, const char *name)
{
	struct pending_walk *pw = arg;
	const struct conf_archive *a = archive_find(pw->s, name);

	if (a == NULL) {
		log_warn("J%lld: send: study=%s report=%s archive=%s "
		    "skipped: archive no longer configured",
		    (long long)pw->job->id, pw->r->study_uid, pw->r->uid, name);
		return 0;
	}
	pw->d = xrealloc(pw->d, (size_t)(pw->n + 1) * sizeof(*pw->d));
	pw->d[pw->n].id = id;
	pw->d[pw->n].archive = a;
	pw->n++;
	return 0;
}

/*
 * load_pending - the report's deliveries not yet accepted, for configured
 * archives; rows for others are logged and left alone.  *out (OUT) is
 * the caller's to free().  Count, or -1.
 */
static int
load_pending(struct sender *s, const struct queue_job *job,
    const struct report *r, struct delivery **out)
{
	struct pending_walk pw = { s, job, r, NULL, 0 };

	*out = NULL;
	if (reports_pending(s->db, r->id, pending_one, &pw) == -1) {
		free(pw.d);
		return -1;
	}
	*out = pw.d;
	return pw.n;
}

/*
 * record - one delivery's outcome.  accepted: the archive's status was
 * success or warning.  status < 0: no status came.  Tried SENDER_TRIES
 * times (busy database); 0, or -1.
 */
static int
record(struct sender *s, int64_t delivery_id, int accepted, long status,
    const char *err)
{
	for (int i = 0; i < SENDER_TRIES; i++)
		if (reports_delivery_outcome(s->db, delivery_id, accepted,
		    status, err) == 0)
			return 0;
	return -1;
}

/* send_one - C-STORE the report to one archive and record the outcome. */
static void
send_one(struct sender *s, const struct queue_job *job,
    const struct report *r, const struct delivery *d, struct pass *ps)
{
	const struct conf_archive *a = d->archive;
	struct dcm_scu_peer peer = {
		s->ae_title, a->ae, a->host, a->port, s->acse_timeout,
		s->dimse_timeout
	};
	struct dcm_scu_result res;
	char why[SENDER_ERRSZ] = "";
	int accepted = 0;

	log_debug("J%lld: send: study=%s report=%s archive=%s (%s@%s:%d)",
	    (long long)job->id, r->study_uid, r->uid, a->name, a->ae, a->host,
	    a->port);
	dcm_scu_store(&peer, r->path, &res);
	if (res.rc == DCM_SCU_STATUS) {
		switch (dcm_status_class(res.status)) {
		case DCM_STATUS_SUCCESS:
			accepted = 1;
			log_info("J%lld: send: study=%s report=%s archive=%s "
			    "status=0x%04X accepted", (long long)job->id,
			    r->study_uid, r->uid, a->name, res.status);
			break;
		case DCM_STATUS_WARNING:
			accepted = 1;
			snprintf(why, sizeof(why), "warning 0x%04X (%s)%s%s",
			    res.status, dcm_status_text(res.status),
			    res.comment[0] ? ": " : "", res.comment);
			log_warn("J%lld: send: study=%s report=%s archive=%s "
			    "status=0x%04X accepted with a warning: %s",
			    (long long)job->id, r->study_uid, r->uid, a->name,
			    res.status, why);
			break;
		case DCM_STATUS_FAILURE:
			snprintf(why, sizeof(why), "status 0x%04X (%s)%s%s",
			    res.status, dcm_status_text(res.status),
			    res.comment[0] ? ": " : "", res.comment);
			log_warn("J%lld: send: study=%s report=%s archive=%s "
			    "status=0x%04X refused: %s", (long long)job->id,
			    r->study_uid, r->uid, a->name, res.status, why);
			break;
		}
	} else {
		snprintf(why, sizeof(why), "%s: %s", dcm_scu_rc_name(res.rc),
		    res.detail);
		log_warn("J%lld: send: study=%s report=%s archive=%s "
		    "not delivered: %s", (long long)job->id, r->study_uid,
		    r->uid, a->name, why);
		if (res.rc == DCM_SCU_FILE)
			ps->permanent = 1;
	}
	if (!accepted) {
		ps->failed++;
		pass_error(ps, "%s: %s", a->name, why);
	}
	if (record(s, d->id, accepted, res.rc == DCM_SCU_STATUS ?
	    (long)res.status : -1, why[0] ? why : NULL) == -1) {
		ps->dberr = 1;
		if (accepted) {
			log_err("J%lld: send: study=%s report=%s archive=%s "
			    "accepted the report but the database cannot "
			    "record it (%s); it will be sent again",
			    (long long)job->id, r->study_uid, r->uid, a->name,
			    db_errmsg(s->db));
			pass_error(ps, "%s: accepted, not recorded: %s",
			    a->name, db_errmsg(s->db));
		} else
			log_err("J%lld: send: cannot record the outcome for "
			    "archive %s: %s", (long long)job->id, a->name,
			    db_errmsg(s->db));
	}
}

/*
 * check_file - the report file must hold the report the row names, so an
 * archive's success is about the right object.  0, or -1 with ps set.
 */
static int
check_file(const struct queue_job *job, const struct report *r,
    struct pass *ps)
{
	struct instance_meta m;
	char err[SENDER_ERRSZ];

	if (r->path[0] == '\0') {
		snprintf(err, sizeof(err), "report path empty or too long");
	} else if (dcm_file_meta(r->path, &m, err, sizeof(err)) == 0) {
		if (strcmp(m.sop_instance_uid, r->uid) == 0 &&
		    strcmp(m.study_uid, r->study_uid) == 0)
			return 0;
		textf(err, sizeof(err), "%s holds SOP Instance UID %s of "
		    "study %s, not the report's", r->path, m.sop_instance_uid,
		    m.study_uid);
	}
	log_err("J%lld: send: study=%s report=%s: report file unusable: %s",
	    (long long)job->id, r->study_uid, r->uid, err);
	ps->permanent = 1;
	pass_error(ps, "report file unusable: %s", err);
	return -1;
}

/*
 * decide - the job's next state, as one transaction that also reads the
 * deliveries, so a report the worker commits meanwhile is either seen
 * here or finds the job already DONE.
 */
static enum queue_rc
decide(struct sender *s, const struct queue_job *job, const struct report *r,
    int have_report, struct pass *ps)
{
	char names[SENDER_ERRSZ], msg[SENDER_ERRSZ + 128];
	int64_t latest, now = clock_now_ms();
	enum queue_rc rc;
	int np;

	if (db_begin(s->db) == -1)
		return QUEUE_DBERR;
	if ((latest = latest_id(s, job->study_id)) == -1)
		goto dberr;
	if (!have_report || (latest != 0 && latest != r->id)) {
		/* Drafted while we worked: deliver the new report next. */
		if (latest == 0) {
			rc = queue_transition(s->db, job->id, QUEUE_ACTIVE,
			    QUEUE_FAILED, "no report for this study");
			log_err("J%lld: send: study=%s: no report to send",
			    (long long)job->id, r->study_uid);
		} else if ((np = pending(s, latest, NULL, 0)) == -1)
			goto dberr;
		else if (np > 0) {
			rc = queue_transition(s->db, job->id, QUEUE_ACTIVE,
			    QUEUE_INCOMING, NULL);
			log_info("J%lld: send: a newer report of the study "
			    "awaits delivery", (long long)job->id);
		} else
			rc = queue_transition(s->db, job->id, QUEUE_ACTIVE,
			    QUEUE_DONE, NULL);
		goto out;
	}
	if ((np = pending(s, r->id, names, sizeof(names))) == -1)
		goto dberr;
	if (np == 0) {
		rc = queue_transition(s->db, job->id, QUEUE_ACTIVE, QUEUE_DONE,
		    NULL);
		if (rc == QUEUE_OK && s->narchives == 0)
			log_info("J%lld: send: study=%s report=%s: no archive "
			    "configured, nothing to send", (long long)job->id,
			    r->study_uid, r->uid);
		else if (rc == QUEUE_OK)
			log_info("J%lld: send: study=%s report=%s delivered "
			    "to all %zu archives", (long long)job->id,
			    r->study_uid, r->uid, s->narchives);
	} else if (ps->permanent) {
		rc = queue_finish(s->db, job, QUEUE_OUT_REJECT, &s->retry, 0,
		    ps->err, NULL);
	} else if (ps->failed || ps->dberr) {
		/* A report's age counts from when it was made, not the job. */
		switch (queue_retry_spent(&s->retry, job, r->created_at, now)) {
		case QUEUE_SPENT_AGE:
			textf(msg, sizeof(msg), "not accepted by %s within "
			    "max_age (%d s): %s", names, s->retry.max_age_s,
			    ps->err);
			break;
		case QUEUE_SPENT_ATTEMPTS:
			textf(msg, sizeof(msg), "not accepted by %s in %d "
			    "attempts: %s", names, job->attempts, ps->err);
			break;
		case QUEUE_SPENT_NO:
			msg[0] = '\0';
			break;
		}
		rc = queue_finish(s->db, job, msg[0] ? QUEUE_OUT_REJECT :
		    QUEUE_OUT_DEFER, &s->retry, r->created_at,
		    msg[0] ? msg : ps->err, NULL);
		if (rc == QUEUE_OK && msg[0])
			log_err("J%lld: send: study=%s report=%s FAILED: %s",
			    (long long)job->id, r->study_uid, r->uid, msg);
	} else if (ps->interrupted) {
		rc = queue_transition(s->db, job->id, QUEUE_ACTIVE,
		    QUEUE_INCOMING, NULL);
	} else {
		/* Nothing failed yet some are pending: never spin on it. */
		snprintf(msg, sizeof(msg), "deliveries to %s still pending",
		    names);
		rc = queue_finish(s->db, job, QUEUE_OUT_DEFER, &s->retry,
		    r->created_at, msg, NULL);
	}
out:
	if (rc == QUEUE_DBERR)
		goto dberr;
	if (db_commit(s->db) == -1)
		return QUEUE_DBERR;
	if (rc == QUEUE_LOST)
		log_info("J%lld: send: the job left ACTIVE meanwhile (an "
		    "admin or the worker moved it); left as it is",
		    (long long)job->id);
	return rc;
dberr:
	db_rollback(s->db);
	return QUEUE_DBERR;
}

/* run_job - one claimed job: deliver, then decide its state. */
static void
run_job(struct sender *s, const struct queue_job *job)
{
	struct report r;
	struct delivery *d = NULL;
	struct pass ps;
	int n = 0, found;

	memset(&ps, 0, sizeof(ps));
	if ((found = load_report(s, job->study_id, &r)) == -1) {
		/* Not even the report could be read: try again later. */
		snprintf(ps.err, sizeof(ps.err), "database: %s",
		    db_errmsg(s->db));
		log_warn("J%lld: send: %s", (long long)job->id, ps.err);
		if (queue_finish(s->db, job, QUEUE_OUT_DEFER, &s->retry,
		    clock_now_ms(), ps.err, NULL) == QUEUE_DBERR)
			log_err("J%lld: send: %s; the job stays ACTIVE until "
			    "restart", (long long)job->id, db_errmsg(s->db));
		return;
	}
	if (found == 1 && s->narchives > 0 && check_file(job, &r, &ps) == 0) {
		if (ensure_rows(s, r.id) == -1 ||
		    (n = load_pending(s, job, &r, &d)) == -1) {
			ps.dberr = 1;
			pass_error(&ps, "database: %s", db_errmsg(s->db));
			n = 0;
		}
	}
	for (int i = 0; i < n && !ps.permanent; i++) {
		if (atomic_load(&s->stop)) {
			ps.interrupted = 1;
			break;
		}
		send_one(s, job, &r, &d[i], &ps);
	}
	free(d);
	for (int i = 0; i < SENDER_TRIES; i++) {
		if (decide(s, job, &r, found == 1, &ps) != QUEUE_DBERR)
			return;
		log_warn("J%lld: send: cannot update the job: %s%s",
		    (long long)job->id, db_errmsg(s->db),
		    i + 1 < SENDER_TRIES ? " (will retry)" : "");
	}
	log_err("J%lld: send: the job stays ACTIVE until restart",
	    (long long)job->id);
}

/* next_due_ms - earliest next_try of a deferred send job; 0 when none. */
static int64_t
next_due_ms(struct sender *s)
{
	int64_t due;

	return queue_next_due(s->db, QUEUE_SEND, &due) == 0 ? due : 0;
}

/* idle - wait for sender_wake, sender_stop or delay_ms. */
static void
idle(struct sender *s, int64_t delay_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += delay_ms / 1000;
	until.tv_nsec += (long)(delay_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->woken && !atomic_load(&s->stop))
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0)
			break;
	s->woken = 0;
	pthread_mutex_unlock(&s->mu);
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct queue_job job;
	int64_t delay, due;
	int n;

	s->db = db_open(s->database, DB_EXISTING, s->start_err,
	    sizeof(s->start_err));
	pthread_mutex_lock(&s->mu);
	s->started = s->db != NULL ? 1 : -1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->db == NULL)
		return NULL;
	log_info("sender: started, %zu archive%s, retry %d..%d s, max_age %d s",
	    s->narchives, s->narchives == 1 ? "" : "s", s->retry.min_s,
	    s->retry.max_s, s->retry.max_age_s);
	while (!atomic_load(&s->stop)) {
		n = queue_claim(s->db, QUEUE_SEND, &job);
		if (n == 1) {
			run_job(s, &job);
			continue;
		}
		delay = SENDER_POLL_MS;
		if (n == -1)
			log_warn("sender: cannot claim a job: %s (will retry)",
			    db_errmsg(s->db));
		else if ((due = next_due_ms(s)) > 0) {
			due -= clock_now_ms();
			if (due < delay)
				delay = due < 10 ? 10 : due;
		}
		idle(s, delay);
	}
	db_close(s->db);
	s->db = NULL;
	log_info("sender: stopped");
	return NULL;
}

static void
sender_free(struct sender *s)
{
	for (size_t i = 0; i < s->narchives; i++) {
		free(s->archives[i].name);
		free(s->archives[i].host);
	}
	free(s->archives);
	free(s->database);
	free(s->spool_dir);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

/* sender_start - copy the parameters, start the thread, wait for its db */
struct sender *
sender_start(const struct sender_params *p, char *err, size_t errsz)
{
	struct sender *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if (snprintf(s->ae_title, sizeof(s->ae_title), "%s", p->ae_title) >=
	    (int)sizeof(s->ae_title)) {
		snprintf(err, errsz, "sender: AE title %s is too long",
		    p->ae_title);
		free(s);
		return NULL;
	}
	s->database = xstrdup(p->database);
	s->spool_dir = p->spool_dir ? xstrdup(p->spool_dir) : NULL;
	s->narchives = p->narchives;
	s->archives = xcalloc(p->narchives ? p->narchives : 1,
	    sizeof(*s->archives));
	for (size_t i = 0; i < p->narchives; i++) {
		s->archives[i] = p->archives[i];
		s->archives[i].name = xstrdup(p->archives[i].name);
		s->archives[i].host = xstrdup(p->archives[i].host);
	}
	s->retry = p->retry;
	s->acse_timeout = p->acse_timeout;
	s->dimse_timeout = p->dimse_timeout;
	atomic_init(&s->stop, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);

	/* Signals belong to main's sigwait. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&s->thread, NULL, sender_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errsz, "sender: cannot start the thread: %s",
		    strerror(rc));
		sender_free(s);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	while (s->started == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->started == -1) {
		pthread_join(s->thread, NULL);
		snprintf(err, errsz, "sender: %s", s->start_err);
		sender_free(s);
		return NULL;
	}
	return s;
}

/* sender_wake - a hint that a send job may be waiting */
void
sender_wake(struct sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->woken = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* sender_stop - stop after the C-STORE in progress, join, free */
void
sender_stop(struct sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, 1);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	sender_free(s);
}
