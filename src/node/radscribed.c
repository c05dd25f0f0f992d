/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * radscribed - the daemon's main: options, config, DCMTK set-up, start-up
 * recovery (recovery.c), then the threads (the DICOM listener with one
 * thread per association (assoc.c), settler, worker, sender) while main
 * polls the signal pipe and the control socket (control.h).  Nothing else
 * lives here.  Only start-up may call fatal().
 */
#include "config.h"

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

#include "core/clock.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/uid.h"
#include "core/xmem.h"
#include "dicom/dcmbridge.h"
#include "infer/blas.h"
#include "node/assoc.h"
#include "node/control.h"
#include "node/live.h"
#include "node/recovery.h"
#include "node/sender.h"
#include "node/settler.h"
#include "node/worker.h"
#include "store/db.h"
#include "store/qr_index.h"
#include "store/spool.h"

/* Fixed, as Postfix's /etc/postfix: the man pages name these paths. */
#define DEFAULT_CONF "/etc/radscribe/radscribed.conf"

struct app {
	struct conf		 conf;
	const char		**sop_classes;	/* resolved UIDs, NULL-terminated */
	struct spool		*sp;
	struct assoc_ctx	*assoc;		/* the allow lists, swapped on SIGHUP */
	struct settler		*settler;
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

static void *
listener_main(void *arg)
{
	if (dcm_scp_run(arg) == -1)
		log_err("DICOM listener stopped on an error");
	return NULL;
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

/*
 * reload - SIGHUP or `radscribe reload`: allow lists and log level; the
 * rest needs a restart.  0, or -1 with err (the running config is kept).
 */
static int
reload(struct app *app, char *err, size_t errsz)
{
	struct conf nc;
	size_t na, nq;

	if (conf_load(app->conf.path, &nc, err, errsz) == -1) {
		log_err("reload: %s; keeping the running configuration", err);
		return -1;
	}
	if (assoc_set_acl(app->assoc, &nc, err, errsz) == -1) {
		log_err("reload: %s; keeping the running configuration", err);
		conf_fini(&nc);
		return -1;
	}
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
	assoc_acl_counts(app->assoc, &na, &nq);
	log_info("reloaded: %zu allow entries, %zu allow_query entries, "
	    "log_level %s", na, nq, log_level_name(nc.log_level));
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
	settler_wake(app->settler);
}

static int
ctl_reload(void *arg, char *err, size_t errsz)
{
	return reload(arg, err, errsz);
}

static void
ctl_status(void *arg, json_object *o)
{
	struct app *app = arg;
	struct live l = { &app->conf, app->scp, app->worker, app->started_at };

	live_status(&l, o);
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
	static struct dcm_qr_attrs qr_attrs;
	pthread_t listener;
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
	    (app.assoc = assoc_ctx_new(&app.conf, NULL, err, sizeof(err))) == NULL) {
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
	assoc_warn_query(app.assoc);
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
	assoc_set_spool(app.assoc, app.sp);

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
	sp.qr_ops = assoc_qr_ops();
	/* Index rows come from the data set in hand, never a second read. */
	qr_index_attrs_init(&qr_attrs);
	sp.qr_attrs = app.conf.query_images ? &qr_attrs : NULL;
	if ((scp = dcm_scp_new(&sp, assoc_scp_ops(), app.assoc, err,
	    sizeof(err))) == NULL)
		fatal("%s", err);
	app.scp = scp;
	recovery_run(db, app.sp, &app.conf);
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
		wp.spool = app.sp;
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
		pp.retry.min_s = app.conf.send_retry_min;
		pp.retry.max_s = app.conf.send_retry_max;
		pp.retry.max_attempts = app.conf.send_max_attempts;
		pp.retry.max_age_s = app.conf.send_max_age;
		pp.acse_timeout = app.conf.acse_timeout;
		pp.dimse_timeout = app.conf.dimse_timeout;
		pp.spool_dir = app.conf.spool_dir;
		if ((app.sender = sender_start(&pp, err, sizeof(err))) == NULL)
			fatal("%s", err);
	} else
		log_warn("no archive configured: reports are kept, not sent");
	if (worker_start(app.worker, err, sizeof(err)) == -1)
		fatal("%s", err);
	if ((app.settler = settler_start(&app.conf, app.worker, err,
	    sizeof(err))) == NULL)
		fatal("%s", err);
	if (pthread_create(&listener, NULL, listener_main, scp) != 0)
		fatal("cannot start the DICOM listener");
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
	settler_stop(app.settler);
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
	assoc_ctx_free(app.assoc);
	log_info("stopped");
	return 0;
}
