/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_list - `radscribe list [jobs|studies]`: the queue's jobs, or the
 * received studies, filtered by state, stage, time and calling AE.
 * Reads only, on the CLI's own connection.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "store/catalog.h"
#include "store/queue.h"

static const char *const jobs_hdr[8] = {
	"JOB", "STUDY", "STAGE", "STATE", "ATTEMPTS", "UPDATED", "NEXT_TRY",
	"LAST_ERROR"
};
static const char *const studies_hdr[8] = {
	"STUDY", "INSTANCES", "CALLING_AE", "FIRST_RECEIVED", "LAST_RECEIVED",
	"INFER", "SEND", "REPORTS"
};

static const char *
state_name(int s)
{
	return s >= 0 ? queue_state_name((enum queue_state)s) : NULL;
}

static void
job_json(const struct catalog_job *r, json_object *o)
{
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "study_uid", cli_json_str(r->study_uid));
	json_object_object_add(o, "stage",
	    cli_json_str(queue_stage_name(r->stage)));
	json_object_object_add(o, "state",
	    cli_json_str(queue_state_name(r->state)));
	json_object_object_add(o, "attempts",
	    json_object_new_int(r->attempts));
	json_object_object_add(o, "next_try_ms",
	    r->next_try == CATALOG_NULL ? NULL :
	    json_object_new_int64(r->next_try));
	json_object_object_add(o, "created_at_ms",
	    json_object_new_int64(r->created_at));
	json_object_object_add(o, "updated_at_ms",
	    json_object_new_int64(r->updated_at));
	json_object_object_add(o, "last_error", cli_json_str(r->last_error));
}

static void
job_cells(const struct catalog_job *r, const char **cells, char (*buf)[32])
{
	snprintf(buf[0], sizeof(buf[0]), "%lld", (long long)r->id);
	snprintf(buf[1], sizeof(buf[1]), "%d", r->attempts);
	cells[0] = buf[0];
	cells[1] = r->study_uid;
	cells[2] = queue_stage_name(r->stage);
	cells[3] = queue_state_name(r->state);
	cells[4] = buf[1];
	cells[5] = cli_time(r->updated_at, buf[2], sizeof(buf[2]));
	cells[6] = cli_time(r->next_try, buf[3], sizeof(buf[3]));
	cells[7] = r->last_error;
}

static void
study_json(const struct catalog_study_brief *r, json_object *o)
{
	json_object_object_add(o, "study_uid", cli_json_str(r->study_uid));
	json_object_object_add(o, "first_received_at_ms",
	    json_object_new_int64(r->first_received_at));
	json_object_object_add(o, "last_received_at_ms",
	    json_object_new_int64(r->last_received_at));
	json_object_object_add(o, "instances",
	    json_object_new_int64(r->instances));
	json_object_object_add(o, "calling_ae", cli_json_str(r->calling_aes));
	json_object_object_add(o, "infer", cli_json_str(state_name(r->infer)));
	json_object_object_add(o, "send", cli_json_str(state_name(r->send)));
	json_object_object_add(o, "reports",
	    json_object_new_int64(r->reports));
}

static void
study_cells(const struct catalog_study_brief *r, const char **cells,
    char (*buf)[32])
{
	snprintf(buf[0], sizeof(buf[0]), "%lld", (long long)r->instances);
	snprintf(buf[1], sizeof(buf[1]), "%lld", (long long)r->reports);
	cells[0] = r->study_uid;
	cells[1] = buf[0];
	cells[2] = r->calling_aes;
	cells[3] = cli_time(r->first_received_at, buf[2], sizeof(buf[2]));
	cells[4] = cli_time(r->last_received_at, buf[3], sizeof(buf[3]));
	cells[5] = state_name(r->infer);
	cells[6] = state_name(r->send);
	cells[7] = buf[1];
}

/*
 * list - the jobs (or studies) that match f, as a table or a JSON
 * array on stdout.
 */
static int
list(struct db *db, int studies, const struct catalog_filter *f, int json)
{
	struct catalog_iter *it;
	struct catalog_job job;
	struct catalog_study_brief study;
	struct cli_table *t = NULL;
	json_object *arr = NULL;
	int rc;

	it = studies ? catalog_studies_open(db, f) : catalog_jobs_open(db, f);
	if (it == NULL)
		return cli_error("list: %s", db_errmsg(db));
	if (json)
		arr = json_object_new_array();
	else
		t = cli_table_new(8, studies ? studies_hdr : jobs_hdr);
	while ((rc = studies ? catalog_studies_next(it, &study) :
	    catalog_jobs_next(it, &job)) == 1) {
		if (json) {
			json_object *o = json_object_new_object();

			if (studies)
				study_json(&study, o);
			else
				job_json(&job, o);
			json_object_array_add(arr, o);
		} else {
			char buf[4][32];
			const char *cells[8];

			if (studies)
				study_cells(&study, cells, buf);
			else
				job_cells(&job, cells, buf);
			cli_table_add(t, cells);
		}
	}
	catalog_iter_close(it);
	if (rc != 0) {
		json_object_put(arr);
		cli_table_free(t);
		return cli_error("list: %s", db_errmsg(db));
	}
	if (json)
		return cli_json_print(arr, stdout) == 0 ? CLI_OK : CLI_ERROR;
	cli_table_print(t, stdout);
	cli_table_free(t);
	return CLI_OK;
}

/* cli_list - `list [jobs|studies] [filters] [--json]` */
int
cli_list(const char *conf_path, int argc, char *argv[])
{
	struct catalog_filter f;
	char state[16];
	struct conf conf;
	struct db *db;
	int json = 0, studies = 0, rc, i = 1;
	enum queue_state qs;
	enum queue_stage qg;

	catalog_filter_init(&f);
	if (i < argc && strcmp(argv[i], "jobs") == 0)
		i++;
	else if (i < argc && strcmp(argv[i], "studies") == 0) {
		studies = 1;
		i++;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			json = 1;
			continue;
		}
		if (i + 1 >= argc)
			return cli_usage("list: unknown option or missing "
			    "value: %s", a);
		if (strcmp(a, "--state") == 0) {
			/* States are stored in upper case; accept either. */
			snprintf(state, sizeof(state), "%s", argv[++i]);
			for (char *p = state; *p != '\0'; p++)
				*p = (char)toupper((unsigned char)*p);
			if (queue_state_parse(state, &qs) == -1)
				return cli_usage("list: unknown state \"%s\"",
				    argv[i]);
			f.state = qs;
		} else if (strcmp(a, "--stage") == 0) {
			if (queue_stage_parse(argv[++i], &qg) == -1)
				return cli_usage("list: unknown stage \"%s\"",
				    argv[i]);
			f.stage = qg;
		} else if (strcmp(a, "--since") == 0) {
			if (cli_parse_since(argv[++i], &f.since) == -1)
				return cli_usage("list: bad --since \"%s\" "
				    "(2h, 7d, 2024-05-01T12:00:00)", argv[i]);
		} else if (strcmp(a, "--calling-ae") == 0)
			f.calling_ae = argv[++i];
		else
			return cli_usage("list: unknown option %s", a);
	}
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	rc = list(db, studies, &f, json);
	cli_close(&conf, db);
	return rc;
}
