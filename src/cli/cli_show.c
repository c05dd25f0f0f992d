/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_show - `radscribe show STUDY_UID|JOB_ID`: one study with its
 * instances, jobs, reports (the views chosen, timings, text) and their
 * deliveries.  Reads only, on the
 * CLI's own connection.  Prints report text (PHI) to stdout only.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "store/catalog.h"
#include "store/queue.h"

/* jint - a nullable integer: JSON null for CATALOG_NULL */
static json_object *
jint(int64_t v)
{
	return v == CATALOG_NULL ? NULL : json_object_new_int64(v);
}

/* num - a nullable integer as text; NULL (printed "-") for CATALOG_NULL */
static const char *
num(int64_t v, char *buf, size_t sz)
{
	if (v == CATALOG_NULL)
		return NULL;
	snprintf(buf, sz, "%lld", (long long)v);
	return buf;
}

/* instances - as a table into fp, or into the array jarr */
static void
instances(const struct catalog_study *s, json_object *jarr, FILE *fp)
{
	static const char *const hdr[] = { "SOP_INSTANCE_UID", "SOP_CLASS",
	    "TRANSFER_SYNTAX", "SIZE", "CALLING_AE", "RECEIVED" };
	struct cli_table *t = jarr ? NULL : cli_table_new(6, hdr);

	for (size_t k = 0; k < s->ninstances; k++) {
		const struct catalog_instance *i = &s->instances[k];
		char sz[24], at[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "sop_instance_uid", cli_json_str(i->sop_instance_uid));
			json_object_object_add(o, "sop_class_uid", cli_json_str(i->sop_class_uid));
			json_object_object_add(o, "transfer_syntax", cli_json_str(i->transfer_syntax));
			json_object_object_add(o, "size", jint(i->size));
			json_object_object_add(o, "calling_ae", cli_json_str(i->calling_ae));
			json_object_object_add(o, "received_at_ms", jint(i->received_at));
			json_object_object_add(o, "series_uid", cli_json_str(i->series_uid));
			json_object_array_add(jarr, o);
		} else {
			const char *c[6] = { i->sop_instance_uid,
			    i->sop_class_uid, i->transfer_syntax,
			    num(i->size, sz, sizeof(sz)), i->calling_ae,
			    cli_time(i->received_at, at, sizeof(at)) };

			cli_table_add(t, c);
		}
	}
	if (t != NULL) {
		fprintf(fp, "\nInstances:\n");
		cli_table_print(t, fp);
	}
	cli_table_free(t);
}

static void
jobs(const struct catalog_study *s, json_object *jarr, FILE *fp)
{
	static const char *const hdr[] = { "JOB", "STAGE", "STATE", "ATTEMPTS",
	    "UPDATED", "NEXT_TRY", "LAST_ERROR" };
	struct cli_table *t = jarr ? NULL : cli_table_new(7, hdr);

	for (size_t k = 0; k < s->njobs; k++) {
		const struct catalog_job *j = &s->jobs[k];
		char id[24], att[24], up[32], nt[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id", jint(j->id));
			json_object_object_add(o, "stage", cli_json_str(queue_stage_name(j->stage)));
			json_object_object_add(o, "state", cli_json_str(queue_state_name(j->state)));
			json_object_object_add(o, "attempts", jint(j->attempts));
			json_object_object_add(o, "next_try_ms", jint(j->next_try));
			json_object_object_add(o, "last_error", cli_json_str(j->last_error));
			json_object_object_add(o, "created_at_ms", jint(j->created_at));
			json_object_object_add(o, "updated_at_ms", jint(j->updated_at));
			json_object_array_add(jarr, o);
		} else {
			const char *c[7] = { num(j->id, id, sizeof(id)),
			    queue_stage_name(j->stage),
			    queue_state_name(j->state),
			    num(j->attempts, att, sizeof(att)),
			    cli_time(j->updated_at, up, sizeof(up)),
			    cli_time(j->next_try, nt, sizeof(nt)),
			    j->last_error };

			cli_table_add(t, c);
		}
	}
	if (t != NULL) {
		fprintf(fp, "\nJobs:\n");
		cli_table_print(t, fp);
	}
	cli_table_free(t);
}

/* deliveries - of report r, into jarr or as indented lines */
static void
deliveries(const struct catalog_report *r, json_object *jarr, FILE *fp)
{
	for (size_t k = 0; k < r->ndeliveries; k++) {
		const struct catalog_delivery *d = &r->deliveries[k];
		char at[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "archive", cli_json_str(d->archive));
			json_object_object_add(o, "accepted_at_ms", jint(d->accepted_at));
			json_object_object_add(o, "status", jint(d->status));
			json_object_object_add(o, "attempts", jint(d->attempts));
			json_object_object_add(o, "last_error", cli_json_str(d->last_error));
			json_object_array_add(jarr, o);
		} else {
			fprintf(fp, "  delivery  %s: ", d->archive);
			if (d->accepted_at != CATALOG_NULL)
				fprintf(fp, "accepted %s, status 0x%04x",
				    cli_time(d->accepted_at, at, sizeof(at)),
				    d->status == CATALOG_NULL ? 0 :
				    (int)d->status);
			else
				fprintf(fp, "pending, %d attempt(s)%s%s",
				    d->attempts,
				    d->last_error ? ", last error: " : "",
				    d->last_error ? d->last_error : "");
			fputc('\n', fp);
		}
	}
}

/* views - the views report r was drafted from, into jarr or one line */
static void
views(const struct catalog_report *r, json_object *jarr, FILE *fp)
{
	for (size_t k = 0; k < r->nviews; k++) {
		const struct catalog_view *v = &r->views[k];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "kind", cli_json_str(v->kind));
			json_object_object_add(o, "view_position",
			    cli_json_str(v->view_position));
			json_object_object_add(o, "sop_instance_uid",
			    cli_json_str(v->sop_instance_uid));
			json_object_array_add(jarr, o);
		} else
			fprintf(fp, "%s%s%s%s%s %s", k ? "; " : "  views     ",
			    v->kind, *v->view_position ? " (" : "",
			    v->view_position, *v->view_position ? ")" : "",
			    v->sop_instance_uid);
	}
	if (jarr == NULL && r->nviews > 0)
		fputc('\n', fp);
}

/*
 * reports - each report of the study; for people every report's text
 * first, then each one's views and deliveries.
 */
static void
reports(const struct catalog_study *s, json_object *jarr, FILE *fp)
{
	if (jarr == NULL)
		fprintf(fp, "\nReports:\n");
	for (size_t k = 0; k < s->nreports; k++) {
		const struct catalog_report *r = &s->reports[k];
		char at[32];

		if (jarr != NULL) {
			json_object *o = json_object_new_object();
			json_object *v = json_object_new_array();
			json_object *d = json_object_new_array();

			json_object_object_add(o, "sop_instance_uid", cli_json_str(r->sop_instance_uid));
			json_object_object_add(o, "created_at_ms", jint(r->created_at));
			json_object_object_add(o, "model", cli_json_str(r->model));
			json_object_object_add(o, "findings", cli_json_str(r->findings));
			json_object_object_add(o, "impression", cli_json_str(r->impression));
			json_object_object_add(o, "path", cli_json_str(r->path));
			json_object_object_add(o, "superseded",
			    json_object_new_boolean(r->superseded));
			json_object_object_add(o, "draft_ms", jint(r->draft_ms));
			json_object_object_add(o, "findings_ms", jint(r->findings_ms));
			json_object_object_add(o, "impression_ms", jint(r->impression_ms));
			json_object_array_add(jarr, o);
			json_object_object_add(o, "views", v);
			json_object_object_add(o, "deliveries", d);
			views(r, v, fp);
			deliveries(r, d, fp);
		} else {
			fprintf(fp, "%s  created %s  model %s%s\n",
			    r->sop_instance_uid,
			    cli_time(r->created_at, at, sizeof(at)), r->model,
			    r->superseded ? "  (superseded)" : "");
			if (r->draft_ms != CATALOG_NULL)
				fprintf(fp, "  Drafted in %lld ms (findings %lld ms, "
				    "impression %lld ms)\n",
				    (long long)r->draft_ms,
				    (long long)(r->findings_ms == CATALOG_NULL ?
				    0 : r->findings_ms),
				    (long long)(r->impression_ms == CATALOG_NULL ?
				    0 : r->impression_ms));
			fprintf(fp, "  Findings:   %s\n", r->findings);
			fprintf(fp, "  Impression: %s\n", r->impression);
		}
	}
	for (size_t k = 0; jarr == NULL && k < s->nreports; k++) {
		fprintf(fp, "Report %zu:\n", k + 1);
		views(&s->reports[k], NULL, fp);
		deliveries(&s->reports[k], NULL, fp);
	}
}

/* cli_show - `show STUDY_UID|JOB_ID [--json]` */
int
cli_show(const char *conf_path, int argc, char *argv[])
{
	const char *key = NULL;
	struct conf conf;
	struct db *db;
	struct catalog_study *s = NULL;
	json_object *o = NULL, *ji = NULL, *jj = NULL, *jr = NULL;
	int json = 0, isjob = 1, rc = CLI_ERROR, found;

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
	found = isjob ? catalog_study_read_job(db, strtoll(key, NULL, 10), &s) :
	    catalog_study_read(db, key, &s);
	if (found == 0) {
		fprintf(stderr, "radscribe: show: no %s %s\n",
		    isjob ? "job" : "study", key);
		rc = CLI_NOTFOUND;
		goto out;
	}
	if (found == -1) {
		rc = cli_error("show: %s", db_errmsg(db));
		goto out;
	}
	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "study_uid", cli_json_str(s->study_uid));
		json_object_object_add(o, "first_received_at_ms",
		    jint(s->first_received_at));
		json_object_object_add(o, "last_received_at_ms",
		    jint(s->last_received_at));
		json_object_object_add(o, "job_created_at_ms",
		    jint(s->job_created_at));
		json_object_object_add(o, "redraft",
		    json_object_new_boolean(s->redraft));
		json_object_object_add(o, "instances", ji = json_object_new_array());
		json_object_object_add(o, "jobs", jj = json_object_new_array());
		json_object_object_add(o, "reports", jr = json_object_new_array());
	} else {
		char t1[32], t2[32];

		printf("Study %s\n", s->study_uid);
		printf("  received %s .. %s%s\n",
		    cli_time(s->first_received_at, t1, sizeof(t1)),
		    cli_time(s->last_received_at, t2, sizeof(t2)),
		    s->redraft ? "  (redraft pending)" : "");
		printf("  settled  %s\n", s->job_created_at == CATALOG_NULL ?
		    "not yet" : cli_time(s->job_created_at, t1, sizeof(t1)));
	}
	instances(s, ji, stdout);
	jobs(s, jj, stdout);
	reports(s, jr, stdout);
	if (json) {
		rc = cli_json_print(o, stdout) == 0 ? CLI_OK : CLI_ERROR;
		o = NULL;
	} else
		rc = fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
out:
	json_object_put(o);
	catalog_study_free(s);
	cli_close(&conf, db);
	return rc;
}
