/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_show - `radscribe show STUDY_UID|JOB_ID`: one study with its
 * instances, jobs, reports (the views chosen, timings, text) and their
 * deliveries.  Reads only, on the
 * CLI's own connection.  Prints report text (PHI) to stdout only.
 */
#include "store/db_sql.h"
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "core/xmem.h"

static const char study_sql[] =
    "SELECT id, study_uid, first_received_at, last_received_at,"
    " job_created_at, redraft FROM studies WHERE study_uid = ?1";
static const char job_study_sql[] =
    "SELECT s.id, s.study_uid, s.first_received_at, s.last_received_at,"
    " s.job_created_at, s.redraft FROM jobs j JOIN studies s"
    " ON s.id = j.study_id WHERE j.id = ?1";
static const char inst_sql[] =
    "SELECT sop_instance_uid, sop_class_uid, transfer_syntax, size,"
    " calling_ae, received_at, series_uid FROM instances WHERE study_id = ?1"
    " ORDER BY id";
static const char jobs_sql[] =
    "SELECT id, stage, state, attempts, next_try, last_error, created_at,"
    " updated_at FROM jobs WHERE study_id = ?1 ORDER BY id";
static const char rep_sql[] =
    "SELECT id, sop_instance_uid, created_at, model, findings, impression,"
    " path, superseded_by, draft_ms, findings_ms, impression_ms"
    " FROM reports WHERE study_id = ?1 ORDER BY id";
static const char view_sql[] =
    "SELECT ordinal, kind, view_position, sop_instance_uid FROM report_views"
    " WHERE report_id = ?1 ORDER BY ordinal";
static const char del_sql[] =
    "SELECT archive, accepted_at, status, attempts, last_error"
    " FROM deliveries WHERE report_id = ?1 ORDER BY id";

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static json_object *
jint(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return json_object_new_int64(sqlite3_column_int64(st, i));
}

static const char *
num(sqlite3_stmt *st, int i, char *buf, size_t sz)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	snprintf(buf, sz, "%lld", (long long)sqlite3_column_int64(st, i));
	return buf;
}

/* instances - as a table into fp, or into the array jarr */
static int
instances(struct db *db, int64_t sid, json_object *jarr, FILE *fp)
{
	static const char *const hdr[] = { "SOP_INSTANCE_UID", "SOP_CLASS",
	    "TRANSFER_SYNTAX", "SIZE", "CALLING_AE", "RECEIVED" };
	struct cli_table *t = jarr ? NULL : cli_table_new(6, hdr);
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, inst_sql)) == NULL ||
	    sqlite3_bind_int64(st, 1, sid) != SQLITE_OK) {
		cli_table_free(t);
		return -1;
	}
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		char sz[24], at[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "sop_instance_uid", cli_json_str(col(st, 0)));
			json_object_object_add(o, "sop_class_uid", cli_json_str(col(st, 1)));
			json_object_object_add(o, "transfer_syntax", cli_json_str(col(st, 2)));
			json_object_object_add(o, "size", jint(st, 3));
			json_object_object_add(o, "calling_ae", cli_json_str(col(st, 4)));
			json_object_object_add(o, "received_at_ms", jint(st, 5));
			json_object_object_add(o, "series_uid", cli_json_str(col(st, 6)));
			json_object_array_add(jarr, o);
		} else {
			const char *c[6] = { col(st, 0), col(st, 1), col(st, 2),
			    num(st, 3, sz, sizeof(sz)), col(st, 4),
			    cli_time(sqlite3_column_int64(st, 5), at, sizeof(at)) };

			cli_table_add(t, c);
		}
	}
	if (rc == SQLITE_DONE && t != NULL) {
		fprintf(fp, "\nInstances:\n");
		cli_table_print(t, fp);
	}
	cli_table_free(t);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
jobs(struct db *db, int64_t sid, json_object *jarr, FILE *fp)
{
	static const char *const hdr[] = { "JOB", "STAGE", "STATE", "ATTEMPTS",
	    "UPDATED", "NEXT_TRY", "LAST_ERROR" };
	struct cli_table *t = jarr ? NULL : cli_table_new(7, hdr);
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, jobs_sql)) == NULL ||
	    sqlite3_bind_int64(st, 1, sid) != SQLITE_OK) {
		cli_table_free(t);
		return -1;
	}
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		char id[24], att[24], up[32], nt[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id", jint(st, 0));
			json_object_object_add(o, "stage", cli_json_str(col(st, 1)));
			json_object_object_add(o, "state", cli_json_str(col(st, 2)));
			json_object_object_add(o, "attempts", jint(st, 3));
			json_object_object_add(o, "next_try_ms", jint(st, 4));
			json_object_object_add(o, "last_error", cli_json_str(col(st, 5)));
			json_object_object_add(o, "created_at_ms", jint(st, 6));
			json_object_object_add(o, "updated_at_ms", jint(st, 7));
			json_object_array_add(jarr, o);
		} else {
			const char *c[7] = { num(st, 0, id, sizeof(id)),
			    col(st, 1), col(st, 2), num(st, 3, att, sizeof(att)),
			    cli_time(sqlite3_column_int64(st, 7), up, sizeof(up)),
			    cli_time(sqlite3_column_int64(st, 4), nt, sizeof(nt)),
			    col(st, 5) };

			cli_table_add(t, c);
		}
	}
	if (rc == SQLITE_DONE && t != NULL) {
		fprintf(fp, "\nJobs:\n");
		cli_table_print(t, fp);
	}
	cli_table_free(t);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* deliveries - of report rid, into jarr or as indented lines */
static int
deliveries(struct db *db, int64_t rid, json_object *jarr, FILE *fp)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = db_prepare(db, del_sql)) == NULL ||
	    sqlite3_bind_int64(st, 1, rid) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		char at[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "archive", cli_json_str(col(st, 0)));
			json_object_object_add(o, "accepted_at_ms", jint(st, 1));
			json_object_object_add(o, "status", jint(st, 2));
			json_object_object_add(o, "attempts", jint(st, 3));
			json_object_object_add(o, "last_error", cli_json_str(col(st, 4)));
			json_object_array_add(jarr, o);
		} else {
			fprintf(fp, "  delivery  %s: ", col(st, 0));
			if (sqlite3_column_type(st, 1) != SQLITE_NULL)
				fprintf(fp, "accepted %s, status 0x%04x",
				    cli_time(sqlite3_column_int64(st, 1), at,
				    sizeof(at)), sqlite3_column_int(st, 2));
			else
				fprintf(fp, "pending, %d attempt(s)%s%s",
				    sqlite3_column_int(st, 3),
				    col(st, 4) ? ", last error: " : "",
				    col(st, 4) ? col(st, 4) : "");
			fputc('\n', fp);
		}
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* views - the views report rid was drafted from, into jarr or one line */
static int
views(struct db *db, int64_t rid, json_object *jarr, FILE *fp)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	if ((st = db_prepare(db, view_sql)) == NULL ||
	    sqlite3_bind_int64(st, 1, rid) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "kind", cli_json_str(col(st, 1)));
			json_object_object_add(o, "view_position",
			    cli_json_str(col(st, 2)));
			json_object_object_add(o, "sop_instance_uid",
			    cli_json_str(col(st, 3)));
			json_object_array_add(jarr, o);
		} else
			fprintf(fp, "%s%s%s%s%s %s", n ? "; " : "  views     ",
			    col(st, 1), *col(st, 2) ? " (" : "", col(st, 2),
			    *col(st, 2) ? ")" : "", col(st, 3));
		n++;
	}
	if (jarr == NULL && n > 0)
		fputc('\n', fp);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * reports - each report of the study; deliveries are read after the
 * report rows (one statement at a time is stepped).
 */
static int
reports(struct db *db, int64_t sid, json_object *jarr, FILE *fp)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	json_object **objs = NULL;
	size_t n = 0;
	int rc;

	if ((st = db_prepare(db, rep_sql)) == NULL ||
	    sqlite3_bind_int64(st, 1, sid) != SQLITE_OK)
		return -1;
	if (jarr == NULL)
		fprintf(fp, "\nReports:\n");
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		char at[32];

		ids = xrealloc(ids, (n + 1) * sizeof(*ids));
		objs = xrealloc(objs, (n + 1) * sizeof(*objs));
		ids[n] = sqlite3_column_int64(st, 0);
		objs[n] = NULL;
		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "sop_instance_uid", cli_json_str(col(st, 1)));
			json_object_object_add(o, "created_at_ms", jint(st, 2));
			json_object_object_add(o, "model", cli_json_str(col(st, 3)));
			json_object_object_add(o, "findings", cli_json_str(col(st, 4)));
			json_object_object_add(o, "impression", cli_json_str(col(st, 5)));
			json_object_object_add(o, "path", cli_json_str(col(st, 6)));
			json_object_object_add(o, "superseded",
			    json_object_new_boolean(sqlite3_column_type(st, 7) !=
			    SQLITE_NULL));
			json_object_object_add(o, "draft_ms", jint(st, 8));
			json_object_object_add(o, "findings_ms", jint(st, 9));
			json_object_object_add(o, "impression_ms", jint(st, 10));
			json_object_array_add(jarr, o);
			objs[n] = o;
		} else {
			fprintf(fp, "%s  created %s  model %s%s\n", col(st, 1),
			    cli_time(sqlite3_column_int64(st, 2), at, sizeof(at)),
			    col(st, 3), sqlite3_column_type(st, 7) != SQLITE_NULL ?
			    "  (superseded)" : "");
			if (sqlite3_column_type(st, 8) != SQLITE_NULL)
				fprintf(fp, "  Drafted in %lld ms (findings %lld ms, "
				    "impression %lld ms)\n",
				    (long long)sqlite3_column_int64(st, 8),
				    (long long)sqlite3_column_int64(st, 9),
				    (long long)sqlite3_column_int64(st, 10));
			fprintf(fp, "  Findings:   %s\n", col(st, 4));
			fprintf(fp, "  Impression: %s\n", col(st, 5));
		}
		n++;
	}
	sqlite3_reset(st);
	/* Text mode printed every report already; views, deliveries follow. */
	for (size_t i = 0; rc == SQLITE_DONE && i < n; i++) {
		json_object *d = NULL, *v = NULL;

		if (objs[i] != NULL) {
			v = json_object_new_array();
			json_object_object_add(objs[i], "views", v);
			d = json_object_new_array();
			json_object_object_add(objs[i], "deliveries", d);
		} else
			fprintf(fp, "Report %zu:\n", i + 1);
		if (views(db, ids[i], v, fp) == -1 ||
		    deliveries(db, ids[i], d, fp) == -1)
			rc = SQLITE_ERROR;
	}
	free(ids);
	free(objs);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* cli_show - `show STUDY_UID|JOB_ID [--json]` */
int
cli_show(const char *conf_path, int argc, char *argv[])
{
	const char *key = NULL;
	struct conf conf;
	struct db *db;
	sqlite3_stmt *st;
	json_object *o = NULL, *ji = NULL, *jj = NULL, *jr = NULL;
	int json = 0, isjob = 1, rc = CLI_ERROR, src;
	int64_t sid;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-' || key != NULL)
			return cli_usage("usage: radscribe show "
			    "STUDY_UID|JOB_ID [--json]");
		else
			key = argv[i];
	}
	if (key == NULL)
		return cli_usage("usage: radscribe show STUDY_UID|JOB_ID [--json]");
	/* A UID has a dot; a job id is digits only. */
	for (const char *p = key; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			isjob = 0;
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	if ((st = db_prepare(db, isjob ? job_study_sql : study_sql)) == NULL)
		goto dberr;
	if (isjob)
		src = sqlite3_bind_int64(st, 1, strtoll(key, NULL, 10));
	else
		src = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (src != SQLITE_OK)
		goto dberr;
	if ((src = db_step(db, st)) == SQLITE_DONE) {
		fprintf(stderr, "radscribe: show: no %s %s\n",
		    isjob ? "job" : "study", key);
		rc = CLI_NOTFOUND;
		goto out;
	}
	if (src != SQLITE_ROW)
		goto dberr;
	sid = sqlite3_column_int64(st, 0);
	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "study_uid", cli_json_str(col(st, 1)));
		json_object_object_add(o, "first_received_at_ms", jint(st, 2));
		json_object_object_add(o, "last_received_at_ms", jint(st, 3));
		json_object_object_add(o, "job_created_at_ms", jint(st, 4));
		json_object_object_add(o, "redraft",
		    json_object_new_boolean(sqlite3_column_int(st, 5)));
		json_object_object_add(o, "instances", ji = json_object_new_array());
		json_object_object_add(o, "jobs", jj = json_object_new_array());
		json_object_object_add(o, "reports", jr = json_object_new_array());
	} else {
		char t1[32], t2[32];

		printf("Study %s\n", col(st, 1));
		printf("  received %s .. %s%s\n",
		    cli_time(sqlite3_column_int64(st, 2), t1, sizeof(t1)),
		    cli_time(sqlite3_column_int64(st, 3), t2, sizeof(t2)),
		    sqlite3_column_int(st, 5) ? "  (redraft pending)" : "");
		printf("  settled  %s\n", sqlite3_column_type(st, 4) ==
		    SQLITE_NULL ? "not yet" :
		    cli_time(sqlite3_column_int64(st, 4), t1, sizeof(t1)));
	}
	sqlite3_reset(st);
	if (instances(db, sid, ji, stdout) == -1 ||
	    jobs(db, sid, jj, stdout) == -1 ||
	    reports(db, sid, jr, stdout) == -1)
		goto dberr;
	if (json) {
		rc = cli_json_print(o, stdout) == 0 ? CLI_OK : CLI_ERROR;
		o = NULL;
	} else
		rc = fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
	goto out;
dberr:
	rc = cli_error("show: %s", db_errmsg(db));
out:
	json_object_put(o);
	cli_close(&conf, db);
	return rc;
}
