/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_index - one qr_index row per report, from the SR file's header read
 * through the bridge (UTF-8).  Called by the worker inside its recording
 * transaction and by start-up recovery; never by association threads.
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

/* normalise_tm - HH[:]MM[:]SS[.F] as HHMMSS[.F] (PS3.5 6.2 TM); takes v. */
static char *
normalise_tm(char *v)
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
	free(v);
	return xstrdup(buf);
}

/* report_id - the reports row of the SR; 0 if none, -1 on error. */
static int64_t
report_id(struct db *db, const char *sop, const char *path)
{
	static const char sql[] =
	    "SELECT id FROM reports WHERE sop_instance_uid = ?1 OR path = ?2"
	    " ORDER BY sop_instance_uid = ?1 DESC LIMIT 1";
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sop, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	rc = db_step(db, st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		id = -1;
	sqlite3_reset(st);
	return id;
}

/*
 * index_file - the row of the file at path, for the report (report 1) or
 * the received instance (report 0) with that id, or found by the SOP
 * Instance UID of the file when id is 0.  0, 1 (not indexed, logged) or
 * -1 (database).
 */
static int
index_file(struct db *db, const char *path, int report, int64_t id)
{
	static const char taken_sql[] =
	    "SELECT 1 FROM qr_index WHERE SOPInstanceUID = ?1 AND report_id IS NOT NULL";
	size_t n = 0, ncol = 0;
	uint32_t tags[64];
	const struct qr_attr *cols[64];
	char *values[64], err[512], *sql = NULL, *p;
	size_t len = 0, cap = 4096;
	sqlite3_stmt *st = NULL;
	const char *sop = NULL;
	int rc = 1, step;

	for (size_t i = 0; i < qr_schema_nattrs && n < 63; i++)
		if (qr_schema_stored(&qr_schema_attrs[i])) {
			cols[ncol++] = &qr_schema_attrs[i];
			tags[n++] = qr_schema_attrs[i].tag;
		}
	tags[n++] = TAG_TS;
	if (dcm_attrs_read(path, tags, n, values, err, sizeof(err)) == -1) {
		log_warn("qr index: %s; not indexed", err);
		return 1;
	}
	for (size_t i = 0; i < ncol; i++) {
		if (values[i] != NULL && cols[i]->kind == QR_TM)
			values[i] = normalise_tm(values[i]);
		if (strcmp(cols[i]->column, "SOPInstanceUID") == 0)
			sop = values[i];
		/* NOT NULL columns */
		if (values[i] == NULL && (strcmp(cols[i]->column, "SOPInstanceUID") == 0 ||
		    strcmp(cols[i]->column, "SOPClassUID") == 0 ||
		    strcmp(cols[i]->column, "StudyInstanceUID") == 0 ||
		    strcmp(cols[i]->column, "SeriesInstanceUID") == 0)) {
			log_warn("qr index: %s: no %s; not indexed", path,
			    cols[i]->column);
			goto out;
		}
	}
	if (report && id == 0) {
		if ((id = report_id(db, sop, path)) == -1) {
			rc = -1;
			goto out;
		}
		if (id == 0) {
			log_warn("qr index: %s: no report recorded for sop=%s; "
			    "not indexed", path, sop);
			goto out;
		}
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
	for (size_t i = 0; i < ncol; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", %s",
		    cols[i]->column);
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES (?, ?, ?");
	for (size_t i = 0; i < ncol; i++)
		len += (size_t)snprintf(sql + len, cap - len, ", ?");
	len += (size_t)snprintf(sql + len, cap - len, ")");
	if (len >= cap)
		panic("qr index: statement longer than %zu", cap);
	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
		rc = -1;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	p = values[n - 1];
	sqlite3_bind_text(st, 3, p ? p : "1.2.840.10008.1.2.1", -1, SQLITE_STATIC);
	for (size_t i = 0; i < ncol; i++)
		if (values[i] != NULL)
			sqlite3_bind_text(st, (int)i + 4, values[i], -1, SQLITE_STATIC);
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
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	return rc;
}

/* qr_index_report - the row of a recorded report */
int
qr_index_report(struct db *db, const char *path)
{
	return index_file(db, path, 1, 0);
}

/* qr_index_instance - the row of a received instance */
int
qr_index_instance(struct db *db, const char *sop_instance_uid)
{
	static const char sql[] =
	    "SELECT id, path FROM instances WHERE sop_instance_uid = ?1";
	sqlite3_stmt *st;
	int64_t id;
	char *path;
	int rc;

	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return -1;
		log_warn("qr index: no instance sop=%s; not indexed",
		    sop_instance_uid);
		return 1;
	}
	id = sqlite3_column_int64(st, 0);
	path = xstrdup((const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	rc = index_file(db, path, 0, id);
	free(path);
	return rc;
}

/* qr_index_missing - rows for what has none (start-up) */
int
qr_index_missing(struct db *db, int images)
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
		switch (index_file(db, todo[i].path, todo[i].report, todo[i].id)) {
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
