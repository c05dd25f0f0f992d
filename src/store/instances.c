/* SPDX-License-Identifier: GPL-2.0-or-later */
/* instances - studies and instances rows: index, lookups, purge. */
#include <stdio.h>
#include <string.h>

#include "store/db_sql.h"
#include "store/instances.h"

int
instances_of_study(struct db *db, int64_t study_id, instances_fn fn, void *arg)
{
	static const char sql[] =
	    "SELECT path, sop_instance_uid FROM instances WHERE study_id = ?1"
	    " ORDER BY received_at, id";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, study_id);
	while ((rc = db_step(db, st)) == SQLITE_ROW)
		if (fn(arg, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1)) == -1) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
instances_path(struct db *db, const char *sop_instance_uid, char *path,
    size_t pathsz)
{
	static const char sql[] =
	    "SELECT path FROM instances WHERE sop_instance_uid = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == SQLITE_ROW &&
	    (size_t)snprintf(path, pathsz, "%s", sqlite3_column_text(st, 0)) >=
	    pathsz)
		rc = SQLITE_TOOBIG;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* instances_purge_study - the instances rows, then the studies row */
int
instances_purge_study(struct db *db, int64_t study_id)
{
	static const char *const sqls[] = {
		"DELETE FROM instances WHERE study_id = ?1",
		"DELETE FROM studies WHERE id = ?1",
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

/* instances_held - the study, patient and path of a SOP Instance UID */
int
instances_held(struct db *db, const char *sop_instance_uid,
    struct instances_held *h)
{
	static const char sql[] =
	    "SELECT s.study_uid, i.patient_id, i.path FROM instances i"
	    " JOIN studies s ON s.id = i.study_id WHERE i.sop_instance_uid = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	memset(h, 0, sizeof(*h));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == SQLITE_ROW) {
		h->found = 1;
		snprintf(h->study_uid, sizeof(h->study_uid), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		h->patient_known = sqlite3_column_type(st, 1) != SQLITE_NULL;
		if (h->patient_known)
			snprintf(h->patient_id, sizeof(h->patient_id), "%s",
			    (const char *)sqlite3_column_text(st, 1));
		if ((size_t)snprintf(h->path, sizeof(h->path), "%s",
		    (const char *)sqlite3_column_text(st, 2)) >= sizeof(h->path))
			rc = SQLITE_TOOBIG;
		else
			rc = db_step(db, st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* instances_index - the studies and instances rows of a stored instance */
int
instances_index(struct db *db, const struct instance_meta *m, const char *path,
    int64_t size, int64_t now, struct instances_indexed *ix)
{
	static const char study_sql[] =
	    "INSERT INTO studies (study_uid, first_received_at, last_received_at)"
	    " VALUES (?1, ?2, ?2) ON CONFLICT (study_uid) DO UPDATE"
	    " SET last_received_at = max(last_received_at, excluded.last_received_at)"
	    " RETURNING id";
	static const char inst_sql[] =
	    "INSERT INTO instances (sop_instance_uid, study_id, series_uid,"
	    " sop_class_uid, transfer_syntax, path, size, received_at, calling_ae,"
	    " patient_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	    " ON CONFLICT (sop_instance_uid) DO UPDATE SET study_id = excluded.study_id,"
	    " series_uid = excluded.series_uid, sop_class_uid = excluded.sop_class_uid,"
	    " transfer_syntax = excluded.transfer_syntax, path = excluded.path,"
	    " size = excluded.size, received_at = excluded.received_at,"
	    " calling_ae = excluded.calling_ae, patient_id = excluded.patient_id,"
	    " replaced = replaced + 1"
	    " RETURNING id, replaced";
	sqlite3_stmt *st;

	memset(ix, 0, sizeof(*ix));
	if ((st = db_prepare(db, study_sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, m->study_uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (db_step(db, st) != SQLITE_ROW)
		goto fail;
	ix->study_id = sqlite3_column_int64(st, 0);
	if (db_step(db, st) != SQLITE_DONE)
		goto fail;

	if ((st = db_prepare(db, inst_sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, m->sop_instance_uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ix->study_id);
	sqlite3_bind_text(st, 3, m->series_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->sop_class_uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->transfer_syntax, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, size);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_text(st, 9, m->calling_ae, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, m->patient_id, -1, SQLITE_STATIC);
	if (db_step(db, st) != SQLITE_ROW)
		goto fail;
	ix->instance_id = sqlite3_column_int64(st, 0);
	ix->is_new = sqlite3_column_int(st, 1) == 0;
	if (db_step(db, st) != SQLITE_DONE)
		goto fail;
	return 0;
fail:
	sqlite3_reset(st);
	return -1;
}
