/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_admin - the radscribe subcommands that change the queue: retry,
 * hold, release, cancel, redraft, resend and purge.  Every job state
 * change goes through queue_transition (compare-and-set), in one
 * transaction with its audit row in events.  No SQL here: reads go
 * through catalog, writes through each table's owner (queue, reports,
 * instances, qr_index, events).  CLI main thread only.  After
 * a change a running radscribed is woken through its control socket (a
 * hint: it polls the queue every second anyway).  The destructive ones,
 * cancel and purge, need --yes or a "y" typed on a terminal.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "core/xmem.h"
#include "store/catalog.h"
#include "store/events.h"
#include "store/instances.h"
#include "store/qr_index.h"
#include "store/queue.h"
#include "store/reports.h"

/* One job as read before the change. */
struct ajob {
	int64_t		 id;
	enum queue_stage stage;
	enum queue_state state;
	char		 study[65];
};

/* The verb's rule: which states it takes, and the way to its target. */
enum verb { V_RETRY, V_HOLD, V_RELEASE, V_CANCEL, V_REDRAFT };

static const char *const verb_names[] = {
	"retry", "hold", "release", "cancel", "redraft"
};

#define CANCEL_MSG	"cancelled by admin"

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * load_jobs - the jobs named by arg (a job id, or every job of a study
 * UID), optionally of one stage, into *out (OUT, caller frees).  Count,
 * 0 when the job or study is unknown (*known 0) or has no such job
 * (*known 1), -1 on a database error.
 */
static int
load_jobs(struct db *db, const char *arg, int stage, struct ajob **out,
    int *known)
{
	struct catalog_filter f;
	struct catalog_iter *it;
	struct catalog_job row;
	struct ajob *v = NULL;
	int64_t sid;
	int n = 0, rc;

	*out = NULL;
	*known = 0;
	catalog_filter_init(&f);
	if (all_digits(arg)) {
		if ((f.job_id = strtoll(arg, NULL, 10)) <= 0)
			return 0;	/* ids start at 1 */
	} else
		f.study_uid = arg;
	/* The stage is filtered here: a job of another stage is known. */
	if ((it = catalog_jobs_open(db, &f)) == NULL)
		return -1;
	while ((rc = catalog_jobs_next(it, &row)) == 1) {
		struct ajob j;

		*known = 1;
		memset(&j, 0, sizeof(j));
		j.id = row.id;
		j.stage = row.stage;
		j.state = row.state;
		snprintf(j.study, sizeof(j.study), "%s", row.study_uid);
		if (stage >= 0 && (int)j.stage != stage)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = j;
	}
	catalog_iter_close(it);
	if (rc != 0) {
		free(v);
		return -1;
	}
	/* a study without jobs is known all the same */
	if (!*known && f.study_uid != NULL &&
	    (*known = catalog_study_id(db, f.study_uid, &sid)) == -1) {
		free(v);
		return -1;
	}
	*out = v;
	return n;
}

/*
 * path_of - the edges from s that verb takes, ending in the state it
 * wants; 0 steps when the verb does not apply to s.  A verb may need two
 * edges where the machine has no direct one (DEFERRED -> HOLD ->
 * INCOMING for a retry), both in the caller's transaction.
 */
static int
path_of(enum verb v, enum queue_state s, enum queue_state p[2] /* OUT */)
{
	switch (v) {
	case V_RETRY:
		if (s == QUEUE_FAILED) {
			p[0] = QUEUE_INCOMING;
			return 1;
		}
		if (s == QUEUE_DEFERRED) {
			p[0] = QUEUE_HOLD;
			p[1] = QUEUE_INCOMING;
			return 2;
		}
		return 0;
	case V_HOLD:
		if (s == QUEUE_INCOMING || s == QUEUE_DEFERRED) {
			p[0] = QUEUE_HOLD;
			return 1;
		}
		return 0;
	case V_RELEASE:
		if (s == QUEUE_HOLD) {
			p[0] = QUEUE_INCOMING;
			return 1;
		}
		return 0;
	case V_CANCEL:
		if (s == QUEUE_INCOMING || s == QUEUE_DEFERRED) {
			p[0] = QUEUE_FAILED;
			return 1;
		}
		if (s == QUEUE_HOLD) {
			p[0] = QUEUE_INCOMING;
			p[1] = QUEUE_FAILED;
			return 2;
		}
		return 0;
	case V_REDRAFT:
		if (s == QUEUE_DONE || s == QUEUE_FAILED) {
			p[0] = QUEUE_INCOMING;
			return 1;
		}
		return 0;
	}
	return 0;
}

static const char *
wants(enum verb v)
{
	switch (v) {
	case V_RETRY:	return "FAILED or DEFERRED";
	case V_HOLD:	return "INCOMING or DEFERRED";
	case V_RELEASE:	return "HOLD";
	case V_CANCEL:	return "INCOMING, DEFERRED or HOLD";
	case V_REDRAFT:	return "DONE or FAILED";
	}
	return "?";
}

/* change - one job along its path, with its audit row; in a transaction. */
static enum queue_rc
change(struct db *db, enum verb v, const struct ajob *j)
{
	enum queue_state p[2], from = j->state;
	char detail[160];
	int n = path_of(v, j->state, p);
	enum queue_rc rc = QUEUE_OK;

	for (int i = 0; i < n && rc == QUEUE_OK; i++) {
		/* only the last edge carries the reason */
		rc = queue_transition(db, j->id, from, p[i],
		    v == V_CANCEL && i == n - 1 ? CANCEL_MSG : NULL);
		from = p[i];
	}
	if (rc != QUEUE_OK)
		return rc;
	snprintf(detail, sizeof(detail), "%s J%lld %s->%s study=%s",
	    verb_names[v], (long long)j->id, queue_state_name(j->state),
	    queue_state_name(p[n - 1]), j->study);
	return events_add(db, "admin", NULL, NULL, NULL, detail) == 0 ?
	    QUEUE_OK : QUEUE_DBERR;
}

static void
print_change(const struct ajob *j, enum queue_state to, json_object *arr)
{
	if (arr != NULL) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(j->id));
		json_object_object_add(o, "study_uid", cli_json_str(j->study));
		json_object_object_add(o, "stage",
		    cli_json_str(queue_stage_name(j->stage)));
		json_object_object_add(o, "from",
		    cli_json_str(queue_state_name(j->state)));
		json_object_object_add(o, "to",
		    cli_json_str(queue_state_name(to)));
		json_object_array_add(arr, o);
	} else
		printf("J%lld: study=%s stage=%s %s->%s\n", (long long)j->id,
		    j->study, queue_stage_name(j->stage),
		    queue_state_name(j->state), queue_state_name(to));
}

/*
 * apply - verb on jobs, all or nothing in one transaction.  A job named
 * by id must be in a state the verb takes; for a study the jobs in other
 * states are left alone, but an ACTIVE one stops a cancel.
 */
static int
apply(struct db *db, enum verb v, const char *arg, struct ajob *jobs, int n,
    int json)
{
	json_object *arr = json ? json_object_new_array() : NULL;
	enum queue_state p[2];
	int todo = 0, rc = CLI_ERROR;
	enum queue_rc qrc;

	for (int i = 0; i < n; i++) {
		if (v == V_CANCEL && jobs[i].state == QUEUE_ACTIVE) {
			cli_error("cancel: J%lld is ACTIVE: the daemon is "
			    "working on it; try again when it has finished",
			    (long long)jobs[i].id);
			goto out;
		}
		if (path_of(v, jobs[i].state, p) > 0)
			todo++;
		else if (all_digits(arg)) {
			cli_error("%s: J%lld is %s; %s takes a job that is %s",
			    verb_names[v], (long long)jobs[i].id,
			    queue_state_name(jobs[i].state), verb_names[v],
			    wants(v));
			goto out;
		}
	}
	if (todo == 0) {
		char states[256] = "";
		size_t k = 0;

		for (int i = 0; i < n && k < sizeof(states); i++)
			k += snprintf(states + k, sizeof(states) - k,
			    "%sJ%lld is %s", i ? ", " : "",
			    (long long)jobs[i].id,
			    queue_state_name(jobs[i].state));
		cli_error("%s: nothing to do for %s (%s); %s takes a job "
		    "that is %s", verb_names[v], arg, states, verb_names[v],
		    wants(v));
		goto out;
	}
	if (db_begin(db) == -1) {
		cli_error("%s: database: %s", verb_names[v], db_errmsg(db));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (path_of(v, jobs[i].state, p) == 0)
			continue;
		if ((qrc = change(db, v, &jobs[i])) != QUEUE_OK) {
			if (qrc == QUEUE_LOST)
				cli_error("%s: J%lld changed state meanwhile; "
				    "nothing done", verb_names[v],
				    (long long)jobs[i].id);
			else
				cli_error("%s: database: %s", verb_names[v],
				    db_errmsg(db));
			db_rollback(db);
			goto out;
		}
	}
	if (db_commit(db) == -1) {
		cli_error("%s: database: %s", verb_names[v], db_errmsg(db));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int k = path_of(v, jobs[i].state, p);

		if (k > 0)
			print_change(&jobs[i], p[k - 1], arr);
	}
	rc = CLI_OK;
	if (arr != NULL) {
		rc = cli_json_print(arr, stdout) == 0 ? CLI_OK : CLI_ERROR;
		arr = NULL;
	}
out:
	json_object_put(arr);
	return rc;
}

/* cli_admin_jobs - retry, hold, release, cancel, redraft */
int
cli_admin_jobs(const char *conf_path, int argc, char *argv[])
{
	struct conf conf;
	struct db *db;
	struct ajob *jobs = NULL;
	const char *arg = NULL;
	enum queue_stage stg;
	enum verb v;
	int stage = -1, json = 0, yes = 0, n, known, rc;

	for (v = V_RETRY; v <= V_REDRAFT; v++)
		if (strcmp(argv[0], verb_names[v]) == 0)
			break;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--yes") == 0 && v == V_CANCEL)
			yes = 1;
		else if (strcmp(argv[i], "--stage") == 0 && i + 1 < argc &&
		    v != V_REDRAFT) {
			if (queue_stage_parse(argv[++i], &stg) == -1)
				return cli_usage("%s: unknown stage \"%s\" "
				    "(infer or send)", argv[0], argv[i]);
			stage = stg;
		} else if (argv[i][0] == '-' || arg != NULL)
			return cli_usage("usage: radscribe %s %s", argv[0],
			    v == V_REDRAFT ? "STUDY_UID [--json]" :
			    v == V_CANCEL ? "JOB_ID|STUDY_UID [--stage infer|send] "
			    "[--yes] [--json]" :
			    "JOB_ID|STUDY_UID [--stage infer|send] [--json]");
		else
			arg = argv[i];
	}
	if (arg == NULL)
		return cli_usage("%s: a job id or study UID is needed",
		    argv[0]);
	if (v == V_REDRAFT) {
		if (all_digits(arg))
			return cli_usage("redraft: takes a study UID");
		stage = QUEUE_INFER;
	}
	if (v == V_CANCEL && !cli_confirm(yes, "cancel", "cancel the jobs of "
	    "this study or job: no report will be drafted or sent for them"))
		return CLI_USAGE;
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	if ((n = load_jobs(db, arg, stage, &jobs, &known)) == -1)
		rc = cli_error("%s: database: %s", argv[0], db_errmsg(db));
	else if (!known) {
		fprintf(stderr, "radscribe: %s: no %s %s\n", argv[0],
		    all_digits(arg) ? "job" : "study", arg);
		rc = CLI_NOTFOUND;
	} else if (n == 0) {
		fprintf(stderr, "radscribe: %s: study %s has no %s%sjob\n",
		    argv[0], arg, stage >= 0 ? queue_stage_name(stage) : "",
		    stage >= 0 ? " " : "");
		rc = CLI_NOTFOUND;
	}
	else if ((rc = apply(db, v, arg, jobs, n, json)) == CLI_OK)
		cli_wake(&conf);
	free(jobs);
	cli_close(&conf, db);
	return rc;
}

/*
 * resend_tx - in one transaction: a deliveries row per target archive
 * for report rid with accepted_at cleared, and the send job INCOMING
 * (made when missing).  CLI_* status; *job (OUT) and *from (OUT) tell
 * what happened to the job (*from -1: made).
 */
static int
resend_tx(struct db *db, const struct conf *conf, int64_t sid, int64_t rid,
    const char *study, const char *to, int64_t *job, int *from)
{
	struct queue_job j;
	enum queue_state p = QUEUE_INCOMING;
	char detail[200];
	int rc;

	if (db_begin(db) == -1)
		return cli_error("resend: database: %s", db_errmsg(db));
	for (size_t i = 0; i < conf->narchives; i++) {
		const char *a = conf->archives[i].name;

		if (to != NULL && strcmp(to, a) != 0)
			continue;
		if (reports_delivery_reset(db, rid, a) == -1)
			goto dberr;
	}
	if ((rc = queue_find(db, sid, QUEUE_SEND, &j)) == 1) {
		enum queue_state s = j.state;

		*job = j.id;
		*from = s;
		switch (s) {
		case QUEUE_INCOMING:
			break;
		case QUEUE_DONE:
		case QUEUE_FAILED:
			if ((rc = queue_transition(db, *job, s, QUEUE_INCOMING,
			    NULL)) != QUEUE_OK)
				goto lost;
			break;
		case QUEUE_DEFERRED:	/* now, not at next_try */
			if ((rc = queue_transition(db, *job, s, QUEUE_HOLD,
			    NULL)) != QUEUE_OK ||
			    (rc = queue_transition(db, *job, QUEUE_HOLD,
			    QUEUE_INCOMING, NULL)) != QUEUE_OK)
				goto lost;
			break;
		default:
			db_rollback(db);
			return cli_error("resend: send job J%lld is %s; %s",
			    (long long)*job, queue_state_name(s),
			    s == QUEUE_HOLD ? "release it first" :
			    "try again when it has finished");
		}
	} else if (rc == 0) {
		*from = -1;
		if ((rc = queue_create(db, sid, QUEUE_SEND, job)) != QUEUE_OK)
			goto lost;
	} else
		goto dberr;
	snprintf(detail, sizeof(detail), "resend J%lld %s->%s study=%s to=%s",
	    (long long)*job, *from < 0 ? "none" : queue_state_name(*from),
	    queue_state_name(p), study, to != NULL ? to : "all");
	if (events_add(db, "admin", NULL, NULL, NULL, detail) == -1 ||
	    db_commit(db) == -1)
		goto dberr;
	return CLI_OK;
lost:
	if (rc == QUEUE_DBERR)
		goto dberr;
	db_rollback(db);
	return cli_error("resend: the send job changed state meanwhile; "
	    "nothing done");
dberr:
	cli_error("resend: database: %s", db_errmsg(db));
	db_rollback(db);
	return CLI_ERROR;
}

/* cli_admin_resend - deliver the latest report again */
int
cli_admin_resend(const char *conf_path, int argc, char *argv[])
{
	struct conf conf;
	struct db *db;
	const char *arg = NULL, *to = NULL;
	int json = 0, rc, from = -1;
	int64_t sid, rid, job = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (argv[i][0] == '-' || arg != NULL)
			return cli_usage("usage: radscribe resend STUDY_UID "
			    "[--to ARCHIVE] [--json]");
		else
			arg = argv[i];
	}
	if (arg == NULL)
		return cli_usage("resend: a study UID is needed");
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	rc = CLI_NOTFOUND;
	if (to != NULL) {
		size_t i;

		for (i = 0; i < conf.narchives; i++)
			if (strcmp(conf.archives[i].name, to) == 0)
				break;
		if (i == conf.narchives) {
			fprintf(stderr, "radscribe: resend: no archive \"%s\" "
			    "in %s\n", to, conf_path);
			goto out;
		}
	} else if (conf.narchives == 0) {
		rc = cli_error("resend: no archive is configured");
		goto out;
	}
	if ((rc = catalog_study_id(db, arg, &sid)) == 0) {
		fprintf(stderr, "radscribe: resend: no study %s\n", arg);
		rc = CLI_NOTFOUND;
		goto out;
	}
	if (rc == 1 && (rc = catalog_report_current(db, sid, &rid)) == 0) {
		rc = cli_error("resend: study %s has no report", arg);
		goto out;
	}
	if (rc == -1) {
		rc = cli_error("resend: database: %s", db_errmsg(db));
		goto out;
	}
	if ((rc = resend_tx(db, &conf, sid, rid, arg, to, &job, &from)) !=
	    CLI_OK)
		goto out;
	cli_wake(&conf);
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(job));
		json_object_object_add(o, "study_uid", cli_json_str(arg));
		json_object_object_add(o, "stage", cli_json_str("send"));
		json_object_object_add(o, "from", from < 0 ? NULL :
		    cli_json_str(queue_state_name(from)));
		json_object_object_add(o, "to", cli_json_str("INCOMING"));
		json_object_object_add(o, "archive", cli_json_str(to));
		rc = cli_json_print(o, stdout) == 0 ? CLI_OK : CLI_ERROR;
	} else
		printf("J%lld: study=%s stage=send %s->INCOMING to=%s\n",
		    (long long)job, arg, from < 0 ? "none" :
		    queue_state_name(from), to != NULL ? to : "all");
out:
	cli_close(&conf, db);
	return rc;
}

/* A study purge takes (catalog_purge_list), and its files. */
struct victim {
	struct catalog_purge	 c;
	char			**files;
	size_t			 nfiles;
};

static void
victim_fini(struct victim *v)
{
	catalog_files_free(v->files, v->nfiles);
	v->files = NULL;
	v->nfiles = 0;
}

/*
 * purge_one - the rows of one study in one transaction, each owner
 * deleting its own in an order the foreign keys allow, after checking
 * that the study may still go.  1 done, 0 no longer eligible, -1 a
 * database error.
 */
static int
purge_one(struct db *db, struct victim *v, int64_t cutoff,
    enum queue_state finished)
{
	int64_t id = v->c.study_id;
	char detail[200];
	int rc;

	if (db_begin(db) == -1)
		return -1;
	rc = catalog_purge_check(db, id, cutoff, finished, &v->c.instances,
	    &v->c.reports);
	if (rc == 0) {
		db_rollback(db);
		return 0;
	}
	if (rc == -1 ||
	    catalog_study_files(db, id, &v->files, &v->nfiles) == -1 ||
	    qr_index_purge_study(db, id) == -1 ||
	    reports_purge_study(db, id) == -1 ||
	    queue_purge_study(db, id) == -1 ||
	    instances_purge_study(db, id) == -1)
		goto fail;
	snprintf(detail, sizeof(detail), "study=%s instances=%d reports=%d"
	    " files=%zu", v->c.study_uid, v->c.instances, v->c.reports,
	    v->nfiles);
	if (events_add(db, "purge", NULL, NULL, NULL, detail) == -1 ||
	    db_commit(db) == -1)
		goto fail;
	return 1;
fail:
	db_rollback(db);
	victim_fini(v);
	return -1;
}

/* cli_admin_purge - finished, delivered studies older than AGE */
int
cli_admin_purge(const char *conf_path, int argc, char *argv[])
{
	struct conf conf;
	struct db *db;
	struct catalog_purge *cs = NULL;
	struct victim *vs = NULL;
	json_object *arr = NULL;
	const char *age = NULL;
	enum queue_state state = QUEUE_DONE;
	int64_t cutoff;
	size_t ncs = 0, n = 0;
	int yes = 0, dry = 0, json = 0, rc, failed = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc)
			age = argv[++i];
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			const char *a = argv[++i];

			if (strcasecmp(a, "DONE") == 0)
				state = QUEUE_DONE;
			else if (strcasecmp(a, "FAILED") == 0)
				state = QUEUE_FAILED;
			else
				return cli_usage("purge: --state takes DONE "
				    "or FAILED");
		} else
			return cli_usage("usage: radscribe purge --older-than "
			    "AGE [--state DONE|FAILED] [--yes | --dry-run] "
			    "[--json]");
	}
	if (age == NULL)
		return cli_usage("purge: --older-than AGE is needed "
		    "(e.g. 30d)");
	if (cli_parse_since(age, &cutoff) == -1)
		return cli_usage("purge: bad age \"%s\" (30s, 15m, 2h, 7d or "
		    "YYYY-MM-DD)", age);
	if (!dry && !cli_confirm(yes, "purge", "delete these studies, their "
	    "files and rows (--dry-run shows which)"))
		return CLI_USAGE;
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	if (catalog_purge_list(db, cutoff, state, &cs, &ncs) == -1)
		goto dberr;
	vs = xcalloc(ncs > 0 ? ncs : 1, sizeof(*vs));
	for (size_t i = 0; i < ncs; i++) {
		if (cs[i].undelivered) {
			/* the safe default: a report an archive lacks stays */
			fprintf(stderr, "radscribe: purge: keeping %s: a "
			    "report is not delivered yet\n", cs[i].study_uid);
			continue;
		}
		vs[n++].c = cs[i];
	}
	arr = json ? json_object_new_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		struct victim *v = &vs[i];

		if (dry) {
			if (catalog_study_files(db, v->c.study_id, &v->files,
			    &v->nfiles) == -1)
				goto dberr;
		} else {
			if ((rc = purge_one(db, v, cutoff, state)) == -1)
				goto dberr;
			if (rc == 0)
				continue;	/* changed meanwhile */
			/* rows are gone for good: only now the files */
			for (size_t k = 0; k < v->nfiles; k++)
				if (unlink(v->files[k]) == -1 &&
				    errno != ENOENT) {
					fprintf(stderr, "radscribe: purge: "
					    "%s: %s\n", v->files[k],
					    strerror(errno));
					failed = 1;
				}
		}
		if (arr != NULL) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "study_uid",
			    cli_json_str(v->c.study_uid));
			json_object_object_add(o, "instances",
			    json_object_new_int(v->c.instances));
			json_object_object_add(o, "reports",
			    json_object_new_int(v->c.reports));
			json_object_object_add(o, "files",
			    json_object_new_int((int)v->nfiles));
			json_object_object_add(o, "purged",
			    json_object_new_boolean(!dry));
			json_object_array_add(arr, o);
		} else
			printf("%s %s instances=%d reports=%d files=%zu\n",
			    dry ? "would purge" : "purged", v->c.study_uid,
			    v->c.instances, v->c.reports, v->nfiles);
	}
	rc = failed ? CLI_ERROR : CLI_OK;
	if (arr != NULL) {
		if (cli_json_print(arr, stdout) == -1)
			rc = CLI_ERROR;
		arr = NULL;
	}
	goto out;
dberr:
	rc = cli_error("purge: database: %s", db_errmsg(db));
out:
	json_object_put(arr);
	for (size_t i = 0; i < n; i++)
		victim_fini(&vs[i]);
	free(vs);
	free(cs);
	cli_close(&conf, db);
	return rc;
}
