/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_admin - the radscribe subcommands that change the queue: retry,
 * hold, release, cancel, redraft, resend and purge.  Every job state
 * change goes through queue_transition (compare-and-set), in one
 * transaction with its audit row in events.  CLI main thread only.  After
 * a change a running radscribed is woken through its control socket (a
 * hint: it polls the queue every second anyway).  The destructive ones,
 * cancel and purge, need --yes or a "y" typed on a terminal.
 */
#include "store/db_sql.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "store/events.h"
#include "store/queue.h"
#include "core/xmem.h"

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
	static const char job_sql[] =
	    "SELECT j.id, j.stage, j.state, s.study_uid FROM jobs j"
	    " JOIN studies s ON s.id = j.study_id WHERE j.id = ?1";
	static const char study_sql[] =
	    "SELECT j.id, j.stage, j.state, s.study_uid FROM studies s"
	    " LEFT JOIN jobs j ON j.study_id = s.id WHERE s.study_uid = ?1"
	    " ORDER BY j.id";
	struct ajob *v = NULL;
	sqlite3_stmt *st;
	int n = 0, rc;

	*out = NULL;
	*known = 0;
	if (all_digits(arg)) {
		if ((st = db_prepare(db, job_sql)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, strtoll(arg, NULL, 10));
	} else {
		if ((st = db_prepare(db, study_sql)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	}
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		struct ajob j;

		*known = 1;
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;	/* a study without jobs */
		memset(&j, 0, sizeof(j));
		j.id = sqlite3_column_int64(st, 0);
		if (queue_stage_parse((const char *)sqlite3_column_text(st, 1),
		    &j.stage) == -1 || queue_state_parse((const char *)
		    sqlite3_column_text(st, 2), &j.state) == -1) {
			sqlite3_reset(st);
			free(v);
			return -1;
		}
		snprintf(j.study, sizeof(j.study), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		if (stage >= 0 && (int)j.stage != stage)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = j;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
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
	static const char ins_sql[] =
	    "INSERT INTO deliveries (report_id, archive) VALUES (?1, ?2)"
	    " ON CONFLICT (report_id, archive) DO NOTHING";
	static const char clr_sql[] =
	    "UPDATE deliveries SET accepted_at = NULL, status = NULL,"
	    " last_error = NULL WHERE report_id = ?1 AND archive = ?2";
	static const char job_sql[] =
	    "SELECT id, state FROM jobs WHERE study_id = ?1 AND stage = 'send'";
	enum queue_state s, p = QUEUE_INCOMING;
	char detail[200];
	sqlite3_stmt *st;
	int rc;

	if (db_begin(db) == -1)
		return cli_error("resend: database: %s", db_errmsg(db));
	for (size_t i = 0; i < conf->narchives; i++) {
		const char *a = conf->archives[i].name;

		if (to != NULL && strcmp(to, a) != 0)
			continue;
		if ((st = db_prepare(db, ins_sql)) == NULL)
			goto dberr;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
		if (db_step(db, st) != SQLITE_DONE)
			goto dberr;
		if ((st = db_prepare(db, clr_sql)) == NULL)
			goto dberr;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
		if (db_step(db, st) != SQLITE_DONE)
			goto dberr;
	}
	if ((st = db_prepare(db, job_sql)) == NULL)
		goto dberr;
	sqlite3_bind_int64(st, 1, sid);
	rc = db_step(db, st);
	if (rc == SQLITE_ROW) {
		*job = sqlite3_column_int64(st, 0);
		if (queue_state_parse((const char *)sqlite3_column_text(st, 1),
		    &s) == -1) {
			sqlite3_reset(st);
			goto dberr;
		}
		sqlite3_reset(st);
		*from = s;
		switch (s) {
		case QUEUE_INCOMING:
			break;
		case QUEUE_DONE:
		case QUEUE_FAILED:
			if (queue_transition(db, *job, s, QUEUE_INCOMING,
			    NULL) != QUEUE_OK)
				goto lost;
			break;
		case QUEUE_DEFERRED:	/* now, not at next_try */
			if (queue_transition(db, *job, s, QUEUE_HOLD,
			    NULL) != QUEUE_OK ||
			    queue_transition(db, *job, QUEUE_HOLD,
			    QUEUE_INCOMING, NULL) != QUEUE_OK)
				goto lost;
			break;
		default:
			db_rollback(db);
			return cli_error("resend: send job J%lld is %s; %s",
			    (long long)*job, queue_state_name(s),
			    s == QUEUE_HOLD ? "release it first" :
			    "try again when it has finished");
		}
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		*from = -1;
		if (queue_create(db, sid, QUEUE_SEND, job) != QUEUE_OK)
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
	static const char sql[] =
	    "SELECT s.id, r.id, r.sop_instance_uid FROM studies s"
	    " LEFT JOIN reports r ON r.study_id = s.id"
	    "  AND r.superseded_by IS NULL"
	    " WHERE s.study_uid = ?1 ORDER BY r.id DESC LIMIT 1";
	struct conf conf;
	struct db *db;
	sqlite3_stmt *st;
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
	if ((st = db_prepare(db, sql)) == NULL) {
		rc = cli_error("resend: database: %s", db_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	if ((rc = db_step(db, st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			fprintf(stderr, "radscribe: resend: no study %s\n",
			    arg);
			rc = CLI_NOTFOUND;
		} else
			rc = cli_error("resend: database: %s", db_errmsg(db));
		goto out;
	}
	sid = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
		sqlite3_reset(st);
		rc = cli_error("resend: study %s has no report", arg);
		goto out;
	}
	rid = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
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

/*
 * A study purge may take: old enough, at least one job, every job in the
 * finished set, and no report waiting for an archive.  Checked again in
 * the transaction that deletes it.
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

struct victim {
	int64_t	 id;
	char	 uid[65];
	int	 ninst, nrep;
	char	**files;
	int	 nfiles;
};

static int
collect_files(struct db *db, struct victim *v)
{
	static const char sql[] =
	    "SELECT path FROM instances WHERE study_id = ?1"
	    " UNION SELECT path FROM reports WHERE study_id = ?1";
	sqlite3_stmt *st = db_prepare(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, v->id);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		v->files = xrealloc(v->files, (v->nfiles + 1) *
		    sizeof(*v->files));
		v->files[v->nfiles++] = xstrdup((const char *)
		    sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
victim_fini(struct victim *v)
{
	for (int i = 0; i < v->nfiles; i++)
		free(v->files[i]);
	free(v->files);
	v->files = NULL;
	v->nfiles = 0;
}

/* purge_one - rows of one study in one transaction; 1 done, 0 no longer
 * eligible, -1 database error */
static int
purge_one(struct db *db, struct victim *v, int64_t cutoff, const char *state)
{
	static const char check_sql[] =
	    "SELECT (SELECT count(*) FROM instances WHERE study_id = s.id),"
	    " (SELECT count(*) FROM reports WHERE study_id = s.id)"
	    " FROM studies s WHERE s.id = ?3 AND" PURGE_WHERE
	    " AND NOT " UNDELIVERED;
	static const char *const del[] = {
		"DELETE FROM qr_index WHERE report_id IN (SELECT id FROM"
		" reports WHERE study_id = ?1) OR instance_id IN (SELECT id"
		" FROM instances WHERE study_id = ?1)",
		"DELETE FROM deliveries WHERE report_id IN (SELECT id FROM"
		" reports WHERE study_id = ?1)",
		"UPDATE reports SET superseded_by = NULL, predecessor_id = NULL"
		" WHERE study_id = ?1",
		"DELETE FROM reports WHERE study_id = ?1",
		"DELETE FROM jobs WHERE study_id = ?1",
		"DELETE FROM instances WHERE study_id = ?1",
		"DELETE FROM studies WHERE id = ?1",
	};
	char detail[200];
	sqlite3_stmt *st;
	int rc;

	if (db_begin(db) == -1)
		return -1;
	if ((st = db_prepare(db, check_sql)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, v->id);
	rc = db_step(db, st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		db_rollback(db);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		goto fail;
	}
	v->ninst = sqlite3_column_int(st, 0);
	v->nrep = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (collect_files(db, v) == -1)
		goto fail;
	for (size_t i = 0; i < sizeof(del) / sizeof(del[0]); i++) {
		if ((st = db_prepare(db, del[i])) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, v->id);
		if (db_step(db, st) != SQLITE_DONE)
			goto fail;
	}
	snprintf(detail, sizeof(detail), "study=%s instances=%d reports=%d"
	    " files=%d", v->uid, v->ninst, v->nrep, v->nfiles);
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
	static const char list_sql[] =
	    "SELECT s.id, s.study_uid,"
	    " (SELECT count(*) FROM instances WHERE study_id = s.id),"
	    " (SELECT count(*) FROM reports WHERE study_id = s.id),"
	    " " UNDELIVERED
	    " FROM studies s WHERE" PURGE_WHERE " ORDER BY s.id";
	struct conf conf;
	struct db *db;
	struct victim *vs = NULL;
	json_object *arr = NULL;
	sqlite3_stmt *st;
	const char *age = NULL, *state = "DONE";
	int64_t cutoff;
	int yes = 0, dry = 0, json = 0, n = 0, rc, failed = 0;

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
			state = argv[++i];
			if (strcasecmp(state, "DONE") == 0)
				state = "DONE";
			else if (strcasecmp(state, "FAILED") == 0)
				state = "FAILED";
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
	rc = CLI_ERROR;
	if ((st = db_prepare(db, list_sql)) == NULL)
		goto dberr;
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		const char *uid = (const char *)sqlite3_column_text(st, 1);

		if (sqlite3_column_int(st, 4)) {
			/* the safe default: a report an archive lacks stays */
			fprintf(stderr, "radscribe: purge: keeping %s: a "
			    "report is not delivered yet\n", uid);
			continue;
		}
		vs = xrealloc(vs, (n + 1) * sizeof(*vs));
		memset(&vs[n], 0, sizeof(vs[n]));
		vs[n].id = sqlite3_column_int64(st, 0);
		snprintf(vs[n].uid, sizeof(vs[n].uid), "%s", uid);
		vs[n].ninst = sqlite3_column_int(st, 2);
		vs[n].nrep = sqlite3_column_int(st, 3);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto dberr;
	arr = json ? json_object_new_array() : NULL;
	for (int i = 0; i < n; i++) {
		struct victim *v = &vs[i];

		if (dry) {
			if (collect_files(db, v) == -1)
				goto dberr;
		} else {
			if ((rc = purge_one(db, v, cutoff, state)) == -1)
				goto dberr;
			if (rc == 0)
				continue;	/* changed meanwhile */
			/* rows are gone for good: only now the files */
			for (int k = 0; k < v->nfiles; k++)
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
			    cli_json_str(v->uid));
			json_object_object_add(o, "instances",
			    json_object_new_int(v->ninst));
			json_object_object_add(o, "reports",
			    json_object_new_int(v->nrep));
			json_object_object_add(o, "files",
			    json_object_new_int(v->nfiles));
			json_object_object_add(o, "purged",
			    json_object_new_boolean(!dry));
			json_object_array_add(arr, o);
		} else
			printf("%s %s instances=%d reports=%d files=%d\n",
			    dry ? "would purge" : "purged", v->uid, v->ninst,
			    v->nrep, v->nfiles);
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
	for (int i = 0; i < n; i++)
		victim_fini(&vs[i]);
	free(vs);
	cli_close(&conf, db);
	return rc;
}
