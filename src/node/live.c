/* SPDX-License-Identifier: GPL-2.0-or-later */
/* live - the running daemon's state as JSON for `radscribe status`. */
#include "config.h"

#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/uid.h"
#include "infer/blas.h"
#include "node/live.h"

static json_object *
logged(enum log_level level)
{
	char text[512];
	int64_t at;
	json_object *o;

	if (!log_last(level, text, sizeof(text), &at))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "at_ms", json_object_new_int64(at));
	json_object_object_add(o, "message", json_object_new_string(text));
	return o;
}

static json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

void
live_status(const struct live *app, json_object *o)
{
	const struct conf *c = app->conf;
	json_object *models = json_object_new_array(), *d;
	struct worker_model m;
	char study[UID_MAX + 1];
	int64_t since, now = clock_now_ms();

	json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid()));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "started_at_ms", json_object_new_int64(app->started_at));
	json_object_object_add(o, "uptime_s",
	    json_object_new_int64((now - app->started_at) / 1000));
	json_object_object_add(o, "config", json_object_new_string(c->path));
	json_object_object_add(o, "ae_title", json_object_new_string(c->ae_title));
	json_object_object_add(o, "listen_addr", json_object_new_string(c->listen_addr));
	json_object_object_add(o, "listen_port", json_object_new_int(c->listen_port));
	json_object_object_add(o, "associations",
	    json_object_new_int(dcm_scp_active(app->scp)));
	json_object_object_add(o, "archives", json_object_new_int((int)c->narchives));
	json_object_object_add(o, "blas_kernels", json_object_new_string(blas_corename()));
	json_object_object_add(o, "threads", json_object_new_int(c->threads));
	json_object_object_add(o, "log_level",
	    json_object_new_string(log_level_name(log_get_level())));
	for (int i = 0; worker_model(app->worker, i, &m) == 0; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "section", json_object_new_string(m.section));
		json_object_object_add(e, "model", json_object_new_string(m.model));
		json_object_object_add(e, "mmproj", json_object_new_string(m.mmproj));
		json_object_object_add(e, "name", str_or_null(m.name));
		json_object_object_add(e, "version", str_or_null(m.version));
		json_object_object_add(e, "lora", str_or_null(m.lora));
		json_object_object_add(e, "prompt", json_object_new_string(m.prompt));
		json_object_object_add(e, "shared", json_object_new_boolean(m.shared));
		json_object_array_add(models, e);
	}
	json_object_object_add(o, "models", models);
	d = NULL;
	if (worker_drafting(app->worker, study, sizeof(study), &since)) {
		d = json_object_new_object();
		json_object_object_add(d, "study_uid", json_object_new_string(study));
		json_object_object_add(d, "since_ms", json_object_new_int64(since));
	}
	json_object_object_add(o, "drafting", d);
	json_object_object_add(o, "last_error", logged(LOG_LV_ERR));
	json_object_object_add(o, "last_warning", logged(LOG_LV_WARN));
}
