/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reports - reports, their views and deliveries. */
#include <stdio.h>
#include <string.h>

#include "store/db_sql.h"
#include "store/reports.h"
#include "core/clock.h"

static void
copy_col(char *dst, size_t dstsz, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	if ((size_t)snprintf(dst, dstsz, "%s", v ? (const char *)v : "") >= dstsz)
		dst[0] = '\0';	/* too long: the caller sees it unusable */
}

int
reports_current(struct db *db, int64_t study_id, struct reports_current *r)
{
	static const char sql[] =
	    "SELECT s.study_uid, r.id, r.series_uid, r.sop_instance_uid,"
	    " r.sop_class_uid, r.path, r.created_at"
	    " FROM studies s LEFT JOIN reports r"
	    "  ON r.study_id = s.id AND r.superseded_by IS NULL"
	    " WHERE s.id = ?1 ORDER BY r.created_at DESC, r.id DESC LIMIT 1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc, found = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->study_uid, sizeof(r->study_uid), "?");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	if ((rc = db_step(db, st)) == SQLITE_ROW) {
		copy_col(r->study_uid, sizeof(r->study_uid), st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			found = 1;
			r->id = sqlite3_column_int64(st, 1);
			copy_col(r->series_uid, sizeof(r->series_uid), st, 2);
			copy_col(r->sop_instance_uid,
			    sizeof(r->sop_instance_uid), st, 3);
			copy_col(r->sop_class_uid, sizeof(r->sop_class_uid), st, 4);
			copy_col(r->path, sizeof(r->path), st, 5);
			r->created_at = sqlite3_column_int64(st, 6);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return found;
}

int
reports_record(struct db *db, const struct reports_new *r, int64_t *id)
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
	sqlite3_stmt *st;
	int64_t rid;

	if ((st = db_prepare(db, rep_sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, r->study_id);
	sqlite3_bind_text(st, 2, r->sop_instance_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->series_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->sop_class_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->size);
	sqlite3_bind_int64(st, 7, clock_now_ms());
	if (r->predecessor_id > 0)
		sqlite3_bind_int64(st, 8, r->predecessor_id);
	sqlite3_bind_text(st, 9, r->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->findings, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->impression, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, r->draft_ms);
	sqlite3_bind_int64(st, 13, r->findings_ms);
	sqlite3_bind_int64(st, 14, r->impression_ms);
	if (db_step(db, st) != SQLITE_DONE)
		return -1;
	rid = sqlite3_last_insert_rowid(db_sqlite(db));
	for (int i = 0; i < r->nviews; i++) {
		if ((st = db_prepare(db, view_sql)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int(st, 2, i + 1);
		sqlite3_bind_text(st, 3, r->views[i].sop_instance_uid, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->views[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->views[i].view_position, -1,
		    SQLITE_STATIC);
		if (db_step(db, st) != SQLITE_DONE)
			return -1;
	}
	if (r->predecessor_id > 0) {
		if ((st = db_prepare(db, sup_sql)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, r->predecessor_id);
		sqlite3_bind_int64(st, 2, rid);
		if (db_step(db, st) != SQLITE_DONE)
			return -1;
	}
	for (size_t i = 0; i < r->narchives; i++) {
		if ((st = db_prepare(db, del_sql)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_text(st, 2, r->archives[i], -1, SQLITE_STATIC);
		if (db_step(db, st) != SQLITE_DONE)
			return -1;
	}
	if (id != NULL)
		*id = rid;
	return 0;
}

int
reports_has_path(struct db *db, const char *path)
{
	static const char sql[] = "SELECT 1 FROM reports WHERE path = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = db_step(db, st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
reports_accepted(struct db *db, int64_t report_id, const char *archive)
{
	static const char sql[] =
	    "SELECT 1 FROM deliveries WHERE report_id = ?1 AND archive = ?2"
	    " AND accepted_at IS NOT NULL";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, report_id);
	sqlite3_bind_text(st, 2, archive, -1, SQLITE_STATIC);
	rc = db_step(db, st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
reports_delivery_ensure(struct db *db, int64_t report_id, const char *archive)
{
	static const char sql[] =
	    "INSERT INTO deliveries (report_id, archive) VALUES (?1, ?2)"
	    " ON CONFLICT (report_id, archive) DO NOTHING";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, report_id);
	sqlite3_bind_text(st, 2, archive, -1, SQLITE_STATIC);
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}

int
reports_pending(struct db *db, int64_t report_id, reports_delivery_fn fn,
    void *arg)
{
	static const char sql[] =
	    "SELECT id, archive FROM deliveries"
	    " WHERE report_id = ?1 AND accepted_at IS NULL ORDER BY id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, report_id);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (fn(arg, sqlite3_column_int64(st, 0), name ? name : "?") == -1) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
reports_delivery_outcome(struct db *db, int64_t delivery_id, int accepted,
    long status, const char *err)
{
	static const char ok_sql[] =
	    "UPDATE deliveries SET accepted_at = ?2, status = ?3,"
	    " attempts = attempts + 1, last_error = ?4"
	    " WHERE id = ?1 AND accepted_at IS NULL";
	static const char fail_sql[] =
	    "UPDATE deliveries SET status = ?3, attempts = attempts + 1,"
	    " last_error = ?4 WHERE id = ?1 AND accepted_at IS NULL";
	sqlite3_stmt *st;

	if (db_begin(db) == -1)
		return -1;
	if ((st = db_prepare(db, accepted ? ok_sql : fail_sql)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, delivery_id);
	if (accepted)
		sqlite3_bind_int64(st, 2, clock_now_ms());
	if (status >= 0)
		sqlite3_bind_int64(st, 3, status);
	if (err != NULL)
		sqlite3_bind_text(st, 4, err, -1, SQLITE_TRANSIENT);
	if (db_step(db, st) != SQLITE_DONE)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return -1;
}

/* ---- purge and admin (below) ---- */

/* reports_delivery_reset - made when missing, else pending again */
int
reports_delivery_reset(struct db *db, int64_t report_id, const char *archive)
{
	static const char sql[] =
	    "INSERT INTO deliveries (report_id, archive) VALUES (?1, ?2)"
	    " ON CONFLICT (report_id, archive) DO UPDATE SET"
	    " accepted_at = NULL, status = NULL, last_error = NULL";
	sqlite3_stmt *st = db_prepare(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, report_id);
	sqlite3_bind_text(st, 2, archive, -1, SQLITE_TRANSIENT);
	return db_step(db, st) == SQLITE_DONE ? 0 : -1;
}

/* reports_purge_study - views, deliveries, the supersede chain, reports */
int
reports_purge_study(struct db *db, int64_t study_id)
{
	static const char *const sqls[] = {
		"DELETE FROM report_views WHERE report_id IN (SELECT id FROM"
		" reports WHERE study_id = ?1)",
		"DELETE FROM deliveries WHERE report_id IN (SELECT id FROM"
		" reports WHERE study_id = ?1)",
		/* the rows name each other: unlink before deleting */
		"UPDATE reports SET superseded_by = NULL, predecessor_id = NULL"
		" WHERE study_id = ?1",
		"DELETE FROM reports WHERE study_id = ?1",
	};
	sqlite3_stmt *st;

	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		if ((st = db_prepare(db, sqls[i])) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, study_id);
		if (db_step(db, st) != SQLITE_DONE)
			return -1;
	}
	return 0;
}
