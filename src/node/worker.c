/* SPDX-License-Identifier: GPL-2.0-or-later */
/* worker - from a settled study to a queued Structured Report. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/db.h"
#include "dicom/dcmbridge.h"
#include "dicom/qr.h"
#include "dicom/sr.h"
#include "infer/image.h"
#include "infer/pipeline.h"
#include "core/log.h"
#include "store/qr_index.h"
#include "store/instances.h"
#include "store/queue.h"
#include "store/reports.h"
#include "store/settle.h"
#include "store/spool.h"
#include "report/srtemplate.h"
#include "core/uid.h"
#include "report/views.h"
#include "node/worker.h"
#include "core/xmem.h"

#define DEFAULT_MODEL	"radscribe-cxr.gguf"
#define DEFAULT_MMPROJ	"mmproj-radscribe-cxr.gguf"
#define TEXT_MAX	8192

enum section { FINDINGS, IMPRESSION, NSECTIONS };
static const char *const section_name[NSECTIONS] = { "findings", "impression" };
static const char *const builtin_prompt[NSECTIONS] = {
	"Write the findings.", "Write the impression."
};

struct worker {
	struct worker_params	 p;
	const struct conf	*conf;
	struct pipeline		*pl[NSECTIONS];	/* may be the same pipeline */
	const char		*prompt[NSECTIONS];
	char			*model_name, *model_version;
	char			*model_path[NSECTIONS], *mmproj_path[NSECTIONS];
	char			 drafting[UID_MAX + 1];	/* under mu; "" idle */
	int64_t			 drafting_since;	/* under mu */
	char			 device_uid[UID_MAX + 1];
	struct sr_template	*tmpl;
	struct queue_retry	 retry;		/* draft_* keys */
	struct db		*db;
	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 kick;
	atomic_int		 stop;
};

/* One instance of the study being drafted. */
struct inst {
	char		*path, *sop_uid;
	struct dcm_image_info info;
	int		 ok;	/* info read */
};

int
worker_model(const struct worker *w, int i, struct worker_model *m)
{
	if (i < 0 || i >= NSECTIONS)
		return -1;
	m->section = section_name[i];
	m->model = w->model_path[i];
	m->mmproj = w->mmproj_path[i];
	m->name = pipeline_model_str(w->pl[i], "general.name");
	m->version = pipeline_model_str(w->pl[i], "general.version");
	m->prompt = w->prompt[i];
	m->lora = w->conf->lora;
	m->shared = i > 0 && w->pl[i] == w->pl[0];
	return 0;
}

int
worker_drafting(struct worker *w, char *buf, size_t bufsz, int64_t *since)
{
	int busy;

	pthread_mutex_lock(&w->mu);
	snprintf(buf, bufsz, "%s", w->drafting);
	*since = w->drafting_since;
	busy = w->drafting[0] != '\0';
	pthread_mutex_unlock(&w->mu);
	return busy;
}

void
worker_default_model(const char *dir, const char **model, const char **mmproj)
{
	static char m[PATH_MAX], v[PATH_MAX];

	snprintf(m, sizeof(m), "%s/%s", dir, DEFAULT_MODEL);
	snprintf(v, sizeof(v), "%s/%s", dir, DEFAULT_MMPROJ);
	*model = m;
	*mmproj = v;
}

static void
section_files(const struct worker *w, enum section s, const char **model,
    const char **mmproj)
{
	const struct conf *c = w->conf;
	const struct conf_section *cs = s == FINDINGS ? &c->findings : &c->impression;

	if (cs->model != NULL) {
		*model = cs->model;
		*mmproj = cs->mmproj;
	} else if (c->model != NULL) {
		*model = c->model;
		*mmproj = c->mmproj;
	} else
		worker_default_model(w->p.models_dir, model, mmproj);
}

struct worker *
worker_new(const struct worker_params *p, char *err, size_t errsz)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	const struct conf *c = p->conf;
	const char *model[NSECTIONS], *mmproj[NSECTIONS], *s;
	char path[PATH_MAX];

	w->p = *p;
	w->conf = c;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	for (int i = 0; i < NSECTIONS; i++) {
		const struct conf_section *cs = i == FINDINGS ? &c->findings :
		    &c->impression;
		struct pipeline_config pc = { 0 };
		char msg[1024];

		section_files(w, i, &model[i], &mmproj[i]);
		w->model_path[i] = xstrdup(model[i]);
		w->mmproj_path[i] = xstrdup(mmproj[i]);
		if (i == IMPRESSION && strcmp(model[i], model[FINDINGS]) == 0 &&
		    strcmp(mmproj[i], mmproj[FINDINGS]) == 0) {
			w->pl[i] = w->pl[FINDINGS];	/* one model, two prompts */
		} else {
			pc.model = model[i];
			pc.mmproj = mmproj[i];
			pc.layout = c->prompt_layout;
			pc.lora = c->lora;
			pc.beams = c->beams;
			pc.threads = c->threads;
			pc.max_tokens = c->findings.max_tokens >
			    c->impression.max_tokens ? c->findings.max_tokens :
			    c->impression.max_tokens;
			if ((w->pl[i] = pipeline_load(&pc, msg, sizeof(msg))) == NULL) {
				snprintf(err, errsz, "%s model %s: %s",
				    section_name[i], model[i], msg);
				goto fail;
			}
			log_info("%s model: %s + %s", section_name[i], model[i],
			    mmproj[i]);
		}
		snprintf(path, sizeof(path), "radscribe.prompt.%s", section_name[i]);
		w->prompt[i] = cs->prompt != NULL ? cs->prompt :
		    (s = pipeline_model_str(w->pl[i], path)) != NULL ? s :
		    builtin_prompt[i];
	}
	s = pipeline_model_str(w->pl[FINDINGS], "general.name");
	w->model_name = xstrdup(s != NULL ? s : "unnamed model");
	s = pipeline_model_str(w->pl[FINDINGS], "general.version");
	w->model_version = xstrdup(s != NULL ? s : "");
	if ((w->tmpl = sr_template_load(p->sr_template, p->sr_schema, err,
	    errsz)) == NULL)
		goto fail;
	w->retry.min_s = c->draft_retry_min;
	w->retry.max_s = c->draft_retry_max;
	w->retry.max_attempts = c->draft_max_attempts;
	w->retry.max_age_s = c->draft_max_age;
	return w;
fail:
	worker_stop(w);
	return NULL;
}

/* ------------------------------------------------------------------ */

struct inst_list {
	struct inst	*v;
	size_t		 n;
};

static int
add_instance(void *arg, const char *path, const char *sop_uid)
{
	struct inst_list *l = arg;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].path = xstrdup(path);
	l->v[l->n].sop_uid = xstrdup(sop_uid);
	l->n++;
	return 0;
}

static int
load_instances(struct db *db, int64_t study_id, struct inst **out, size_t *n)
{
	struct inst_list l = { NULL, 0 };
	int rc = instances_of_study(db, study_id, add_instance, &l);

	*out = l.v;
	*n = l.n;
	return rc;
}

static void
free_instances(struct inst *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].sop_uid);
	}
	free(v);
}

static struct image *
read_view(const char *path, char *err, size_t errsz)
{
	unsigned char *px;
	struct image *im;
	int w, h;

	if (dcm_read_grey(path, &px, &w, &h, err, errsz) == -1)
		return NULL;
	if ((im = image_new(w, h, 1)) != NULL)
		memcpy(im->px, px, (size_t)w * h);
	else
		snprintf(err, errsz, "%s: image too large", path);
	free(px);
	return im;
}

/* What the draft chose and how long it took, for the report's row. */
struct drafted {
	int		 nviews;
	const char	*sop[2], *kind[2], *view_position[2];
	int64_t		 ms, section_ms[NSECTIONS];
};

/*
 * record - one transaction: the report with its views and deliveries
 * (its predecessor superseded), its Q/R row, the send job (new, or woken
 * up), and the infer job DONE.
 */
static int
record(struct worker *w, const struct queue_job *job, const char *sop,
    const char *series, const char *cls, const char *path, int64_t size,
    const struct reports_current *pr, const char *text[NSECTIONS],
    const struct drafted *d, const struct dcm_qr_attrs *qa)
{
	const struct conf *c = w->conf;
	struct db *db = w->db;
	struct reports_view views[2];
	struct reports_new rn;
	const char **archives;
	int64_t rid;
	enum queue_rc qrc;
	int rc = -1;

	archives = xcalloc(c->narchives ? c->narchives : 1, sizeof(*archives));
	for (size_t i = 0; i < c->narchives; i++)
		archives[i] = c->archives[i].name;
	for (int i = 0; i < d->nviews; i++) {
		views[i].sop_instance_uid = d->sop[i];
		views[i].kind = d->kind[i];
		views[i].view_position = d->view_position[i];
	}
	memset(&rn, 0, sizeof(rn));
	rn.study_id = job->study_id;
	rn.sop_instance_uid = sop;
	rn.series_uid = series;
	rn.sop_class_uid = cls;
	rn.path = path;
	rn.size = size;
	rn.predecessor_id = pr->id;
	rn.model = w->model_name;
	rn.findings = text[FINDINGS];
	rn.impression = text[IMPRESSION];
	rn.draft_ms = d->ms;
	rn.findings_ms = d->section_ms[FINDINGS];
	rn.impression_ms = d->section_ms[IMPRESSION];
	rn.views = views;
	rn.nviews = d->nviews;
	rn.archives = archives;
	rn.narchives = c->narchives;

	if (db_begin(db) == -1)
		goto out;
	/* The SR's index row comes from what sr_write held, not a re-read. */
	if (reports_record(db, &rn, &rid) == -1 ||
	    qr_index_put_report(db, rid, path, qa) == -1)
		goto fail;
	if (c->narchives > 0) {
		qrc = queue_create(db, job->study_id, QUEUE_SEND, NULL);
		if (qrc == QUEUE_LOST)	/* a send job exists: wake it up */
			qrc = queue_wake(db, job->study_id, QUEUE_SEND, NULL);
		/* LOST again: it is ACTIVE or HOLD, and sees the new report. */
		if (qrc == QUEUE_DBERR || qrc == QUEUE_ILLEGAL)
			goto fail;
	}
	if (queue_finish(db, job, QUEUE_OUT_OK, &w->retry, 0, NULL, NULL) !=
	    QUEUE_OK)
		goto fail;
	rc = db_commit(db);
	goto out;
fail:
	db_rollback(db);
out:
	free(archives);
	return rc;
}

static enum queue_outcome
draft(struct worker *w, const struct queue_job *job, const char *study_uid,
    char *why, size_t whysz)
{
	const struct conf *c = w->conf;
	struct inst *in = NULL;
	size_t n = 0;
	const struct dcm_image_info **infos = NULL;
	struct image *views[2] = { NULL, NULL };
	int idx[2], nv, unknown = 0;
	char *text[NSECTIONS] = { NULL, NULL }, err[1024];
	char sop[UID_MAX + 1], series[UID_MAX + 1], tmp[PATH_MAX], final[PATH_MAX];
	const char **paths = NULL;
	size_t used[2];
	struct reports_current pr;
	struct dcm_qr_attrs qa;
	struct sr_request rq;
	struct drafted d;
	struct stat sb;
	enum queue_outcome rc = QUEUE_OUT_DEFER;
	int64_t t0 = clock_now_ms();

	qr_index_attrs_init(&qa);

	if (load_instances(w->db, job->study_id, &in, &n) == -1) {
		snprintf(why, whysz, "database: %s", db_errmsg(w->db));
		goto out;
	}
	infos = xcalloc(n ? n : 1, sizeof(*infos));
	paths = xcalloc(n ? n : 1, sizeof(*paths));
	for (size_t i = 0; i < n; i++) {
		paths[i] = in[i].path;
		if (dcm_image_info(in[i].path, &in[i].info, err, sizeof(err)) == 0)
			infos[i] = &in[i].info;
		else
			log_warn("J%lld: study=%s: %s", (long long)job->id, study_uid,
			    err);
	}
	if ((nv = views_select(infos, (int)n, idx, &unknown, why, whysz)) == 0) {
		rc = QUEUE_OUT_REJECT;
		goto out;
	}
	/* Nothing names the body part: many CRs say nothing at all. */
	if (unknown && c->unknown_body_part == CONF_BP_REFUSE) {
		snprintf(why, whysz, "body part unknown: no Body Part Examined "
		    "and no description names the chest (unknown_body_part = "
		    "refuse)");
		rc = QUEUE_OUT_REJECT;
		goto out;
	}
	if (unknown)
		log_info("J%lld: study=%s: no image names its body part; drafted as a "
		    "chest radiograph, with a note in the report", (long long)job->id,
		    study_uid);
	memset(&d, 0, sizeof(d));
	d.nviews = nv;
	for (int i = 0; i < nv; i++) {
		if ((views[i] = read_view(in[idx[i]].path, err, sizeof(err))) == NULL) {
			snprintf(why, whysz, "unreadable pixels: %s", err);
			rc = QUEUE_OUT_REJECT;
			goto out;
		}
		used[i] = (size_t)idx[i];
		d.sop[i] = in[idx[i]].sop_uid;
		d.kind[i] = views_kind_name(views_classify(&in[idx[i]].info));
		d.view_position[i] = in[idx[i]].info.view_position;
		log_info("J%lld: study=%s view %d: %s (%s, View Position \"%s\")",
		    (long long)job->id, study_uid, i + 1, in[idx[i]].sop_uid,
		    views_kind_name(views_classify(&in[idx[i]].info)),
		    in[idx[i]].info.view_position);
	}
	for (int s = 0; s < NSECTIONS; s++) {
		struct pipeline_stats ps;
		int max = s == FINDINGS ? c->findings.max_tokens :
		    c->impression.max_tokens;

		text[s] = xmalloc(TEXT_MAX);
		pipeline_set_max_tokens(w->pl[s], max);
		if (pipeline_run(w->pl[s], (const struct image *const *)views, nv,
		    w->prompt[s], text[s], TEXT_MAX, &ps, err, sizeof(err)) == -1) {
			snprintf(why, whysz, "%s: %s", section_name[s], err);
			rc = QUEUE_OUT_REJECT;
			goto out;
		}
		d.section_ms[s] = (int64_t)(ps.ms_preprocess + ps.ms_encode +
		    ps.ms_generate + 0.5);
		log_info("J%lld: study=%s %s: %d tokens in %lld ms",
		    (long long)job->id, study_uid,
		    section_name[s], ps.n_gen, (long long)d.section_ms[s]);
		if (text[s][0] == '\0') {
			snprintf(why, whysz, "the model wrote no %s", section_name[s]);
			rc = QUEUE_OUT_REJECT;
			goto out;
		}
	}
	if (reports_current(w->db, job->study_id, &pr) == -1) {
		snprintf(why, whysz, "database: %s", db_errmsg(w->db));
		goto out;
	}
	uid_make(w->p.uid_root, series);
	uid_make(w->p.uid_root, sop);
	memset(&rq, 0, sizeof(rq));
	rq.tmpl = w->tmpl;
	rq.sop_class = (enum sr_class)c->sr_sop_class;
	rq.sources = paths;
	rq.nsources = n;
	rq.used = used;
	rq.nused = (size_t)nv;
	rq.findings = text[FINDINGS];
	rq.impression = text[IMPRESSION];
	rq.body_part_unknown = unknown;
	rq.model_name = w->model_name;
	rq.model_version = w->model_version;
	rq.device_uid = w->device_uid;
	rq.software_version = PACKAGE_VERSION;
	rq.series_uid = series;
	rq.sop_instance_uid = sop;
	rq.series_number = c->sr_series_number;
	rq.series_description = c->sr_series_description;
	rq.instance_number = 1;
	rq.qr = &qa;
	if (pr.id > 0) {
		rq.pred_study_uid = study_uid;
		rq.pred_series_uid = pr.series_uid;
		rq.pred_sop_class_uid = pr.sop_class_uid;
		rq.pred_sop_instance_uid = pr.sop_instance_uid;
	}
	if (spool_report_paths(w->p.spool, sop, tmp, sizeof(tmp), final,
	    sizeof(final)) == -1) {
		snprintf(why, whysz, "report file %s: path too long", sop);
		rc = QUEUE_OUT_REJECT;
		goto out;
	}
	if (sr_write(&rq, tmp, err, sizeof(err)) == -1) {
		unlink(tmp);
		snprintf(why, whysz, "SR: %s", err);
		goto out;	/* e.g. a full disk: try again later */
	}
	if (spool_commit_file(tmp, final) == -1 || stat(final, &sb) == -1) {
		snprintf(why, whysz, "report file %s.dcm: %s", sop,
		    strerror(errno));
		goto out;
	}
	d.ms = clock_now_ms() - t0;
	if (record(w, job, sop, series, sr_sop_class_uid(rq.sop_class), final,
	    (int64_t)sb.st_size, &pr, (const char **)text, &d, &qa) == -1) {
		snprintf(why, whysz, "database: %s", db_errmsg(w->db));
		unlink(final);
		goto out;
	}
	log_info("J%lld: study=%s report=%s written%s%s; %zu archive(s) to "
	    "send to", (long long)job->id, study_uid, sop,
	    pr.id > 0 ? ", replaces " : "", pr.id > 0 ? pr.sop_instance_uid : "",
	    c->narchives);
	rc = QUEUE_OUT_OK;
out:
	dcm_qr_attrs_clear(&qa);
	for (int i = 0; i < 2; i++)
		image_free(views[i]);
	for (int s = 0; s < NSECTIONS; s++)
		free(text[s]);
	free(infos);
	free(paths);
	free_instances(in, n);
	return rc;
}

static void
process(struct worker *w, const struct queue_job *job)
{
	char study[UID_MAX + 1] = "?", why[1200] = "";
	int64_t t0 = clock_now_ms();
	enum queue_outcome out;
	enum queue_spent spent;
	enum queue_rc rc;

	if (settle_drafting(w->db, job->study_id, study, sizeof(study)) == -1) {
		snprintf(why, sizeof(why), "database: %s", db_errmsg(w->db));
		out = QUEUE_OUT_DEFER;
		goto finish;
	}
	log_info("J%lld: study=%s: drafting (attempt %d)", (long long)job->id,
	    study, job->attempts);
	pthread_mutex_lock(&w->mu);
	snprintf(w->drafting, sizeof(w->drafting), "%s", study);
	w->drafting_since = t0;
	pthread_mutex_unlock(&w->mu);
	out = draft(w, job, study, why, sizeof(why));
	pthread_mutex_lock(&w->mu);
	w->drafting[0] = '\0';
	pthread_mutex_unlock(&w->mu);
	if (out == QUEUE_OUT_OK) {
		/* record() made the job DONE with the report. */
		log_info("J%lld: study=%s: drafted in %lld ms", (long long)job->id,
		    study, (long long)(clock_now_ms() - t0));
		if (w->p.queued != NULL)
			w->p.queued(w->p.arg);
		return;
	}
finish:
	rc = queue_finish(w->db, job, out, &w->retry, job->created_at, why,
	    &spent);
	if (out == QUEUE_OUT_REJECT)
		log_warn("J%lld: study=%s: cannot draft: %s", (long long)job->id,
		    study, why);
	else if (spent == QUEUE_SPENT_ATTEMPTS)
		log_err("J%lld: study=%s: giving up after %d attempts: %s",
		    (long long)job->id, study, job->attempts, why);
	else if (spent == QUEUE_SPENT_AGE)
		log_err("J%lld: study=%s: giving up, older than draft_max_age "
		    "(%d s): %s", (long long)job->id, study, w->retry.max_age_s,
		    why);
	else
		log_warn("J%lld: study=%s: will retry: %s", (long long)job->id,
		    study, why);
	/* The job stays ACTIVE until the next start recovers it. */
	if (rc == QUEUE_DBERR)
		log_err("J%lld: cannot record the outcome: %s",
		    (long long)job->id, db_errmsg(w->db));
	else if (rc != QUEUE_OK)
		log_warn("J%lld: the job left ACTIVE meanwhile (an admin moved "
		    "it); left as it is", (long long)job->id);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct queue_job job;
	struct timespec ts;
	int r;

	while (!atomic_load(&w->stop)) {
		if ((r = queue_claim(w->db, QUEUE_INFER, &job)) == 1) {
			process(w, &job);
			continue;
		}
		if (r == -1)
			log_warn("worker: claim: %s", db_errmsg(w->db));
		/* Idle: a wake-up, or a second for DEFERRED jobs coming due. */
		pthread_mutex_lock(&w->mu);
		if (!w->kick && !atomic_load(&w->stop)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		w->kick = 0;
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

int
worker_start(struct worker *w, char *err, size_t errsz)
{
	if ((w->db = db_open(w->conf->database, DB_EXISTING, err, errsz)) == NULL)
		return -1;
	/* The device observer's UID: stable for this node (uid_make never ends in .1). */
	snprintf(w->device_uid, sizeof(w->device_uid), "%s.1", w->p.uid_root);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		snprintf(err, errsz, "worker: cannot start its thread");
		return -1;
	}
	w->started = 1;
	return 0;
}

void
worker_wake(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->kick = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
worker_stop(struct worker *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, 1);
	worker_wake(w);
	if (w->started)
		pthread_join(w->thread, NULL);
	if (w->db != NULL)
		db_close(w->db);
	if (w->pl[IMPRESSION] != w->pl[FINDINGS])
		pipeline_free(w->pl[IMPRESSION]);
	pipeline_free(w->pl[FINDINGS]);
	if (w->tmpl != NULL)
		sr_template_free(w->tmpl);
	for (int i = 0; i < NSECTIONS; i++) {
		free(w->model_path[i]);
		free(w->mmproj_path[i]);
	}
	free(w->model_name);
	free(w->model_version);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
