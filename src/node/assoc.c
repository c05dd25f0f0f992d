/* SPDX-License-Identifier: GPL-2.0-or-later */
/* assoc - verdicts, C-STORE commits and Q/R look-ups for the bridge. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/log.h"
#include "core/xmem.h"
#include "dicom/qr.h"
#include "node/assoc.h"
#include "node/receive.h"
#include "store/events.h"
#include "store/qr_query.h"

struct assoc_ctx {
	const struct conf	*conf;
	struct spool		*sp;
	pthread_rwlock_t	 acl_lock;
	struct acl		*acl;		/* allow */
	struct acl		*qacl;		/* allow_query */
};

/* warn_query_open - Q/R open to every caller is the admin's explicit choice. */
static void
warn_query_open(const struct acl *qacl)
{
	if (acl_open_to_all(qacl))
		log_warn("allow_query = *: any calling AE title may query and "
		    "retrieve reports, which name patients");
}

struct assoc_ctx *
assoc_ctx_new(const struct conf *conf, struct spool *sp, char *err,
    size_t errsz)
{
	struct assoc_ctx *a = xcalloc(1, sizeof(*a));

	a->conf = conf;
	a->sp = sp;
	if ((a->acl = acl_new(conf, err, errsz)) == NULL ||
	    (a->qacl = acl_new_query(conf, err, errsz)) == NULL) {
		acl_free(a->acl);
		free(a);
		return NULL;
	}
	pthread_rwlock_init(&a->acl_lock, NULL);
	return a;
}

void
assoc_set_spool(struct assoc_ctx *a, struct spool *sp)
{
	a->sp = sp;
}

void
assoc_warn_query(struct assoc_ctx *a)
{
	pthread_rwlock_rdlock(&a->acl_lock);
	warn_query_open(a->qacl);
	pthread_rwlock_unlock(&a->acl_lock);
}

void
assoc_ctx_free(struct assoc_ctx *a)
{
	if (a == NULL)
		return;
	acl_free(a->acl);
	acl_free(a->qacl);
	pthread_rwlock_destroy(&a->acl_lock);
	free(a);
}

int
assoc_set_acl(struct assoc_ctx *a, const struct conf *nc, char *err,
    size_t errsz)
{
	struct acl *acl, *qacl, *old, *qold;

	if ((acl = acl_new(nc, err, errsz)) == NULL)
		return -1;
	if ((qacl = acl_new_query(nc, err, errsz)) == NULL) {
		acl_free(acl);
		return -1;
	}
	pthread_rwlock_wrlock(&a->acl_lock);
	old = a->acl;
	qold = a->qacl;
	a->acl = acl;
	a->qacl = qacl;
	pthread_rwlock_unlock(&a->acl_lock);
	acl_free(old);
	acl_free(qold);
	warn_query_open(qacl);
	return 0;
}

void
assoc_acl_counts(struct assoc_ctx *a, size_t *allow, size_t *allow_query)
{
	pthread_rwlock_rdlock(&a->acl_lock);
	*allow = acl_count(a->acl);
	*allow_query = acl_count(a->qacl);
	pthread_rwlock_unlock(&a->acl_lock);
}

/* One association's context: its own database connection. */
struct assoc {
	struct assoc_ctx	*app;
	struct receive	*rc;
};

/*
 * verdict - what the calling AE may do: store (allow) and query and
 * retrieve (allow_query).  It is rejected when it may do none of what it
 * proposed; a proposal of verification only is judged by allow, or by an
 * allow_query line that names it.
 */
static enum dcm_verdict
verdict(struct assoc_ctx *app, const struct dcm_assoc_info *ai, const char **why)
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
	struct assoc_ctx *app = arg;
	struct assoc *as;
	struct receive *rc;
	const char *why;
	char err[512];

	*verdict_out = DCM_REJECT_TRANSIENT;
	if ((rc = receive_new(app->sp, app->conf->database, err, sizeof(err))) == NULL) {
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

	return qr_query_find(receive_db(as->rc), q, as->app->conf->query_images,
	    (size_t)as->app->conf->max_query_results, m, why, whysz);
}

static enum dcm_qr_rc
cb_qr_retrieve(void *ctx, const struct dcm_qr_query *q,
    struct dcm_qr_file **files, size_t *n, char *why, size_t whysz)
{
	struct assoc *as = ctx;

	return qr_query_retrieve(receive_db(as->rc), q,
	    as->app->conf->query_images, files, n, why, whysz);
}

/* cb_qr_destination - move_destination lines (fixed at start-up). */
static int
cb_qr_destination(void *ctx, const char *ae, char *host, size_t hostsz,
    int *port)
{
	struct assoc *as = ctx;
	const struct conf *c = as->app->conf;

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

const struct dcm_scp_ops *
assoc_scp_ops(void)
{
	return &scp_ops;
}

const struct dcm_qr_ops *
assoc_qr_ops(void)
{
	return &qr_ops;
}
