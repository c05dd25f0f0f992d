/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_status - `radscribe status` and `radscribe reload`: the node as a
 * whole.  The queue comes from the database (status.c), what only the
 * running daemon knows from its control socket (control.h), and the free
 * space from statvfs(3).  Works whether radscribed runs or not.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "node/control.h"
#include "core/paths.h"
#include "store/spool.h"
#include "store/status.h"

/* One file system the node writes to. */
struct disk {
	const char	*name;
	char		 path[PATHS_MAX];
	int		 ok;
	char		 error[128];
	unsigned long long free, size;	/* bytes; free: for unprivileged */
};

#define NDISKS	3

static void
disk_probe(struct disk *d)
{
	struct statvfs sv;

	if (statvfs(d->path, &sv) == -1) {
		snprintf(d->error, sizeof(d->error), "%s", strerror(errno));
		return;
	}
	d->ok = 1;
	d->free = (unsigned long long)sv.f_bavail * sv.f_frsize;
	d->size = (unsigned long long)sv.f_blocks * sv.f_frsize;
}

static void
disks_probe(const struct conf *c, struct disk *d)
{
	char *slash;

	d[0].name = "spool";
	snprintf(d[0].path, sizeof(d[0].path), "%s", c->spool_dir);
	d[1].name = "reports";
	if (spool_area_path(c->spool_dir, SPOOL_REPORTS, d[1].path,
	    sizeof(d[1].path)) == -1)
		d[1].path[0] = '\0';	/* too long: statvfs reports it */
	d[2].name = "database";
	snprintf(d[2].path, sizeof(d[2].path), "%s", c->database);
	if ((slash = strrchr(d[2].path, '/')) != NULL)
		*(slash == d[2].path ? slash + 1 : slash) = '\0';
	else
		snprintf(d[2].path, sizeof(d[2].path), ".");
	for (int i = 0; i < NDISKS; i++)
		disk_probe(&d[i]);
}

static const char *
human(unsigned long long b, char *buf, size_t sz)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, sz, u == 0 ? "%.0f %s" : "%.1f %s", v, unit[u]);
	return buf;
}

static const char *
ago(int64_t ms, char *buf, size_t sz)
{
	int64_t s = (clock_now_ms() - ms) / 1000;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, sz, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, sz, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, sz, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, sz, "%lldd", (long long)(s / 86400));
	return buf;
}

/* jopt - a string member, or NULL; jstr - the same, "-" for NULL */
static const char *
jopt(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static const char *
jstr(json_object *o, const char *key)
{
	const char *s = jopt(o, key);

	return s != NULL ? s : "-";
}

static int64_t
jint(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	return json_object_get_int64(v);
}

static json_object *
jobj(json_object *o, const char *key)
{
	json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void
print_daemon(json_object *d, int state, const char *why, FILE *fp)
{
	char t[32], a[32];
	json_object *models, *e;

	if (state == CONTROL_DOWN) {
		fprintf(fp, "daemon      not running (%s)\n", why);
		return;
	}
	if (state != CONTROL_OK) {
		fprintf(fp, "daemon      unknown: %s\n", why);
		return;
	}
	fprintf(fp, "daemon      running, pid %lld, radscribed %s, up %s "
	    "(since %s)\n", (long long)jint(d, "pid"), jstr(d, "version"),
	    ago(jint(d, "started_at_ms"), a, sizeof(a)),
	    cli_time(jint(d, "started_at_ms"), t, sizeof(t)));
	fprintf(fp, "listening   %s on %s:%lld, %lld association(s) open, "
	    "%lld archive(s)\n", jstr(d, "ae_title"), jstr(d, "listen_addr"),
	    (long long)jint(d, "listen_port"), (long long)jint(d, "associations"),
	    (long long)jint(d, "archives"));
	fprintf(fp, "compute     OpenBLAS %s kernels, %lld thread(s)\n",
	    jstr(d, "blas_kernels"), (long long)jint(d, "threads"));
	models = jobj(d, "models");
	for (size_t i = 0; models != NULL && i < json_object_array_length(models); i++) {
		e = json_object_array_get_idx(models, i);
		if (json_object_get_boolean(jobj(e, "shared")))
			fprintf(fp, "%-11s the findings model\n", jstr(e, "section"));
		else
			fprintf(fp, "%-11s %s%s%s: %s + %s%s%s\n", jstr(e, "section"),
			    jopt(e, "name") ? jopt(e, "name") : "unnamed",
			    jopt(e, "version") ? " " : "",
			    jopt(e, "version") ? jopt(e, "version") : "",
			    jstr(e, "model"), jstr(e, "mmproj"),
			    jopt(e, "lora") ? ", LoRA " : "",
			    jopt(e, "lora") ? jopt(e, "lora") : "");
	}
	if ((e = jobj(d, "drafting")) != NULL)
		fprintf(fp, "drafting    study %s for %s\n", jstr(e, "study_uid"),
		    ago(jint(e, "since_ms"), a, sizeof(a)));
	else
		fprintf(fp, "drafting    nothing\n");
	if ((e = jobj(d, "last_error")) != NULL)
		fprintf(fp, "last error  %s %s\n", cli_time(jint(e, "at_ms"), t,
		    sizeof(t)), jstr(e, "message"));
	else
		fprintf(fp, "last error  none since start\n");
}

static void
print_job(const char *label, const struct status_job *j, FILE *fp)
{
	char t[32], a[32];

	if (j->id == 0) {
		fprintf(fp, "%-15s none\n", label);
		return;
	}
	fprintf(fp, "%-15s J%lld %s %s, study %s, made %s (%s ago)%s%s\n", label,
	    (long long)j->id, queue_stage_name(j->stage),
	    queue_state_name(j->state), j->study_uid,
	    cli_time(j->created_at, t, sizeof(t)),
	    ago(j->created_at, a, sizeof(a)), j->error[0] ? ": " : "", j->error);
}

static json_object *
disks_json(const struct disk *d)
{
	json_object *arr = json_object_new_array();

	for (int i = 0; i < NDISKS; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(d[i].name));
		json_object_object_add(o, "path", json_object_new_string(d[i].path));
		if (d[i].ok) {
			json_object_object_add(o, "free_bytes",
			    json_object_new_int64((int64_t)d[i].free));
			json_object_object_add(o, "size_bytes",
			    json_object_new_int64((int64_t)d[i].size));
		} else
			json_object_object_add(o, "error",
			    json_object_new_string(d[i].error));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
disks_print(const struct disk *d, FILE *fp)
{
	static const char *const hdr[] = { "DISK", "PATH", "FREE", "SIZE", "USED" };
	struct cli_table *t = cli_table_new(5, hdr);
	char f[32], s[32], u[16];

	for (int i = 0; i < NDISKS; i++) {
		const char *row[5] = { d[i].name, d[i].path, NULL, NULL, NULL };

		if (d[i].ok) {
			row[2] = human(d[i].free, f, sizeof(f));
			row[3] = human(d[i].size, s, sizeof(s));
			snprintf(u, sizeof(u), "%.0f%%", d[i].size ? 100.0 *
			    (double)(d[i].size - d[i].free) / (double)d[i].size : 0.0);
			row[4] = u;
		} else
			row[2] = d[i].error;
		cli_table_add(t, row);
	}
	cli_table_print(t, fp);
	cli_table_free(t);
}

int
cli_status(const char *conf_path, int argc, char *argv[])
{
	struct conf conf;
	struct db *db;
	struct status st;
	struct disk disks[NDISKS];
	json_object *daemon = NULL, *o;
	char path[PATHS_MAX], why[1024];
	int json = 0, state;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return cli_usage("usage: radscribe status [--json]");
	}
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	if (status_collect(db, &st) == -1) {
		cli_error("status: database: %s", db_errmsg(db));
		cli_close(&conf, db);
		return CLI_ERROR;
	}
	if (control_path(&conf, path, sizeof(path), why, sizeof(why)) == -1)
		state = CONTROL_FAIL;
	else
		state = control_request(path, CONTROL_STATUS, &daemon, why,
		    sizeof(why));
	memset(disks, 0, sizeof(disks));
	disks_probe(&conf, disks);
	if (json) {
		o = status_json(&st);
		json_object_object_add(o, "version",
		    json_object_new_string(PACKAGE_VERSION));
		if (daemon == NULL) {
			daemon = json_object_new_object();
			json_object_object_add(daemon, "error",
			    json_object_new_string(why));
		} else
			json_object_object_del(daemon, "ok");
		json_object_object_add(daemon, "running",
		    json_object_new_boolean(state == CONTROL_OK));
		json_object_object_add(daemon, "control_socket",
		    json_object_new_string(path));
		json_object_object_add(o, "daemon", daemon);
		json_object_object_add(o, "disks", disks_json(disks));
		cli_close(&conf, db);
		return cli_json_print(o, stdout) == 0 ? CLI_OK : CLI_ERROR;
	}
	printf("radscribe   %s\n", PACKAGE_VERSION);
	print_daemon(daemon, state, why, stdout);
	json_object_put(daemon);
	printf("\n");
	disks_print(disks, stdout);
	printf("\n");
	status_print_text(&st, stdout);
	printf("\n");
	print_job("oldest waiting", &st.oldest, stdout);
	print_job("last job error", &st.last_error, stdout);
	cli_close(&conf, db);
	return CLI_OK;
}

int
cli_reload(const char *conf_path, int argc, char *argv[])
{
	struct conf conf;
	json_object *r;
	char path[PATHS_MAX], why[1024];
	int rc;

	(void)argv;
	if (argc != 1)
		return cli_usage("usage: radscribe reload");
	if (cli_open(conf_path, &conf, NULL) == -1)
		return CLI_ERROR;
	if (control_path(&conf, path, sizeof(path), why, sizeof(why)) == -1)
		rc = CONTROL_FAIL;
	else
		rc = control_request(path, CONTROL_RELOAD, &r, why, sizeof(why));
	cli_close(&conf, NULL);
	if (rc == CONTROL_DOWN)
		return cli_error("reload: radscribed is not running (%s)", why);
	if (rc != CONTROL_OK)
		return cli_error("reload: %s", why);
	json_object_put(r);
	printf("radscribed reloaded %s (allow, allow_query and log_level; "
	    "other keys take effect at the next start)\n", conf_path);
	return CLI_OK;
}
