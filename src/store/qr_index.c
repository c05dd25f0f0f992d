/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_index - the only writer of table qr_index: one row per report, and
 * with query_images one per received instance, from the values the DICOM
 * bridge took from the data set it held (the C-STORE on an association
 * thread, sr_write on the worker), in the caller's transaction.  Only
 * start-up recovery reads files, through the reader it is given, so this
 * module links without the bridge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_sql.h"
#include "dicom/qr.h"
#include "core/log.h"
#include "store/qr_index.h"
#include "store/qr_schema.h"
#include "core/xmem.h"

/* Beyond the attribute columns: the file's transfer syntax. */
#define TAG_TS	DCM_QR_TAG(0x0002, 0x0010)
/* What a row without one says: the syntax radscribed writes. */
#define TS_DEFAULT	"1.2.840.10008.1.2.1"

/* normalise_tm - HH[:]MM[:]SS[.F] as HHMMSS[.F] (PS3.5 6.2 TM), malloc'd */
static char *
normalise_tm(const char *v)
{
	char buf[64], *dot;
	size_t n = 0, ip;

	for (const char *p = v; *p && n + 1 < sizeof(buf); p++)
		if (*p != ':')
			buf[n++] = *p;
	buf[n] = '\0';
	dot = strchr(buf, '.');
	ip = dot ? (size_t)(dot - buf) : n;
	if ((ip == 2 || ip == 4) && n + 6 - ip < sizeof(buf)) {
		memmove(buf + 6, buf + ip, n - ip + 1);
		memset(buf + ip, '0', 6 - ip);
	}
	return xstrdup(buf);
}

/* value - a's value of tag; NULL when absent or not asked for. */
static const char *
value(const struct dcm_qr_attrs *a, uint32_t tag)
{
	for (size_t i = 0; i < a->n && i < DCM_QR_ATTRS_MAX; i++)
		if (a->tags[i] == tag)
			return a->values[i];
	return NULL;
}

/* required - a NOT NULL column of qr_index */
static int
required(const char *column)
{
	return strcmp(column, "SOPInstanceUID") == 0 ||
	    strcmp(column, "SOPClassUID") == 0 ||
	    strcmp(column, "StudyInstanceUID") == 0 ||
	    strcmp(column, "SeriesInstanceUID") == 0;
}

/*
 * put - the row of the report (report 1) or the received instance
 * (report 0) with that id, at path, from a: replaces the row of the same
 * id or SOP Instance UID.  0, 1 (not indexed, logged) or -1 (database).
 */
static int
put(struct db *db, int report, int64_t id, const char *path,
    const struct dcm_qr_attrs *a)
{
	static const char taken_sql[] =
	    "SELECT 1 FROM qr_index WHERE SOPInstanceUID = ?1 AND report_id IS NOT NULL";
	const struct qr_attr *cols[DCM_QR_ATTRS_MAX];
	const char *vals[DCM_QR_ATTRS_MAX], *sop = NULL, *ts;
	char *tm[DCM_QR_ATTRS_MAX] = { NULL };
	char *sql = NULL;
	size_t ncol = 0, len, cap = 4096;
	sqlite3_stmt *st = NULL;
	int rc = 1, step;

	for (size_t i = 0; i < qr_schema_nattrs && ncol < DCM_QR_ATTRS_MAX; i++) {
		const struct qr_attr *c = &qr_schema_attrs[i];

		if (!qr_schema_stored(c))
			continue;
		vals[ncol] = value(a, c->tag);
		if (vals[ncol] != NULL && c->kind == QR_TM)
			vals[ncol] = tm[ncol] = normalise_tm(vals[ncol]);
		if (strcmp(c->column, "SOPInstanceUID") == 0)
			sop = vals[ncol];
		if (vals[ncol] == NULL && required(c->column)) {
			log_warn("qr index: %s: no %s; not indexed", path,
			    c->column);
			goto out;
		}
		cols[ncol++] = c;
	}
	if (!report) {
		/* an instance never displaces a report of the same UID */
		if ((st = db_prepare(db, taken_sql)) == NULL) {
			rc = -1;
			goto out;
		}
		sqlite3_bind_text(st, 1, sop, -1, SQLITE_STATIC);
		step = db_step(db, st);
		sqlite3_reset(st);
		st = NULL;
		if (step == SQLITE_ROW) {
			log_warn("qr index: received sop=%s is one of our reports; "
			    "not indexed as an instance", sop);
			goto out;
		}
		if (step != SQLITE_DONE) {
			rc = -1;
			goto out;
		}
	}
	sql = xmalloc(cap);
	len = (size_t)snprintf(sql, cap, "INSERT OR REPLACE INTO qr_index "
	    "(%s, path, transfer_syntax", report ? "report_id" : "instance_id");
	for (size_t i = 0; i < ncol && len < cap; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", %s",
		    cols[i]->column);
	if (len < cap)
		len += (size_t)snprintf(sql + len, cap - len, ") VALUES (?, ?, ?");
	for (size_t i = 0; i < ncol && len < cap; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", ?");
	if (len < cap)
		len += (size_t)snprintf(sql + len, cap - len, ")");
	if (len >= cap)
		panic("qr index: statement longer than %zu", cap);
	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
		rc = -1;
		goto out;
	}
	ts = value(a, TAG_TS);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ts ? ts : TS_DEFAULT, -1, SQLITE_STATIC);
	for (size_t i = 0; i < ncol; i++)
		if (vals[i] != NULL)
			sqlite3_bind_text(st, (int)i + 4, vals[i], -1, SQLITE_STATIC);
	if (db_step(db, st) != SQLITE_DONE) {
		rc = -1;
		goto out;
	}
	log_debug("qr index: %s sop=%s indexed", report ? "report" : "instance",
	    sop);
	rc = 0;
out:
	sqlite3_finalize(st);
	free(sql);
	for (size_t i = 0; i < DCM_QR_ATTRS_MAX; i++)
		free(tm[i]);
	return rc;
}

/* qr_index_attrs_init - the tags of the stored columns and the syntax */
void
qr_index_attrs_init(struct dcm_qr_attrs *a)
{
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < qr_schema_nattrs && a->n + 1 < DCM_QR_ATTRS_MAX; i++)
		if (qr_schema_stored(&qr_schema_attrs[i]))
			a->tags[a->n++] = qr_schema_attrs[i].tag;
	a->tags[a->n++] = TAG_TS;
}

/* qr_index_put_report - the row of a recorded report */
int
qr_index_put_report(struct db *db, int64_t report_id, const char *path,
    const struct dcm_qr_attrs *a)
{
	return put(db, 1, report_id, path, a);
}

/* qr_index_put_instance - the row of a received instance */
int
qr_index_put_instance(struct db *db, int64_t instance_id, const char *path,
    const struct dcm_qr_attrs *a)
{
	return put(db, 0, instance_id, path, a);
}

/* index_file - the row of what is at path, read with reader; as put. */
static int
index_file(struct db *db, int report, int64_t id, const char *path,
    qr_index_read_fn reader)
{
	struct dcm_qr_attrs a;
	char err[512];
	int rc;

	qr_index_attrs_init(&a);
	if (reader(path, a.tags, a.n, a.values, err, sizeof(err)) == -1) {
		log_warn("qr index: %s; not indexed", err);
		return 1;
	}
	rc = put(db, report, id, path, &a);
	for (size_t i = 0; i < a.n; i++)
		free(a.values[i]);
	return rc;
}

/* qr_index_missing - rows for what has none (start-up) */
int
qr_index_missing(struct db *db, int images, qr_index_read_fn reader)
{
	static const char sql[] =
	    "SELECT 1, r.id, r.path FROM reports r LEFT JOIN qr_index q ON q.report_id = r.id"
	    " WHERE q.id IS NULL"
	    " UNION ALL SELECT 0, i.id, i.path FROM instances i"
	    " LEFT JOIN qr_index q ON q.instance_id = i.id"
	    " WHERE ?1 AND q.id IS NULL ORDER BY 1 DESC, 2";
	struct todo {
		int	 report;
		int64_t	 id;
		char	*path;
	} *todo = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc, done = 0;

	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	sqlite3_bind_int(st, 1, images != 0);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		todo = xrealloc(todo, (n + 1) * sizeof(*todo));
		todo[n].report = sqlite3_column_int(st, 0);
		todo[n].id = sqlite3_column_int64(st, 1);
		todo[n].path = xstrdup((const char *)sqlite3_column_text(st, 2));
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		done = -1;
	for (size_t i = 0; i < n && done != -1; i++) {
		if (db_begin(db) == -1) {
			done = -1;
			break;
		}
		switch (index_file(db, todo[i].report, todo[i].id, todo[i].path,
		    reader)) {
		case 0:
			done++;
			/* FALLTHROUGH */
		case 1:
			if (db_commit(db) == -1)
				done = -1;
			break;
		default:
			db_rollback(db);
			done = -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(todo[i].path);
	free(todo);
	return done;
}

/* qr_index_purge_study - the rows of a study's reports and instances */
int
qr_index_purge_study(struct db *db, int64_t study_id)
{
	static const char sql[] =
	    "DELETE FROM qr_index WHERE report_id IN (SELECT id FROM reports"
	    " WHERE study_id = ?1) OR instance_id IN (SELECT id FROM instances"
	    " WHERE study_id = ?1)";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}
