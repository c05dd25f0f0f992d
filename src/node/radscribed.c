/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * radscribed - the daemon's main: options, config, DCMTK set-up, start-up
 * recovery, then the threads (DICOM listener with one thread per
 * association, settler) while main polls the signal pipe and the
 * control socket (control.h).  Only start-up may call fatal().
 */
#include "store/db_sql.h"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/acl.h"
#include "core/clock.h"
#include "core/conf.h"
#include "node/control.h"
#include "store/db.h"
#include "dicom/dcmbridge.h"
#include "dicom/qr.h"
#include "store/events.h"
#include "infer/blas.h"
#include "core/log.h"
#include "core/paths.h"
#include "store/qr_index.h"
#include "store/qr_query.h"
#include "store/queue.h"
#include "node/receive.h"
#include "node/sender.h"
#include "store/settle.h"
#include "store/spool.h"
#include "core/uid.h"
#include "node/worker.h"
#include "core/xmem.h"

/* Fixed, as Postfix's /etc/postfix: the man pages name these paths. */
#define DEFAULT_CONF "/etc/radscribe/radscribed.conf"

struct app {
	struct conf		 conf;
	const char		**sop_classes;	/* resolved UIDs, NULL-terminated */
	struct spool		*sp;
	pthread_rwlock_t	 acl_lock;
	struct acl		*acl;		/* swapped on SIGHUP */
	struct acl		*qacl;		/* allow_query; swapped on SIGHUP */
	atomic_bool		 stop;
	pthread_mutex_t		 mu;
	pthread_cond_t		 wake;
	struct worker		*worker;
	struct sender		*sender;	/* NULL: no archive */
	struct dcm_scp		*scp;
	int64_t			 started_at;	/* ms */
};

/*
 * Signals reach main through a self-pipe.  OpenBLAS starts its threads when
 * the library loads, before main, with nothing blocked, so a signal blocked
 * everywhere else would be delivered there and kill the process; with
 * this handler it only writes its number to the pipe, whatever thread runs it.
 */
static int sig_pipe_w = -1;

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	(void)!write(sig_pipe_w, &c, 1);
	errno = e;
}

static void
cb_queued(void *arg)
{
	struct app *app = arg;

	if (app->sender != NULL)
		sender_wake(app->sender);
}

static void
usage(void)
{
	fprintf(stderr, "usage: radscribed [-dn] [-f file]\n");
	exit(2);
}

/* resolve_sop_classes - config names or UIDs to UIDs; file:line on error. */
static const char **
resolve_sop_classes(const struct conf *c, char *err, size_t errsz)
{
	const char *const *defs = dcm_default_sop_classes();
	const char **out;
	size_t n = 0;

	if (c->nsop_classes == 0) {
		while (defs[n] != NULL)
			n++;
		out = xcalloc(n + 1, sizeof(*out));
		memcpy(out, defs, n * sizeof(*out));
		return out;
	}
	out = xcalloc(c->nsop_classes + 1, sizeof(*out));
	for (size_t i = 0; i < c->nsop_classes; i++)
		if ((out[i] = dcm_sop_class_uid(c->sop_classes[i].value)) == NULL) {
			snprintf(err, errsz, "%s:%d: accept_sop_class: \"%s\" is "
			    "not a known storage SOP class", c->path,
			    c->sop_classes[i].line, c->sop_classes[i].value);
			free(out);
			return NULL;
		}
	return out;
}

/* ---- callbacks from the DICOM bridge (association threads) ---- */

/* One association's context: its own database connection. */
struct assoc {
	struct app	*app;
	struct receive	*rc;
};

/* warn_query_open - Q/R open to every caller is the admin's explicit choice. */
static void
warn_query_open(const struct acl *qacl)
{
	if (acl_open_to_all(qacl))
		log_warn("allow_query = *: any calling AE title may query and "
		    "retrieve reports, which name patients");
}

/*
 * verdict - what the calling AE may do: store (allow) and query and
 * retrieve (allow_query).  It is rejected when it may do none of what it
 * proposed; a proposal of verification only is judged by allow, or by an
 * allow_query line that names it.
 */
static enum dcm_verdict
verdict(struct app *app, const struct dcm_assoc_info *ai, const char **why)
{
	int store_ok, query_ok, listed;

	pthread_rwlock_rdlock(&app->acl_lock);
	store_ok = acl_permits(app->acl, ai->calling_ae, ai->peer);
	query_ok = acl_permits(app->qacl, ai->calling_ae, ai->peer);
	listed = query_ok;
	pthread_rwlock_unlock(&app->acl_lock);
	*why = "calling AE title not allowed";
	if (ai->wants_store || ai->wants_qr) {
		if (!(ai->wants_store && store_ok) && !(ai->wants_qr && query_ok)) {
			if (ai->wants_qr && !ai->wants_store)
				*why = "calling AE title not allowed to query";
			return DCM_REJECT_CALLING;
		}
	} else if (!store_ok && !listed)
		return DCM_REJECT_CALLING;
	if (store_ok && query_ok)
		return DCM_ACCEPT;
	return store_ok ? DCM_ACCEPT_STORE : DCM_ACCEPT_QR;
}

static void *
cb_assoc_open(void *arg, const struct dcm_assoc_info *ai,
    enum dcm_verdict *verdict_out)
{
	struct app *app = arg;
	struct assoc *as;
	struct receive *rc;
	const char *why;
	char err[512];

	*verdict_out = DCM_REJECT_TRANSIENT;
	if ((rc = receive_new(app->sp, app->conf.database, err, sizeof(err))) == NULL) {
		log_err("association from %s (%s) refused: database: %s",
		    ai->calling_ae, ai->peer, err);
		return NULL;
	}
	as = xcalloc(1, sizeof(*as));
	as->app = app;
	as->rc = rc;
	/* Logged only when recorded: both are rate-limited per source. */
	if (!ai->called_ok) {
		if (events_add_limited(receive_db(rc), "assoc-rejected",
		    ai->calling_ae, ai->called_ae, ai->peer,
		    "called AE title not recognized") != 0)
			log_warn("association from %s (%s) refused: called AE "
			    "title %s is not ours", ai->calling_ae, ai->peer,
			    ai->called_ae);
		*verdict_out = DCM_REJECT_CALLED;
		return as;
	}
	*verdict_out = verdict(app, ai, &why);
	if (*verdict_out == DCM_REJECT_CALLING &&
	    events_add_limited(receive_db(rc), "assoc-rejected", ai->calling_ae,
	    ai->called_ae, ai->peer, why) != 0)
		log_warn("association from %s (%s) refused: %s", ai->calling_ae,
		    ai->peer, why);
	return as;
}

static int
cb_tmp_open(void *ctx, char *path, size_t pathsz)
{
	struct assoc *as = ctx;

	return receive_tmp_open(as->rc, path, pathsz);
}

static void
cb_tmp_discard(void *ctx, int fd, const char *path)
{
	(void)ctx;
	spool_tmp_discard(fd, path);
}

static enum dcm_store_rc
cb_store(void *ctx, const struct instance_meta *m, int fd, const char *tmp_path)
{
	struct assoc *as = ctx;

	switch (receive_commit(as->rc, m, fd, tmp_path)) {
	case RECEIVE_OK:
		/* committed: a failure here costs only the query index row */
		if (as->app->conf.query_images &&
		    qr_index_instance(receive_db(as->rc), m->sop_instance_uid) == -1)
			log_warn("sop=%s: not added to the query/retrieve index: %s",
			    m->sop_instance_uid, db_errmsg(receive_db(as->rc)));
		return DCM_STORE_OK;
	case RECEIVE_BAD_UID:
		return DCM_STORE_BAD_UID;
	case RECEIVE_CONFLICT:
		return DCM_STORE_CONFLICT;
	default:
		return DCM_STORE_NO_RESOURCES;
	}
}

static void
cb_assoc_close(void *ctx)
{
	struct assoc *as = ctx;

	if (as == NULL)
		return;
	receive_free(as->rc);
	free(as);
}

static const struct dcm_scp_ops scp_ops = {
	cb_assoc_open, cb_tmp_open, cb_tmp_discard, cb_store, cb_assoc_close
};

static enum dcm_qr_rc
cb_qr_find(void *ctx, const struct dcm_qr_query *q, struct dcm_qr_matches *m,
    char *why, size_t whysz)
{
	struct assoc *as = ctx;

	return qr_query_find(receive_db(as->rc), q, as->app->conf.query_images,
	    (size_t)as->app->conf.max_query_results, m, why, whysz);
}

static enum dcm_qr_rc
cb_qr_retrieve(void *ctx, const struct dcm_qr_query *q,
    struct dcm_qr_file **files, size_t *n, char *why, size_t whysz)
{
	struct assoc *as = ctx;

	return qr_query_retrieve(receive_db(as->rc), q,
	    as->app->conf.query_images, files, n, why, whysz);
}

/* cb_qr_destination - move_destination lines (fixed at start-up). */
static int
cb_qr_destination(void *ctx, const char *ae, char *host, size_t hostsz,
    int *port)
{
	struct assoc *as = ctx;
	const struct conf *c = &as->app->conf;

	for (size_t i = 0; i < c->nmove_dests; i++)
		if (strcmp(c->move_dests[i].ae, ae) == 0) {
			snprintf(host, hostsz, "%s", c->move_dests[i].host);
			*port = c->move_dests[i].port;
			return 0;
		}
	return -1;
}

static const struct dcm_qr_ops qr_ops = {
	cb_qr_find, cb_qr_retrieve, cb_qr_destination
};

/* ---- threads ---- */

static void *
listener_main(void *arg)
{
	if (dcm_scp_run(arg) == -1)
		log_err("DICOM listener stopped on an error");
	return NULL;
}

/* settler_main - studies quiet for settle_time become infer jobs. */
static void *
settler_main(void *arg)
{
	struct app *app = arg;
	struct db *db;
	char err[512];
	struct timespec until;
	int n;

	if ((db = db_open(app->conf.database, DB_EXISTING, err, sizeof(err))) == NULL) {
		log_err("settler: %s", err);
		return NULL;
	}
	while (!atomic_load(&app->stop)) {
		if ((n = settle_run(db, (int64_t)app->conf.settle_time * 1000)) == -1)
			log_warn("settler: %s (will retry)", db_errmsg(db));
		if (n > 0)
			worker_wake(app->worker);
		if (app->conf.redraft == CONF_REDRAFT &&
		    (n = settle_redraft(db, (int64_t)app->conf.settle_time * 1000)) != 0) {
			if (n == -1)
				log_warn("settler: %s (will retry)", db_errmsg(db));
			else
				worker_wake(app->worker);
		}
		/* Wake-ups are hints: the database is polled every second anyway. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&app->mu);
		if (!atomic_load(&app->stop))
			pthread_cond_timedwait(&app->wake, &app->mu, &until);
		pthread_mutex_unlock(&app->mu);
	}
	db_close(db);
	return NULL;
}

/* ---- start-up recovery ---- */

struct reindex {
	struct db	*db;
	int		 indexed, unreadable;
};

static int
reindex_one(void *arg, const char *path)
{
	static const char sql[] =
	    "SELECT path FROM instances WHERE sop_instance_uid = ?1";
	struct reindex *ri = arg;
	struct instance_meta m;
	char uid[INSTANCE_UID_MAX + 8], err[512], held[4096] = "";
	sqlite3_stmt *st;
	struct stat sb;
	int rc;

	if (spool_path_uid(path, uid, sizeof(uid)) == -1)
		snprintf(uid, sizeof(uid), "%s", "");
	if ((st = db_prepare(ri->db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	rc = db_step(ri->db, st);
	if (rc == SQLITE_ROW)
		snprintf(held, sizeof(held), "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (strcmp(held, path) == 0)
		return 0;
	/* A resend renamed beside the file it replaces, whose commit a crash
	 * prevented: never acknowledged, so the indexed file stands. */
	if (held[0] != '\0' && stat(held, &sb) == 0) {
		if (spool_unlink(path) == -1)
			return -1;
		log_info("recovery: removed %s, an unacknowledged resend of "
		    "sop=%s", path, uid);
		return 0;
	}
	/* A file renamed into place whose commit a crash prevented. */
	if (dcm_file_meta(path, &m, err, sizeof(err)) == -1 ||
	    strcmp(m.sop_instance_uid, uid) != 0 || stat(path, &sb) == -1) {
		log_warn("recovery: spool file %s is not a readable instance "
		    "(%s); left in place", path, err);
		events_add(ri->db, "spool-unreadable", NULL, NULL, NULL, path);
		ri->unreadable++;
		return 0;
	}
	snprintf(m.calling_ae, sizeof(m.calling_ae), "%s", "");
	if (receive_index(ri->db, &m, path, (int64_t)sb.st_size, NULL) == -1)
		return -1;
	log_info("recovery: indexed sop=%s study=%s", m.sop_instance_uid,
	    m.study_uid);
	ri->indexed++;
	return 0;
}

/*
 * orphan_reports - a report renamed into spool_dir/reports whose commit a
 * crash prevented: its job was still ACTIVE, so the study is drafted again
 * and this file, never recorded nor sent, is removed.
 */
static int
orphan_reports(struct app *app, struct db *db)
{
	static const char sql[] = "SELECT 1 FROM reports WHERE path = ?1";
	char dir[4096], path[8192];
	struct dirent *de;
	DIR *d;
	int n = 0, rc;

	snprintf(dir, sizeof(dir), "%s/reports", app->conf.spool_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		sqlite3_stmt *st;
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".dcm") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((st = db_prepare(db, sql)) == NULL) {
			n = -1;
			break;
		}
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		rc = db_step(db, st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE && unlink(path) == 0) {
			log_info("recovery: removed unrecorded report %s", path);
			n++;
		} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			n = -1;
			break;
		}
	}
	closedir(d);
	return n;
}

static void
recover(struct app *app, struct db *db)
{
	struct reindex ri = { db, 0, 0 };
	int n;

	if ((n = queue_recover(db)) == -1)
		fatal("recovery: %s", db_errmsg(db));
	if (n > 0)
		log_info("recovery: %d ACTIVE jobs back to INCOMING", n);
	if ((n = spool_clean_tmp(app->sp)) == -1)
		fatal("recovery: cannot clean %s/tmp: %s", spool_dir(app->sp),
		    strerror(errno));
	if (n > 0)
		log_info("recovery: removed %d partial files", n);
	if (orphan_reports(app, db) == -1)
		fatal("recovery: checking %s/reports: %s", app->conf.spool_dir,
		    db_errmsg(db));
	if ((n = qr_index_missing(db, app->conf.query_images)) == -1)
		fatal("recovery: indexing for query/retrieve: %s", db_errmsg(db));
	if (n > 0)
		log_info("recovery: %d report(s)%s added to the query/retrieve "
		    "index", n, app->conf.query_images ? " and instance(s)" : "");
	if (spool_walk(app->sp, reindex_one, &ri) == -1)
		fatal("recovery: re-indexing the spool: %s", db_errmsg(db));
	if (ri.indexed || ri.unreadable)
		log_info("recovery: %d spool files re-indexed, %d unreadable",
		    ri.indexed, ri.unreadable);
}

/*
 * reload - SIGHUP or `radscribe reload`: allow lists and log level; the
 * rest needs a restart.  0, or -1 with err (the running config is kept).
 */
static int
reload(struct app *app, char *err, size_t errsz)
{
	struct conf nc;
	struct acl *acl = NULL, *qacl, *old, *qold;

	if (conf_load(app->conf.path, &nc, err, errsz) == -1) {
		log_err("reload: %s; keeping the running configuration", err);
		return -1;
	}
	if ((acl = acl_new(&nc, err, errsz)) == NULL ||
	    (qacl = acl_new_query(&nc, err, errsz)) == NULL) {
		log_err("reload: %s; keeping the running configuration", err);
		acl_free(acl);
		conf_fini(&nc);
		return -1;
	}
	pthread_rwlock_wrlock(&app->acl_lock);
	old = app->acl;
	qold = app->qacl;
	app->acl = acl;
	app->qacl = qacl;
	pthread_rwlock_unlock(&app->acl_lock);
	acl_free(old);
	acl_free(qold);
	log_set_level(nc.log_level);
	if (strcmp(nc.ae_title, app->conf.ae_title) != 0 ||
	    strcmp(nc.listen_addr, app->conf.listen_addr) != 0 ||
	    nc.listen_port != app->conf.listen_port ||
	    strcmp(nc.spool_dir, app->conf.spool_dir) != 0 ||
	    strcmp(nc.database, app->conf.database) != 0 ||
	    nc.settle_time != app->conf.settle_time ||
	    nc.max_associations != app->conf.max_associations)
		log_warn("reload: settings other than allow, allow_query and "
		    "log_level changed; they take effect at the next restart");
	log_info("reloaded: %zu allow entries, %zu allow_query entries, "
	    "log_level %s", acl_count(acl), acl_count(qacl),
	    log_level_name(nc.log_level));
	warn_query_open(qacl);
	conf_fini(&nc);
	return 0;
}

/* ---- the control socket's requests (main thread) ---- */

static void
ctl_wake(void *arg)
{
	struct app *app = arg;

	worker_wake(app->worker);
	if (app->sender != NULL)
		sender_wake(app->sender);
	pthread_mutex_lock(&app->mu);
	pthread_cond_broadcast(&app->wake);
	pthread_mutex_unlock(&app->mu);
}

static int
ctl_reload(void *arg, char *err, size_t errsz)
{
	return reload(arg, err, errsz);
}

static json_object *
ctl_logged(enum log_level level)
{
	char text[512];
	int64_t at;
	json_object *o;

	if (!log_last(level, text, sizeof(text), &at))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "at_ms", json_object_new_int64(at));
	json_object_object_add(o, "message", json_object_new_string(text));
	return o;
}

static json_object *
ctl_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* ctl_status - what only the running daemon knows; no patient data. */
static void
ctl_status(void *arg, json_object *o)
{
	struct app *app = arg;
	const struct conf *c = &app->conf;
	json_object *models = json_object_new_array(), *d;
	struct worker_model m;
	char study[UID_MAX + 1];
	int64_t since, now = clock_now_ms();

	json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid()));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "started_at_ms", json_object_new_int64(app->started_at));
	json_object_object_add(o, "uptime_s",
	    json_object_new_int64((now - app->started_at) / 1000));
	json_object_object_add(o, "config", json_object_new_string(c->path));
	json_object_object_add(o, "ae_title", json_object_new_string(c->ae_title));
	json_object_object_add(o, "listen_addr", json_object_new_string(c->listen_addr));
	json_object_object_add(o, "listen_port", json_object_new_int(c->listen_port));
	json_object_object_add(o, "associations",
	    json_object_new_int(dcm_scp_active(app->scp)));
	json_object_object_add(o, "archives", json_object_new_int((int)c->narchives));
	json_object_object_add(o, "blas_kernels", json_object_new_string(blas_corename()));
	json_object_object_add(o, "threads", json_object_new_int(c->threads));
	json_object_object_add(o, "log_level",
	    json_object_new_string(log_level_name(log_get_level())));
	for (int i = 0; worker_model(app->worker, i, &m) == 0; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "section", json_object_new_string(m.section));
		json_object_object_add(e, "model", json_object_new_string(m.model));
		json_object_object_add(e, "mmproj", json_object_new_string(m.mmproj));
		json_object_object_add(e, "name", ctl_str(m.name));
		json_object_object_add(e, "version", ctl_str(m.version));
		json_object_object_add(e, "lora", ctl_str(m.lora));
		json_object_object_add(e, "prompt", json_object_new_string(m.prompt));
		json_object_object_add(e, "shared", json_object_new_boolean(m.shared));
		json_object_array_add(models, e);
	}
	json_object_object_add(o, "models", models);
	d = NULL;
	if (worker_drafting(app->worker, study, sizeof(study), &since)) {
		d = json_object_new_object();
		json_object_object_add(d, "study_uid", json_object_new_string(study));
		json_object_object_add(d, "since_ms", json_object_new_int64(since));
	}
	json_object_object_add(o, "drafting", d);
	json_object_object_add(o, "last_error", ctl_logged(LOG_LV_ERR));
	json_object_object_add(o, "last_warning", ctl_logged(LOG_LV_WARN));
}

static const struct control_ops ctl_ops = { ctl_status, ctl_wake, ctl_reload };

int
main(int argc, char *argv[])
{
	static struct app app;
	const char *conf_path = DEFAULT_CONF;
	int ch, foreground = 0, check = 0, sig = 0, left, sp_fds[2];
	char err[1024], blas_why[256], ctl_path[PATHS_MAX];
	struct control *ctl;
	struct pollfd pf[2];
	struct db *db;
	struct dcm_scp *scp;
	struct dcm_scp_params sp;
	pthread_t listener, settler;
	sigset_t sigs;

	while ((ch = getopt(argc, argv, "dnf:")) != -1)
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'f':
			conf_path = optarg;
			break;
		default:
			usage();
		}
	if (optind != argc)
		usage();
	/* Before any matrix is touched: OpenBLAS reads the variable at load. */
	blas_reexec(argv, blas_why, sizeof(blas_why));

	if (conf_load(conf_path, &app.conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "radscribed: %s\n", err);
		return 1;
	}
	if ((app.sop_classes = resolve_sop_classes(&app.conf, err, sizeof(err))) == NULL ||
	    (app.acl = acl_new(&app.conf, err, sizeof(err))) == NULL ||
	    (app.qacl = acl_new_query(&app.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "radscribed: %s\n", err);
		return 1;
	}
	if (control_path(&app.conf, ctl_path, sizeof(ctl_path), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "radscribed: %s: %s\n", app.conf.path, err);
		return 1;
	}
	if (check) {
		conf_print(&app.conf, stdout);
		printf("# storage SOP classes accepted:\n");
		for (const char **u = app.sop_classes; *u; u++)
			printf("#   %s %s\n", *u, dcm_sop_class_name(*u));
		printf("# transfer syntaxes accepted for storage:\n");
		for (const char *const *t = dcm_store_syntaxes(); *t; t++)
			printf("#   %s %s\n", *t, dcm_xfer_name(*t));
		return 0;
	}

	/* The database, spool and reports name patients: nothing for others. */
	umask(027);
	log_init("radscribed", foreground, app.conf.log_level);
	warn_query_open(app.qacl);
	if (blas_why[0] != '\0')
		log_warn("%s: re-exec failed, running slow kernels", blas_why);
	log_info("OpenBLAS kernels: %s%s", blas_corename(),
	    getenv("RADSCRIBE_BLAS_REEXEC") ? " (OPENBLAS_CORETYPE set by "
	    "radscribed)" : "");
	if (dcm_init(err, sizeof(err)) == -1)
		fatal("%s", err);
	/* Decoders before any thread; a syntax we accept but cannot read
	 * would store studies that can never draft. */
	dcm_codecs_init(app.conf.threads);
	dcm_set_decoded_limit((uint64_t)app.conf.max_decoded_size);
	if ((left = dcm_codecs_check(err, sizeof(err))) == -1)
		fatal("codec self-check failed: %s", err);
	log_info("codec self-check: %d transfer syntaxes decoded", left);
	if ((app.sp = spool_open(app.conf.spool_dir, err, sizeof(err))) == NULL)
		fatal("%s", err);
	/* Before recovery: a second daemon on this spool must stop here. */
	if ((ctl = control_open(ctl_path, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if ((db = db_open(app.conf.database, DB_CREATE, err, sizeof(err))) == NULL)
		fatal("database %s", err);
	pthread_rwlock_init(&app.acl_lock, NULL);
	pthread_mutex_init(&app.mu, NULL);
	pthread_cond_init(&app.wake, NULL);

	memset(&sp, 0, sizeof(sp));
	sp.ae_title = app.conf.ae_title;
	sp.listen_addr = app.conf.listen_addr;
	sp.port = app.conf.listen_port;
	sp.max_associations = app.conf.max_associations;
	sp.max_pdu = app.conf.max_pdu;
	sp.acse_timeout = app.conf.acse_timeout;
	sp.dimse_timeout = app.conf.dimse_timeout;
	sp.max_instance_size = (uint64_t)app.conf.max_instance_size;
	sp.sop_classes = app.sop_classes;
	sp.qr_ops = &qr_ops;
	if ((scp = dcm_scp_new(&sp, &scp_ops, &app, err, sizeof(err))) == NULL)
		fatal("%s", err);
	app.scp = scp;
	recover(&app, db);
	{
		struct worker_params wp;
		static char root[UID_ROOT_MAX + 1], b1[PATHS_MAX], b2[PATHS_MAX],
		    b3[PATHS_MAX];
		const char *models = paths_models(b1);

		if (uid_root_load(db, app.conf.uid_root, root, err, sizeof(err)) == -1)
			fatal("%s", err);
		memset(&wp, 0, sizeof(wp));
		wp.conf = &app.conf;
		wp.models_dir = models;
		wp.sr_template = paths_sr_template(&app.conf, b2);
		wp.sr_schema = paths_sr_schema(b3);
		wp.uid_root = root;
		wp.queued = cb_queued;
		wp.arg = &app;
		if ((app.worker = worker_new(&wp, err, sizeof(err))) == NULL)
			fatal("%s", err);
	}
	db_close(db);

	/* Our threads inherit this mask; main unblocks once they run. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pipe(sp_fds) == -1)
		fatal("pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		fcntl(sp_fds[i], F_SETFD, FD_CLOEXEC);
		fcntl(sp_fds[i], F_SETFL, O_NONBLOCK);
	}
	sig_pipe_w = sp_fds[1];
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigfillset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (app.conf.narchives > 0) {
		struct sender_params pp;

		memset(&pp, 0, sizeof(pp));
		pp.database = app.conf.database;
		pp.ae_title = app.conf.ae_title;
		pp.archives = app.conf.archives;
		pp.narchives = app.conf.narchives;
		pp.retry_min = app.conf.send_retry_min;
		pp.retry_max = app.conf.send_retry_max;
		pp.max_age = app.conf.send_max_age;
		pp.acse_timeout = app.conf.acse_timeout;
		pp.dimse_timeout = app.conf.dimse_timeout;
		pp.spool_dir = app.conf.spool_dir;
		if ((app.sender = sender_start(&pp, err, sizeof(err))) == NULL)
			fatal("%s", err);
	} else
		log_warn("no archive configured: reports are kept, not sent");
	if (worker_start(app.worker, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (pthread_create(&listener, NULL, listener_main, scp) != 0 ||
	    pthread_create(&settler, NULL, settler_main, &app) != 0)
		fatal("cannot start threads");
	log_info("radscribed %s listening on %s:%d as %s (settle_time %ds, "
	    "max_associations %d)", PACKAGE_VERSION, app.conf.listen_addr,
	    app.conf.listen_port, app.conf.ae_title, app.conf.settle_time,
	    app.conf.max_associations);

	app.started_at = clock_now_ms();
	log_info("control socket %s", ctl_path);

	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	pf[0].fd = sp_fds[0];
	pf[0].events = POLLIN;
	pf[1].fd = control_fd(ctl);
	pf[1].events = POLLIN;
	while (sig == 0) {
		unsigned char c;

		if (poll(pf, 2, -1) == -1)
			continue;	/* EINTR */
		if (pf[1].revents & POLLIN)
			control_serve(ctl, &ctl_ops, &app);
		while (sig == 0 && read(sp_fds[0], &c, 1) == 1) {
			if (c == SIGHUP)
				(void)reload(&app, err, sizeof(err));
			else
				sig = c;
		}
	}
	/* Gone first: `radscribe status` must not find a daemon that stops. */
	control_close(ctl);
	log_info("signal %d: no new associations; waiting up to %ds for %d "
	    "in progress", sig, app.conf.shutdown_timeout, dcm_scp_active(scp));
	dcm_scp_stop(scp);
	pthread_join(listener, NULL);
	left = dcm_scp_drain(scp, app.conf.shutdown_timeout);
	atomic_store(&app.stop, 1);
	pthread_mutex_lock(&app.mu);
	pthread_cond_broadcast(&app.wake);
	pthread_mutex_unlock(&app.mu);
	pthread_join(settler, NULL);
	worker_stop(app.worker);
	if (app.sender != NULL)
		sender_stop(app.sender);
	if (left > 0) {
		/* Threads still hold DCMTK state: skip destructors and atexit. */
		log_warn("exiting with %d associations still open; their "
		    "unacknowledged instances are not kept", left);
		fflush(NULL);
		_exit(0);
	}
	dcm_scp_free(scp);
	log_info("stopped");
	return 0;
}
