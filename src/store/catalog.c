/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog - read-only queries for the CLI: listings, the show and report
 * records, stats aggregates and the lookups of the queue commands.  Every
 * statement is a cached one of the caller's connection; nothing here
 * writes, and nothing is kept between calls but an open iterator's
 * statement.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_sql.h"
#include "core/log.h"
#include "core/xmem.h"
#include "store/catalog.h"

/* ---- column helpers ---- */

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* dup - a column's text, copied; NULL for NULL */
static const char *
dup(sqlite3_stmt *st, int i)
{
	const char *s = col(st, i);

	return s != NULL ? xstrdup(s) : NULL;
}

/* inull - an integer column, CATALOG_NULL for NULL */
static int64_t
inull(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return CATALOG_NULL;
	return sqlite3_column_int64(st, i);
}

/* sfree - a string the record owns (declared const for its readers) */
static void
sfree(const char *s)
{
	free((void *)(uintptr_t)s);
}

static int
stage_of(sqlite3_stmt *st, int i, enum queue_stage *out)
{
	return col(st, i) != NULL ? queue_stage_parse(col(st, i), out) : -1;
}

static int
state_of(sqlite3_stmt *st, int i, enum queue_state *out)
{
	return col(st, i) != NULL ? queue_state_parse(col(st, i), out) : -1;
}

/* count - the single integer sql yields */
static int
count(struct db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = db_step(db, st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* ---- listings ---- */

enum kind { K_JOBS, K_STUDIES };

struct catalog_iter {
	struct db	*db;
	sqlite3_stmt	*st;
	enum kind	 kind;
};

/*
 * ?1 state, ?2 stage, ?3 since (updated_at), ?4 calling AE; ?5 job id and
 * ?6 study UID pick an indexed row first where given.
 */
#define JOBS_SELECT \
    "SELECT j.id, s.study_uid, j.stage, j.state, j.attempts, j.next_try," \
    " j.created_at, j.updated_at, j.last_error FROM jobs j" \
    " JOIN studies s ON s.id = j.study_id WHERE"
#define JOBS_FILTER \
    " (?1 IS NULL OR j.state = ?1) AND (?2 IS NULL OR j.stage = ?2)" \
    " AND (?3 IS NULL OR j.updated_at >= ?3)" \
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM instances i" \
    "  WHERE i.study_id = s.id AND i.calling_ae = ?4))" \
    " ORDER BY j.id"
static const char jobs_sql[] = JOBS_SELECT JOBS_FILTER;
static const char jobs_id_sql[] = JOBS_SELECT
    " j.id = ?5 AND (?6 IS NULL OR s.study_uid = ?6) AND" JOBS_FILTER;
static const char jobs_study_sql[] = JOBS_SELECT
    " s.study_uid = ?6 AND" JOBS_FILTER;

/* ?3 since (last_received_at); state/stage: the study has such a job */
static const char studies_sql[] =
    "SELECT s.id, s.study_uid, s.first_received_at, s.last_received_at,"
    " (SELECT count(*) FROM instances i WHERE i.study_id = s.id),"
    " (SELECT group_concat(DISTINCT i.calling_ae) FROM instances i"
    "  WHERE i.study_id = s.id),"
    " (SELECT state FROM jobs j WHERE j.study_id = s.id AND stage = 'infer'),"
    " (SELECT state FROM jobs j WHERE j.study_id = s.id AND stage = 'send'),"
    " (SELECT count(*) FROM reports r WHERE r.study_id = s.id)"
    " FROM studies s"
    " WHERE (?1 IS NULL AND ?2 IS NULL OR EXISTS (SELECT 1 FROM jobs j"
    "  WHERE j.study_id = s.id AND (?1 IS NULL OR j.state = ?1)"
    "  AND (?2 IS NULL OR j.stage = ?2)))"
    " AND (?3 IS NULL OR s.last_received_at >= ?3)"
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM instances i"
    "  WHERE i.study_id = s.id AND i.calling_ae = ?4))"
    " ORDER BY s.id";

/* catalog_filter_init - any state, stage, time, AE, study, job */
void
catalog_filter_init(struct catalog_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->state = -1;
	f->stage = -1;
	f->since = CATALOG_NULL;
}

/* bind - the filter's ?1..?4; unset ones stay NULL */
static int
bind(sqlite3_stmt *st, const struct catalog_filter *f)
{
	if ((f->state >= 0 && sqlite3_bind_text(st, 1,
	    queue_state_name((enum queue_state)f->state), -1,
	    SQLITE_STATIC) != SQLITE_OK) ||
	    (f->stage >= 0 && sqlite3_bind_text(st, 2,
	    queue_stage_name((enum queue_stage)f->stage), -1,
	    SQLITE_STATIC) != SQLITE_OK) ||
	    (f->since != CATALOG_NULL &&
	    sqlite3_bind_int64(st, 3, f->since) != SQLITE_OK) ||
	    (f->calling_ae != NULL && sqlite3_bind_text(st, 4, f->calling_ae,
	    -1, SQLITE_TRANSIENT) != SQLITE_OK))
		return -1;
	return 0;
}

static struct catalog_iter *
iter_open(struct db *db, const char *sql, enum kind kind)
{
	struct catalog_iter *it;
	sqlite3_stmt *st;

	if ((st = db_prepare(db, sql)) == NULL)
		return NULL;
	it = xcalloc(1, sizeof(*it));
	it->db = db;
	it->st = st;
	it->kind = kind;
	return it;
}

/* catalog_jobs_open - the statement that suits the filter, bound */
struct catalog_iter *
catalog_jobs_open(struct db *db, const struct catalog_filter *f)
{
	struct catalog_iter *it;
	const char *sql = f->job_id > 0 ? jobs_id_sql :
	    f->study_uid != NULL ? jobs_study_sql : jobs_sql;

	if ((it = iter_open(db, sql, K_JOBS)) == NULL)
		return NULL;
	if (bind(it->st, f) == -1 ||
	    (f->job_id > 0 &&
	    sqlite3_bind_int64(it->st, 5, f->job_id) != SQLITE_OK) ||
	    (f->study_uid != NULL && sqlite3_bind_text(it->st, 6,
	    f->study_uid, -1, SQLITE_TRANSIENT) != SQLITE_OK)) {
		catalog_iter_close(it);
		return NULL;
	}
	return it;
}

/* catalog_studies_open - studies_sql, bound */
struct catalog_iter *
catalog_studies_open(struct db *db, const struct catalog_filter *f)
{
	struct catalog_iter *it;

	if ((it = iter_open(db, studies_sql, K_STUDIES)) == NULL)
		return NULL;
	if (bind(it->st, f) == -1) {
		catalog_iter_close(it);
		return NULL;
	}
	return it;
}

/* step - 1 a row, 0 the end, -1 an error */
static int
step(struct catalog_iter *it, enum kind kind)
{
	int rc;

	if (it->kind != kind)
		panic("catalog: iterator of another kind");
	if ((rc = db_step(it->db, it->st)) == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* job_row - columns of jobs_sql's shape from first on */
static int
job_row(sqlite3_stmt *st, struct catalog_job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->study_uid = col(st, 1);
	if (stage_of(st, 2, &j->stage) == -1 ||
	    state_of(st, 3, &j->state) == -1)
		return -1;
	j->attempts = sqlite3_column_int(st, 4);
	j->next_try = inull(st, 5);
	j->created_at = sqlite3_column_int64(st, 6);
	j->updated_at = sqlite3_column_int64(st, 7);
	j->last_error = col(st, 8);
	return 0;
}

/* catalog_jobs_next - one job, strings borrowed from the statement */
int
catalog_jobs_next(struct catalog_iter *it, struct catalog_job *row)
{
	int rc = step(it, K_JOBS);

	if (rc == 1 && job_row(it->st, row) == -1)
		return -1;
	return rc;
}

/* catalog_studies_next - one study, strings borrowed */
int
catalog_studies_next(struct catalog_iter *it,
    struct catalog_study_brief *row)
{
	sqlite3_stmt *st = it->st;
	enum queue_state s;
	int rc = step(it, K_STUDIES);

	if (rc != 1)
		return rc;
	memset(row, 0, sizeof(*row));
	row->id = sqlite3_column_int64(st, 0);
	row->study_uid = col(st, 1);
	row->first_received_at = sqlite3_column_int64(st, 2);
	row->last_received_at = sqlite3_column_int64(st, 3);
	row->instances = sqlite3_column_int64(st, 4);
	row->calling_aes = col(st, 5);
	row->infer = row->send = -1;
	if (col(st, 6) != NULL) {
		if (state_of(st, 6, &s) == -1)
			return -1;
		row->infer = s;
	}
	if (col(st, 7) != NULL) {
		if (state_of(st, 7, &s) == -1)
			return -1;
		row->send = s;
	}
	row->reports = sqlite3_column_int64(st, 8);
	return 1;
}

/* catalog_iter_close - reset the statement so it holds no read lock */
void
catalog_iter_close(struct catalog_iter *it)
{
	if (it == NULL)
		return;
	sqlite3_reset(it->st);
	free(it);
}

/* ---- single lookups ---- */

/* catalog_study_id - by UID */
int
catalog_study_id(struct db *db, const char *study_uid, int64_t *id)
{
	static const char sql[] = "SELECT id FROM studies WHERE study_uid = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_text(st, 1, study_uid, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK)
		return -1;
	if ((rc = db_step(db, st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* catalog_report_current - the newest report not superseded */
int
catalog_report_current(struct db *db, int64_t study_id, int64_t *report_id)
{
	static const char sql[] =
	    "SELECT id FROM reports WHERE study_id = ?1"
	    " AND superseded_by IS NULL ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_int64(st, 1, study_id) != SQLITE_OK)
		return -1;
	if ((rc = db_step(db, st)) == SQLITE_ROW)
		*report_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---- show ---- */

#define STUDY_COLS \
    "SELECT s.id, s.study_uid, s.first_received_at, s.last_received_at," \
    " s.job_created_at, s.redraft FROM"
static const char study_sql[] = STUDY_COLS " studies s WHERE s.study_uid = ?1";
static const char job_study_sql[] = STUDY_COLS
    " jobs j JOIN studies s ON s.id = j.study_id WHERE j.id = ?1";

static int
load_instances(struct db *db, struct catalog_study *s)
{
	static const char sql[] =
	    "SELECT sop_instance_uid, sop_class_uid, transfer_syntax, size,"
	    " calling_ae, received_at, series_uid FROM instances"
	    " WHERE study_id = ?1 ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_int64(st, 1, s->id) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct catalog_instance *i;

		s->instances = xrealloc(s->instances, (s->ninstances + 1) *
		    sizeof(*s->instances));
		i = &s->instances[s->ninstances++];
		i->sop_instance_uid = dup(st, 0);
		i->sop_class_uid = dup(st, 1);
		i->transfer_syntax = dup(st, 2);
		i->size = inull(st, 3);
		i->calling_ae = dup(st, 4);
		i->received_at = inull(st, 5);
		i->series_uid = dup(st, 6);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
load_jobs(struct db *db, struct catalog_study *s)
{
	static const char sql[] =
	    "SELECT id, NULL, stage, state, attempts, next_try, created_at,"
	    " updated_at, last_error FROM jobs WHERE study_id = ?1 ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_int64(st, 1, s->id) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct catalog_job *j;

		s->jobs = xrealloc(s->jobs, (s->njobs + 1) * sizeof(*s->jobs));
		j = &s->jobs[s->njobs];
		if (job_row(st, j) == -1) {
			rc = SQLITE_ERROR;
			break;
		}
		j->study_uid = NULL;
		j->last_error = dup(st, 8);
		s->njobs++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
load_views(struct db *db, struct catalog_report *r)
{
	static const char sql[] =
	    "SELECT ordinal, kind, view_position, sop_instance_uid"
	    " FROM report_views WHERE report_id = ?1 ORDER BY ordinal";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_int64(st, 1, r->id) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct catalog_view *v;

		r->views = xrealloc(r->views, (r->nviews + 1) *
		    sizeof(*r->views));
		v = &r->views[r->nviews++];
		v->ordinal = sqlite3_column_int(st, 0);
		v->kind = dup(st, 1);
		v->view_position = dup(st, 2);
		v->sop_instance_uid = dup(st, 3);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
load_deliveries(struct db *db, struct catalog_report *r)
{
	static const char sql[] =
	    "SELECT archive, accepted_at, status, attempts, last_error"
	    " FROM deliveries WHERE report_id = ?1 ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_int64(st, 1, r->id) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct catalog_delivery *d;

		r->deliveries = xrealloc(r->deliveries, (r->ndeliveries + 1) *
		    sizeof(*r->deliveries));
		d = &r->deliveries[r->ndeliveries++];
		d->archive = dup(st, 0);
		d->accepted_at = inull(st, 1);
		d->status = inull(st, 2);
		d->attempts = sqlite3_column_int(st, 3);
		d->last_error = dup(st, 4);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * load_reports - the report rows first, then each one's views and
 * deliveries (one statement is stepped at a time).
 */
static int
load_reports(struct db *db, struct catalog_study *s)
{
	static const char sql[] =
	    "SELECT id, sop_instance_uid, created_at, model, findings,"
	    " impression, path, superseded_by, draft_ms, findings_ms,"
	    " impression_ms FROM reports WHERE study_id = ?1 ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL || sqlite3_bind_int64(st, 1, s->id) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct catalog_report *r;

		s->reports = xrealloc(s->reports, (s->nreports + 1) *
		    sizeof(*s->reports));
		r = &s->reports[s->nreports++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->sop_instance_uid = dup(st, 1);
		r->created_at = sqlite3_column_int64(st, 2);
		r->model = dup(st, 3);
		r->findings = dup(st, 4);
		r->impression = dup(st, 5);
		r->path = dup(st, 6);
		r->superseded = sqlite3_column_type(st, 7) != SQLITE_NULL;
		r->draft_ms = inull(st, 8);
		r->findings_ms = inull(st, 9);
		r->impression_ms = inull(st, 10);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	for (size_t i = 0; i < s->nreports; i++)
		if (load_views(db, &s->reports[i]) == -1 ||
		    load_deliveries(db, &s->reports[i]) == -1)
			return -1;
	return 0;
}

/* study_read - the study row st selects (bound), then everything of it */
static int
study_read(struct db *db, sqlite3_stmt *st, struct catalog_study **out)
{
	struct catalog_study *s;
	int rc;

	if ((rc = db_step(db, st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	s = xcalloc(1, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	s->study_uid = dup(st, 1);
	s->first_received_at = sqlite3_column_int64(st, 2);
	s->last_received_at = sqlite3_column_int64(st, 3);
	s->job_created_at = inull(st, 4);
	s->redraft = sqlite3_column_int(st, 5);
	sqlite3_reset(st);
	if (load_instances(db, s) == -1 || load_jobs(db, s) == -1 ||
	    load_reports(db, s) == -1) {
		catalog_study_free(s);
		return -1;
	}
	*out = s;
	return 1;
}

/* catalog_study_read - by study UID */
int
catalog_study_read(struct db *db, const char *study_uid,
    struct catalog_study **out)
{
	sqlite3_stmt *st = db_prepare(db, study_sql);

	*out = NULL;
	if (st == NULL || sqlite3_bind_text(st, 1, study_uid, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK)
		return -1;
	return study_read(db, st, out);
}

/* catalog_study_read_job - by one of the study's jobs */
int
catalog_study_read_job(struct db *db, int64_t job_id,
    struct catalog_study **out)
{
	sqlite3_stmt *st = db_prepare(db, job_study_sql);

	*out = NULL;
	if (st == NULL || sqlite3_bind_int64(st, 1, job_id) != SQLITE_OK)
		return -1;
	return study_read(db, st, out);
}

/* catalog_study_free - the reports' parts, the arrays, the record */
void
catalog_study_free(struct catalog_study *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nreports; i++) {
		struct catalog_report *r = &s->reports[i];

		for (size_t k = 0; k < r->ndeliveries; k++) {
			sfree(r->deliveries[k].archive);
			sfree(r->deliveries[k].last_error);
		}
		free(r->deliveries);
		for (size_t k = 0; k < r->nviews; k++) {
			sfree(r->views[k].kind);
			sfree(r->views[k].view_position);
			sfree(r->views[k].sop_instance_uid);
		}
		free(r->views);
		sfree(r->sop_instance_uid);
		sfree(r->model);
		sfree(r->findings);
		sfree(r->impression);
		sfree(r->path);
	}
	free(s->reports);
	for (size_t i = 0; i < s->njobs; i++)
		sfree(s->jobs[i].last_error);
	free(s->jobs);
	for (size_t i = 0; i < s->ninstances; i++) {
		struct catalog_instance *in = &s->instances[i];

		sfree(in->sop_instance_uid);
		sfree(in->sop_class_uid);
		sfree(in->transfer_syntax);
		sfree(in->calling_ae);
		sfree(in->series_uid);
	}
	free(s->instances);
	sfree(s->study_uid);
	free(s);
}

/* ---- report ---- */

/* catalog_latest_read - the newest report row, then the study's instances */
int
catalog_latest_read(struct db *db, const char *study_uid,
    struct catalog_latest **out)
{
	/* The latest: a redraft's row comes after the one it replaces. */
	static const char rep_sql[] =
	    "SELECT r.sop_instance_uid, r.series_uid, r.sop_class_uid, r.path,"
	    " r.size, r.created_at, r.model, r.findings, r.impression,"
	    " s.study_uid, (SELECT p.sop_instance_uid FROM reports p"
	    "  WHERE p.id = r.predecessor_id)"
	    " FROM reports r JOIN studies s ON s.id = r.study_id"
	    " WHERE s.study_uid = ?1 ORDER BY r.created_at DESC, r.id DESC"
	    " LIMIT 1";
	static const char src_sql[] =
	    "SELECT i.sop_instance_uid, i.sop_class_uid, i.series_uid"
	    " FROM instances i JOIN studies s ON s.id = i.study_id"
	    " WHERE s.study_uid = ?1 ORDER BY i.id";
	struct catalog_latest *r;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((st = db_prepare(db, rep_sql)) == NULL || sqlite3_bind_text(st, 1,
	    study_uid, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return -1;
	if ((rc = db_step(db, st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	r = xcalloc(1, sizeof(*r));
	r->sop_instance_uid = dup(st, 0);
	r->series_uid = dup(st, 1);
	r->sop_class_uid = dup(st, 2);
	r->path = dup(st, 3);
	r->size = sqlite3_column_int64(st, 4);
	r->created_at = sqlite3_column_int64(st, 5);
	r->model = dup(st, 6);
	r->findings = dup(st, 7);
	r->impression = dup(st, 8);
	r->study_uid = dup(st, 9);
	r->predecessor = dup(st, 10);
	sqlite3_reset(st);
	if ((st = db_prepare(db, src_sql)) == NULL || sqlite3_bind_text(st, 1,
	    study_uid, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		catalog_latest_free(r);
		return -1;
	}
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct catalog_source *s;

		r->sources = xrealloc(r->sources, (r->nsources + 1) *
		    sizeof(*r->sources));
		s = &r->sources[r->nsources++];
		s->sop_instance_uid = dup(st, 0);
		s->sop_class_uid = dup(st, 1);
		s->series_uid = dup(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		catalog_latest_free(r);
		return -1;
	}
	*out = r;
	return 1;
}

/* catalog_latest_free - sources, fields, record */
void
catalog_latest_free(struct catalog_latest *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsources; i++) {
		sfree(r->sources[i].sop_instance_uid);
		sfree(r->sources[i].sop_class_uid);
		sfree(r->sources[i].series_uid);
	}
	free(r->sources);
	sfree(r->study_uid);
	sfree(r->sop_instance_uid);
	sfree(r->series_uid);
	sfree(r->sop_class_uid);
	sfree(r->path);
	sfree(r->model);
	sfree(r->findings);
	sfree(r->impression);
	sfree(r->predecessor);
	free(r);
}

/* ---- stats ---- */

/* catalog_counts_read - table sizes and jobs by stage and state */
int
catalog_counts_read(struct db *db, struct catalog_counts *c)
{
	static const char inst_sql[] = "SELECT count(*) FROM instances";
	static const char count_studies_sql[] = "SELECT count(*) FROM studies";
	static const char rep_sql[] = "SELECT count(*) FROM reports";
	static const char acc_sql[] =
	    "SELECT count(*) FROM deliveries WHERE accepted_at IS NOT NULL";
	static const char count_jobs_sql[] =
	    "SELECT stage, state, count(*) FROM jobs GROUP BY stage, state";
	sqlite3_stmt *st;
	enum queue_stage sg;
	enum queue_state se;
	int rc;

	memset(c, 0, sizeof(*c));
	if (count(db, inst_sql, &c->instances) == -1 ||
	    count(db, count_studies_sql, &c->studies) == -1 ||
	    count(db, rep_sql, &c->reports) == -1 ||
	    count(db, acc_sql, &c->deliveries_accepted) == -1)
		return -1;
	if ((st = db_prepare(db, count_jobs_sql)) == NULL)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		/* a stage or state this build does not know is not counted */
		if (stage_of(st, 0, &sg) == 0 && state_of(st, 1, &se) == 0)
			c->jobs[sg][se] = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* catalog_latency_read - one latency query, sorted by SQLite */
int
catalog_latency_read(struct db *db, enum catalog_latency kind, int64_t since,
    int64_t **ms, size_t *n)
{
	static const char *const sqls[CATALOG_NLATENCIES] = {
		[CATALOG_SETTLE_TO_REPORT] =
		    "SELECT r.created_at - s.last_received_at FROM reports r"
		    " JOIN studies s ON s.id = r.study_id"
		    " WHERE r.created_at >= ?1 ORDER BY 1",
		[CATALOG_REPORT_TO_ACCEPT] =
		    "SELECT min(d.accepted_at) - r.created_at FROM reports r"
		    " JOIN deliveries d ON d.report_id = r.id"
		    " WHERE d.accepted_at IS NOT NULL GROUP BY r.id"
		    " HAVING min(d.accepted_at) >= ?1 ORDER BY 1",
		[CATALOG_RECEIVED_TO_ACCEPT] =
		    "SELECT min(d.accepted_at) - s.last_received_at"
		    " FROM reports r JOIN studies s ON s.id = r.study_id"
		    " JOIN deliveries d ON d.report_id = r.id"
		    " WHERE d.accepted_at IS NOT NULL GROUP BY r.id"
		    " HAVING min(d.accepted_at) >= ?1 ORDER BY 1",
	};
	sqlite3_stmt *st;
	int64_t *v = NULL;
	size_t k = 0, cap = 0;
	int rc;

	*ms = NULL;
	*n = 0;
	if ((unsigned)kind >= CATALOG_NLATENCIES)
		panic("catalog: latency %d", (int)kind);
	if ((st = db_prepare(db, sqls[kind])) == NULL ||
	    sqlite3_bind_int64(st, 1, since) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[k++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*ms = v;
	*n = k;
	return 0;
}

/* ---- purge ---- */

/*
 * A study purge may take: old enough, at least one job, every job in the
 * finished set, and for FAILED at least one failed.  ?1 cutoff, ?2 state.
 */
#define PURGE_WHERE \
    " s.last_received_at < ?1" \
    " AND EXISTS (SELECT 1 FROM jobs j WHERE j.study_id = s.id)" \
    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.study_id = s.id" \
    "  AND j.state NOT IN ('DONE', ?2))" \
    " AND (?2 = 'DONE' OR EXISTS (SELECT 1 FROM jobs j" \
    "  WHERE j.study_id = s.id AND j.state = 'FAILED'))"
#define UNDELIVERED \
    "EXISTS (SELECT 1 FROM reports r JOIN deliveries d ON d.report_id = r.id" \
    " WHERE r.study_id = s.id AND d.accepted_at IS NULL)"

static int
purge_bind(sqlite3_stmt *st, int64_t cutoff, enum queue_state finished)
{
	if (finished != QUEUE_DONE && finished != QUEUE_FAILED)
		panic("catalog: purge of %s studies",
		    queue_state_name(finished));
	return sqlite3_bind_int64(st, 1, cutoff) == SQLITE_OK &&
	    sqlite3_bind_text(st, 2, queue_state_name(finished), -1,
	    SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

/* catalog_purge_list - the candidates, each with its counts */
int
catalog_purge_list(struct db *db, int64_t cutoff, enum queue_state finished,
    struct catalog_purge **out, size_t *n)
{
	static const char sql[] =
	    "SELECT s.id, s.study_uid,"
	    " (SELECT count(*) FROM instances WHERE study_id = s.id),"
	    " (SELECT count(*) FROM reports WHERE study_id = s.id),"
	    " " UNDELIVERED
	    " FROM studies s WHERE" PURGE_WHERE " ORDER BY s.id";
	struct catalog_purge *v = NULL;
	sqlite3_stmt *st;
	size_t k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((st = db_prepare(db, sql)) == NULL ||
	    purge_bind(st, cutoff, finished) == -1)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		memset(&v[k], 0, sizeof(v[k]));
		v[k].study_id = sqlite3_column_int64(st, 0);
		snprintf(v[k].study_uid, sizeof(v[k].study_uid), "%s",
		    col(st, 1));
		v[k].instances = sqlite3_column_int(st, 2);
		v[k].reports = sqlite3_column_int(st, 3);
		v[k].undelivered = sqlite3_column_int(st, 4);
		k++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

/* catalog_purge_check - the same test, for one study, delivered */
int
catalog_purge_check(struct db *db, int64_t study_id, int64_t cutoff,
    enum queue_state finished, int *instances, int *reports)
{
	static const char sql[] =
	    "SELECT (SELECT count(*) FROM instances WHERE study_id = s.id),"
	    " (SELECT count(*) FROM reports WHERE study_id = s.id)"
	    " FROM studies s WHERE s.id = ?3 AND" PURGE_WHERE
	    " AND NOT " UNDELIVERED;
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, sql)) == NULL ||
	    purge_bind(st, cutoff, finished) == -1 ||
	    sqlite3_bind_int64(st, 3, study_id) != SQLITE_OK)
		return -1;
	if ((rc = db_step(db, st)) == SQLITE_ROW) {
		*instances = sqlite3_column_int(st, 0);
		*reports = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* catalog_study_files - instance and report files, each path once */
int
catalog_study_files(struct db *db, int64_t study_id, char ***paths,
    size_t *n)
{
	static const char sql[] =
	    "SELECT path FROM instances WHERE study_id = ?1"
	    " UNION SELECT path FROM reports WHERE study_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	char **v = NULL;
	size_t k = 0;
	int rc;

	*paths = NULL;
	*n = 0;
	if (st == NULL || sqlite3_bind_int64(st, 1, study_id) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		v[k++] = xstrdup(col(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		catalog_files_free(v, k);
		return -1;
	}
	*paths = v;
	*n = k;
	return 0;
}

/* catalog_files_free - paths from catalog_study_files */
void
catalog_files_free(char **paths, size_t n)
{
	if (paths == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
