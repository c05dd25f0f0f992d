/* SPDX-License-Identifier: GPL-2.0-or-later */
/* worker - from a settled study to a queued Structured Report. */
#include "store/db_sql.h"
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
#include "dicom/sr.h"
#include "infer/image.h"
#include "infer/pipeline.h"
#include "core/log.h"
#include "store/qr_index.h"
#include "store/queue.h"
#include "report/srtemplate.h"
#include "core/uid.h"
#include "report/views.h"
#include "node/worker.h"
#include "core/xmem.h"

#define DEFAULT_MODEL	"radscribe-cxr.gguf"
#define DEFAULT_MMPROJ	"mmproj-radscribe-cxr.gguf"
#define TEXT_MAX	8192
/* Transient failures: retried with backoff, then FAILED. */
#define RETRY_MIN_S	10
#define RETRY_MAX_S	600
#define MAX_ATTEMPTS	8

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
	char			*reports_dir, *tmp_dir;
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
	xasprintf(&w->reports_dir, "%s/reports", c->spool_dir);
	xasprintf(&w->tmp_dir, "%s/tmp", c->spool_dir);
	if (mkdir(w->reports_dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", w->reports_dir, strerror(errno));
		goto fail;
	}
	return w;
fail:
	worker_stop(w);
	return NULL;
}

/* ------------------------------------------------------------------ */

static int
load_instances(struct db *db, int64_t study_id, struct inst **out, size_t *n)
{
	static const char sql[] =
	    "SELECT path, sop_instance_uid FROM instances WHERE study_id = ?1"
	    " ORDER BY received_at, id";
	sqlite3_stmt *st = db_prepare(db, sql);
	struct inst *v = NULL;
	size_t cnt = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].path = xstrdup((const char *)sqlite3_column_text(st, 0));
		v[cnt].sop_uid = xstrdup((const char *)sqlite3_column_text(st, 1));
		cnt++;
	}
	*out = v;
	*n = cnt;
	return rc == SQLITE_DONE ? 0 : -1;
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

/* The study's current report, for the Predecessor Documents Sequence. */
struct pred {
	int64_t	id;
	char	series[UID_MAX + 1], sop[UID_MAX + 1], cls[UID_MAX + 1];
};

static int
find_pred(struct db *db, int64_t study_id, struct pred *pr)
{
	static const char sql[] =
	    "SELECT id, series_uid, sop_instance_uid, sop_class_uid FROM reports"
	    " WHERE study_id = ?1 AND superseded_by IS NULL ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	memset(pr, 0, sizeof(*pr));
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	if ((rc = db_step(db, st)) == SQLITE_ROW) {
		pr->id = sqlite3_column_int64(st, 0);
		snprintf(pr->series, sizeof(pr->series), "%s", sqlite3_column_text(st, 1));
		snprintf(pr->sop, sizeof(pr->sop), "%s", sqlite3_column_text(st, 2));
		snprintf(pr->cls, sizeof(pr->cls), "%s", sqlite3_column_text(st, 3));
		rc = db_step(db, st);
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* durable - fsync the file, rename it into place, fsync the directory. */
static int
durable(const char *tmp, const char *final, const char *dir, char *err,
    size_t errsz)
{
	int fd, dfd, rc = -1;

	if ((fd = open(tmp, O_RDONLY)) == -1)
		goto out;
	if (fsync(fd) == -1) {
		close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, final) == -1)
		goto out;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		goto out;
	rc = fsync(dfd);
	close(dfd);
out:
	if (rc == -1) {
		int e = errno;
		const char *b = strrchr(final, '/');

		snprintf(err, errsz, "report file %.200s: %s", b ? b + 1 : final,
		    strerror(e));
	}
	return rc;
}

/* What the draft chose and how long it took, for the report's row. */
struct drafted {
	int		 nviews;
	const char	*sop[2], *kind[2], *view_position[2];
	int64_t		 ms, section_ms[NSECTIONS];
};

/*
 * record - one transaction: the report row, the views chosen, its predecessor superseded,
 * a delivery per archive, the send job (new, or back to INCOMING), and
 * the infer job DONE.
 */
static int
record(struct worker *w, const struct queue_job *job, const char *sop,
    const char *series, const char *cls, const char *path, int64_t size,
    const struct pred *pr, const char *text[NSECTIONS],
    const struct drafted *d)
{
	static const char rep_sql[] =
	    "INSERT INTO reports (study_id, sop_instance_uid, series_uid,"
	    " sop_class_uid, path, size, created_at, predecessor_id, model,"
	    " findings, impression, draft_ms, findings_ms, impression_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
	static const char sup_sql[] =
	    "UPDATE reports SET superseded_by = ?2 WHERE id = ?1";
	static const char view_sql[] =
	    "INSERT INTO report_views (report_id, ordinal, sop_instance_uid,"
	    " kind, view_position) VALUES (?1, ?2, ?3, ?4, ?5)";
	static const char del_sql[] =
	    "INSERT INTO deliveries (report_id, archive) VALUES (?1, ?2)";
	static const char send_sql[] =
	    "UPDATE jobs SET state = 'INCOMING', next_try = NULL, attempts = 0,"
	    " updated_at = ?2 WHERE study_id = ?1 AND stage = 'send'"
	    " AND state IN ('DONE', 'FAILED', 'DEFERRED')";
	const struct conf *c = w->conf;
	struct db *db = w->db;
	sqlite3_stmt *st;
	int64_t rid, now = clock_now_ms();

	if (db_begin(db) == -1)
		return -1;
	if ((st = db_prepare(db, rep_sql)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, job->study_id);
	sqlite3_bind_text(st, 2, sop, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, series, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cls, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, size);
	sqlite3_bind_int64(st, 7, now);
	if (pr->id > 0)
		sqlite3_bind_int64(st, 8, pr->id);
	sqlite3_bind_text(st, 9, w->model_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, text[FINDINGS], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, text[IMPRESSION], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, d->ms);
	sqlite3_bind_int64(st, 13, d->section_ms[FINDINGS]);
	sqlite3_bind_int64(st, 14, d->section_ms[IMPRESSION]);
	if (db_step(db, st) != SQLITE_DONE)
		goto fail;
	rid = sqlite3_last_insert_rowid(db_sqlite(db));
	for (int i = 0; i < d->nviews; i++) {
		if ((st = db_prepare(db, view_sql)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int(st, 2, i + 1);
		sqlite3_bind_text(st, 3, d->sop[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, d->kind[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, d->view_position[i], -1, SQLITE_STATIC);
		if (db_step(db, st) != SQLITE_DONE)
			goto fail;
	}
	if (qr_index_report(db, path) == -1)
		goto fail;
	if (pr->id > 0) {
		if ((st = db_prepare(db, sup_sql)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, pr->id);
		sqlite3_bind_int64(st, 2, rid);
		if (db_step(db, st) != SQLITE_DONE)
			goto fail;
	}
	for (size_t i = 0; i < c->narchives; i++) {
		if ((st = db_prepare(db, del_sql)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_text(st, 2, c->archives[i].name, -1, SQLITE_STATIC);
		if (db_step(db, st) != SQLITE_DONE)
			goto fail;
	}
	if (c->narchives > 0) {
		switch (queue_create(db, job->study_id, QUEUE_SEND, NULL)) {
		case QUEUE_OK:
			break;
		case QUEUE_LOST:	/* a send job exists: wake it up */
			if ((st = db_prepare(db, send_sql)) == NULL)
				goto fail;
			sqlite3_bind_int64(st, 1, job->study_id);
			sqlite3_bind_int64(st, 2, now);
			if (db_step(db, st) != SQLITE_DONE)
				goto fail;
			break;
		default:
			goto fail;
		}
	}
	if (queue_transition(db, job->id, QUEUE_ACTIVE, QUEUE_DONE, NULL) != QUEUE_OK)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return -1;
}

enum outcome { OK, PERMANENT, TRANSIENT };

static enum outcome
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
	struct pred pr;
	struct sr_request rq;
	struct drafted d;
	struct stat sb;
	enum outcome rc = TRANSIENT;
	int64_t t0 = clock_now_ms();

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
			log_warn("study=%s: %s", study_uid, err);
	}
	if ((nv = views_select(infos, (int)n, idx, &unknown, why, whysz)) == 0) {
		rc = PERMANENT;
		goto out;
	}
	/* Nothing names the body part: many CRs say nothing at all. */
	if (unknown && c->unknown_body_part == CONF_BP_REFUSE) {
		snprintf(why, whysz, "body part unknown: no Body Part Examined "
		    "and no description names the chest (unknown_body_part = "
		    "refuse)");
		rc = PERMANENT;
		goto out;
	}
	if (unknown)
		log_info("study=%s: no image names its body part; drafted as a "
		    "chest radiograph, with a note in the report", study_uid);
	memset(&d, 0, sizeof(d));
	d.nviews = nv;
	for (int i = 0; i < nv; i++) {
		if ((views[i] = read_view(in[idx[i]].path, err, sizeof(err))) == NULL) {
			snprintf(why, whysz, "unreadable pixels: %s", err);
			rc = PERMANENT;
			goto out;
		}
		used[i] = (size_t)idx[i];
		d.sop[i] = in[idx[i]].sop_uid;
		d.kind[i] = views_kind_name(views_classify(&in[idx[i]].info));
		d.view_position[i] = in[idx[i]].info.view_position;
		log_info("study=%s view %d: %s (%s, View Position \"%s\")",
		    study_uid, i + 1, in[idx[i]].sop_uid,
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
			rc = PERMANENT;
			goto out;
		}
		d.section_ms[s] = (int64_t)(ps.ms_preprocess + ps.ms_encode +
		    ps.ms_generate + 0.5);
		log_info("study=%s %s: %d tokens in %lld ms", study_uid,
		    section_name[s], ps.n_gen, (long long)d.section_ms[s]);
		if (text[s][0] == '\0') {
			snprintf(why, whysz, "the model wrote no %s", section_name[s]);
			rc = PERMANENT;
			goto out;
		}
	}
	if (find_pred(w->db, job->study_id, &pr) == -1) {
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
	if (pr.id > 0) {
		rq.pred_study_uid = study_uid;
		rq.pred_series_uid = pr.series;
		rq.pred_sop_class_uid = pr.cls;
		rq.pred_sop_instance_uid = pr.sop;
	}
	snprintf(tmp, sizeof(tmp), "%s/sr-%s.tmp", w->tmp_dir, sop);
	snprintf(final, sizeof(final), "%s/%s.dcm", w->reports_dir, sop);
	if (sr_write(&rq, tmp, err, sizeof(err)) == -1) {
		unlink(tmp);
		snprintf(why, whysz, "SR: %s", err);
		goto out;	/* e.g. a full disk: try again later */
	}
	if (durable(tmp, final, w->reports_dir, err, sizeof(err)) == -1 ||
	    stat(final, &sb) == -1) {
		unlink(tmp);
		snprintf(why, whysz, "%s", err);
		goto out;
	}
	d.ms = clock_now_ms() - t0;
	if (record(w, job, sop, series, sr_sop_class_uid(rq.sop_class), final,
	    (int64_t)sb.st_size, &pr, (const char **)text, &d) == -1) {
		snprintf(why, whysz, "database: %s", db_errmsg(w->db));
		unlink(final);
		goto out;
	}
	log_info("study=%s report=%s written%s%s; %zu archive(s) to send to",
	    study_uid, sop, pr.id > 0 ? ", replaces " : "", pr.id > 0 ? pr.sop : "",
	    c->narchives);
	rc = OK;
out:
	for (int i = 0; i < 2; i++)
		image_free(views[i]);
	for (int s = 0; s < NSECTIONS; s++)
		free(text[s]);
	free(infos);
	free(paths);
	free_instances(in, n);
	return rc;
}

static int
study_uid_of(struct db *db, int64_t study_id, char *out, size_t outsz)
{
	static const char sql[] =
	    "UPDATE studies SET redraft = 0 WHERE id = ?1 RETURNING study_uid";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	/* Clearing the flag now: an instance arriving during the draft sets it again. */
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	if ((rc = db_step(db, st)) != SQLITE_ROW)
		return -1;
	snprintf(out, outsz, "%s", sqlite3_column_text(st, 0));
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}

static void
process(struct worker *w, const struct queue_job *job)
{
	char study[UID_MAX + 1] = "?", why[1200] = "";
	int64_t t0 = clock_now_ms();
	enum outcome rc;

	if (study_uid_of(w->db, job->study_id, study, sizeof(study)) == -1) {
		snprintf(why, sizeof(why), "database: %s", db_errmsg(w->db));
		queue_defer(w->db, job, RETRY_MIN_S, RETRY_MAX_S, why);
		return;
	}
	log_info("study=%s: drafting (job J%lld, attempt %d)", study,
	    (long long)job->id, job->attempts);
	pthread_mutex_lock(&w->mu);
	snprintf(w->drafting, sizeof(w->drafting), "%s", study);
	w->drafting_since = t0;
	pthread_mutex_unlock(&w->mu);
	rc = draft(w, job, study, why, sizeof(why));
	pthread_mutex_lock(&w->mu);
	w->drafting[0] = '\0';
	pthread_mutex_unlock(&w->mu);
	switch (rc) {
	case OK:
		log_info("study=%s: drafted in %lld ms", study,
		    (long long)(clock_now_ms() - t0));
		if (w->p.queued != NULL)
			w->p.queued(w->p.arg);
		break;
	case PERMANENT:
		log_warn("study=%s: cannot draft: %s", study, why);
		queue_transition(w->db, job->id, QUEUE_ACTIVE, QUEUE_FAILED, why);
		break;
	case TRANSIENT:
		if (job->attempts >= MAX_ATTEMPTS) {
			log_err("study=%s: giving up after %d attempts: %s", study,
			    job->attempts, why);
			queue_transition(w->db, job->id, QUEUE_ACTIVE,
			    QUEUE_FAILED, why);
		} else {
			log_warn("study=%s: will retry: %s", study, why);
			queue_defer(w->db, job, RETRY_MIN_S, RETRY_MAX_S, why);
		}
		break;
	}
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
	free(w->reports_dir);
	free(w->tmp_dir);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
