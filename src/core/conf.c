/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conf - parser for radscribed.conf.  The key table below is the single
 * list of settings; radscribed.conf(5) must document each (a unit test
 * checks).  Errors name file and line; nothing here logs.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/xmem.h"


enum conf_type { T_INT, T_STR, T_OPTSTR, T_TEXT, T_AET, T_LISTEN, T_LOGLEVEL, T_ALLOW,
	T_SOPCLASS, T_ARCHIVE, T_REDRAFT, T_SRCLASS, T_ALLOWQ, T_MOVEDEST, T_YESNO,
	T_BODYPART, T_SIZE };

/* T_OPTSTR and T_TEXT keys have this default: unset (NULL), yet not
 * repeatable.  T_TEXT (prompts) also reads \n as a newline, \\ as \. */
static const char unset[] = "";
static const char *const redraft_names[] = { "redraft", "ignore", NULL };
static const char *const bodypart_names[] = { "draft", "refuse", NULL };
static const char *const srclass_names[] = { "basic", "enhanced", "comprehensive", NULL };
static const char *const yesno_names[] = { "no", "yes", NULL };

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	const char	*def;		/* NULL: no default (repeatable keys) */
	long		 min, max;
	size_t		 off;
};

#define OFF(f) offsetof(struct conf, f)
static const struct conf_key keys[] = {
	{ "ae_title",		T_AET,	    "RADSCRIBE",	1, 16,	  OFF(ae_title) },
	{ "listen",		T_LISTEN,   "0.0.0.0:11112",	1, 65535, 0 },
	{ "spool_dir",		T_STR,	    "/var/spool/radscribe", 0, 0, OFF(spool_dir) },
	{ "database",		T_STR,	    "/var/lib/radscribe/radscribe.db", 0, 0, OFF(database) },
	{ "control_socket",	T_OPTSTR,   unset,		0, 0,	  OFF(control_socket) },
	{ "settle_time",	T_INT,	    "30",		0, 86400, OFF(settle_time) },
	{ "max_associations",	T_INT,	    "8",		1, 256,	  OFF(max_associations) },
	{ "max_pdu",		T_INT,	    "65536",		4096, 131072, OFF(max_pdu) },
	{ "acse_timeout",	T_INT,	    "30",		1, 3600,  OFF(acse_timeout) },
	{ "dimse_timeout",	T_INT,	    "60",		1, 3600,  OFF(dimse_timeout) },
	{ "shutdown_timeout",	T_INT,	    "30",		0, 3600,  OFF(shutdown_timeout) },
	{ "log_level",		T_LOGLEVEL, "info",		0, 0,	  OFF(log_level) },
	{ "allow",		T_ALLOW,    NULL,		0, 0,	  0 },
	{ "accept_sop_class",	T_SOPCLASS, NULL,		0, 0,	  0 },
	{ "allow_query",	T_ALLOWQ,   NULL,		0, 0,	  0 },
	{ "move_destination",	T_MOVEDEST, NULL,		0, 0,	  0 },
	{ "query_images",	T_YESNO,    "no",		0, 0,	  OFF(query_images) },
	{ "model",		T_OPTSTR,   unset,		0, 0,	  OFF(model) },
	{ "mmproj",		T_OPTSTR,   unset,		0, 0,	  OFF(mmproj) },
	{ "findings_model",	T_OPTSTR,   unset,		0, 0,	  OFF(findings.model) },
	{ "findings_mmproj",	T_OPTSTR,   unset,		0, 0,	  OFF(findings.mmproj) },
	{ "findings_prompt",	T_TEXT,	    unset,		0, 0,	  OFF(findings.prompt) },
	{ "findings_max_tokens", T_INT,	    "128",		1, 2048,  OFF(findings.max_tokens) },
	{ "impression_model",	T_OPTSTR,   unset,		0, 0,	  OFF(impression.model) },
	{ "impression_mmproj",	T_OPTSTR,   unset,		0, 0,	  OFF(impression.mmproj) },
	{ "impression_prompt",	T_TEXT,	    unset,		0, 0,	  OFF(impression.prompt) },
	{ "impression_max_tokens", T_INT,   "64",		1, 2048,  OFF(impression.max_tokens) },
	{ "prompt_layout",	T_TEXT,	    unset,		0, 0,	  OFF(prompt_layout) },
	{ "lora",		T_OPTSTR,   unset,		0, 0,	  OFF(lora) },
	{ "beams",		T_INT,	    "1",		1, 8,	  OFF(beams) },
	{ "threads",		T_INT,	    "2",		1, 256,	  OFF(threads) },
	{ "max_query_results",	T_INT,	    "5000",		1, 1000000, OFF(max_query_results) },
	{ "max_instance_size",	T_SIZE,	    "1G",		1L << 20, 1L << 40, OFF(max_instance_size) },
	{ "max_decoded_size",	T_SIZE,	    "2G",		1L << 20, 1L << 40, OFF(max_decoded_size) },
	{ "redraft",		T_REDRAFT,  "redraft",		0, 0,	  OFF(redraft) },
	{ "unknown_body_part",	T_BODYPART, "draft",		0, 0,	  OFF(unknown_body_part) },
	{ "sr_template",	T_OPTSTR,   unset,		0, 0,	  OFF(sr_template) },
	{ "sr_sop_class",	T_SRCLASS,  "basic",		0, 0,	  OFF(sr_sop_class) },
	{ "sr_series_number",	T_INT,	    "9901",		1, 2147483647, OFF(sr_series_number) },
	{ "sr_series_description", T_STR,   "radscribe draft report, not verified", 0, 0, OFF(sr_series_description) },
	{ "uid_root",		T_OPTSTR,   unset,		0, 0,	  OFF(uid_root) },
	{ "draft_retry_min",	T_INT,	    "10",		1, 86400, OFF(draft_retry_min) },
	{ "draft_retry_max",	T_INT,	    "600",		1, 86400, OFF(draft_retry_max) },
	{ "draft_max_attempts",	T_INT,	    "8",		0, 1000000, OFF(draft_max_attempts) },
	{ "draft_max_age",	T_INT,	    "0",		0, 31536000, OFF(draft_max_age) },
	{ "archive",		T_ARCHIVE,  NULL,		0, 0,	  0 },
	{ "send_retry_min",	T_INT,	    "10",		1, 86400, OFF(send_retry_min) },
	{ "send_retry_max",	T_INT,	    "600",		1, 86400, OFF(send_retry_max) },
	{ "send_max_attempts",	T_INT,	    "0",		0, 1000000, OFF(send_max_attempts) },
	{ "send_max_age",	T_INT,	    "259200",		60, 31536000, OFF(send_max_age) },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

size_t
conf_key_count(void)
{
	return NKEYS;
}

const char *
conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

/* unescape - a copy with \n and \\ turned into what they name; NULL
 * on any other escape. */
static char *
unescape(const char *v)
{
	char *out = xmalloc(strlen(v) + 1), *o = out;

	for (; *v != '\0'; v++) {
		if (*v != '\\') {
			*o++ = *v;
			continue;
		}
		if (v[1] == 'n')
			*o++ = '\n';
		else if (v[1] == '\\')
			*o++ = '\\';
		else {
			free(out);
			return NULL;
		}
		v++;
	}
	*o = '\0';
	return out;
}

static int
seterr(char *err, size_t errsz, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errsz, "%s:%d: ", path, line);
	if (n >= 0 && (size_t)n < errsz) {
		va_start(ap, fmt);
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* PS3.5 6.2: AE is up to 16 characters of the default repertoire, no backslash. */
static int
aet_valid(const char *s)
{
	size_t n = strlen(s);
	int nonspace = 0;

	if (n == 0 || n > CONF_AET_MAX)
		return 0;
	for (; *s; s++) {
		if (*s == '\\' || !isprint((unsigned char)*s))
			return 0;
		if (*s != ' ')
			nonspace = 1;
	}
	return nonspace;
}

static int
parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

/* parse_size - bytes, or K, M, G, T binary multiples of them. */
static int
parse_size(const char *s, long *out)
{
	char *end;
	int shift = 0;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno != 0 || end == s || *out < 0)
		return -1;
	switch (*end) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end != '\0' || *out > (LONG_MAX >> shift))
		return -1;
	*out <<= shift;
	return 0;
}

static int
set_value(struct conf *c, const struct conf_key *k, const char *v,
    const char *path, int line, char *err, size_t errsz)
{
	long n;
	char *p;

	switch (k->type) {
	case T_INT:
		if (parse_long(v, &n) == -1)
			return seterr(err, errsz, path, line,
			    "%s: not a number: \"%s\"", k->name, v);
		if (n < k->min || n > k->max)
			return seterr(err, errsz, path, line,
			    "%s: %ld out of range %ld..%ld", k->name, n, k->min,
			    k->max);
		*(int *)((char *)c + k->off) = (int)n;
		return 0;
	case T_SIZE:
		if (parse_size(v, &n) == -1)
			return seterr(err, errsz, path, line, "%s: not a size "
			    "(bytes, or a number and K, M, G or T): \"%s\"",
			    k->name, v);
		if (n < k->min || n > k->max)
			return seterr(err, errsz, path, line,
			    "%s: %ld out of range %ld..%ld", k->name, n, k->min,
			    k->max);
		*(int64_t *)((char *)c + k->off) = n;
		return 0;
	case T_TEXT:
		if (v == unset)
			return 0;
		if (*v == '\0')
			return seterr(err, errsz, path, line, "%s: empty value",
			    k->name);
		if ((p = unescape(v)) == NULL)
			return seterr(err, errsz, path, line, "%s: a backslash "
			    "is \\n (newline) or \\\\ (backslash)", k->name);
		if (strcmp(k->name, "prompt_layout") == 0 &&
		    strstr(p, "<image>") == NULL) {
			free(p);
			return seterr(err, errsz, path, line, "prompt_layout: "
			    "has no <image> (where the image goes)");
		}
		free(*(char **)((char *)c + k->off));
		*(char **)((char *)c + k->off) = p;
		return 0;
	case T_OPTSTR:
		if (v == unset)
			return 0;
		/* FALLTHROUGH */
	case T_STR:
		if (*v == '\0')
			return seterr(err, errsz, path, line, "%s: empty value",
			    k->name);
		p = xstrdup(v);
		free(*(char **)((char *)c + k->off));
		*(char **)((char *)c + k->off) = p;
		return 0;
	case T_REDRAFT:
	case T_SRCLASS:
	case T_YESNO:
	case T_BODYPART: {
		const char *const *names = k->type == T_REDRAFT ? redraft_names :
		    k->type == T_YESNO ? yesno_names :
		    k->type == T_BODYPART ? bodypart_names : srclass_names;

		for (int i = 0; names[i] != NULL; i++)
			if (strcmp(v, names[i]) == 0) {
				*(int *)((char *)c + k->off) = i;
				return 0;
			}
		return seterr(err, errsz, path, line, "%s: \"%s\" is not one "
		    "of %s%s%s%s%s", k->name, v, names[0], ", ", names[1],
		    names[2] ? ", " : "", names[2] ? names[2] : "");
	}
	case T_ARCHIVE: {
		char name[64], ae[64], host[256], extra[2];
		long port;
		int nf = sscanf(v, "%63s %63s %255s %ld %1s", name, ae, host,
		    &port, extra);
		struct conf_archive *a;

		if (nf != 4)
			return seterr(err, errsz, path, line, "archive: expected "
			    "NAME AE_TITLE HOST PORT, got \"%s\"", v);
		if (!aet_valid(ae))
			return seterr(err, errsz, path, line,
			    "archive: \"%s\" is not an AE title", ae);
		if (port < 1 || port > 65535)
			return seterr(err, errsz, path, line,
			    "archive: bad port %ld (1..65535)", port);
		for (size_t i = 0; i < c->narchives; i++)
			if (strcmp(c->archives[i].name, name) == 0)
				return seterr(err, errsz, path, line,
				    "archive: name \"%s\" used twice (line %d)",
				    name, c->archives[i].line);
		c->archives = xrealloc(c->archives,
		    (c->narchives + 1) * sizeof(*c->archives));
		a = &c->archives[c->narchives++];
		a->name = xstrdup(name);
		memcpy(a->ae, ae, strlen(ae) + 1);
		a->host = xstrdup(host);
		a->port = (int)port;
		a->line = line;
		return 0;
	}
	case T_AET:
		if (!aet_valid(v))
			return seterr(err, errsz, path, line,
			    "%s: \"%s\" is not an AE title (1 to 16 printable "
			    "characters, no backslash)", k->name, v);
		snprintf((char *)c + k->off, CONF_AET_MAX + 1, "%s", v);
		return 0;
	case T_LOGLEVEL:
		if (log_level_parse(v, &c->log_level) == -1)
			return seterr(err, errsz, path, line,
			    "%s: unknown level \"%s\" (debug, info, warn, err, "
			    "crit)", k->name, v);
		return 0;
	case T_LISTEN:
		p = strrchr(v, ':');
		if (p == NULL || p == v)
			return seterr(err, errsz, path, line,
			    "listen: expected ADDRESS:PORT, got \"%s\"", v);
		if (parse_long(p + 1, &n) == -1 || n < k->min || n > k->max)
			return seterr(err, errsz, path, line,
			    "listen: bad port \"%s\" (1..65535)", p + 1);
		free(c->listen_addr);
		c->listen_addr = xmalloc((size_t)(p - v) + 1);
		memcpy(c->listen_addr, v, (size_t)(p - v));
		c->listen_addr[p - v] = '\0';
		c->listen_port = (int)n;
		return 0;
	case T_ALLOW:
	case T_ALLOWQ: {
		char ae[64], host[256], extra[2];
		int nf = sscanf(v, "%63s %255s %1s", ae, host, extra);
		struct conf_allow **list = k->type == T_ALLOW ? &c->allow :
		    &c->allow_query;
		size_t *n = k->type == T_ALLOW ? &c->nallow : &c->nallow_query;
		struct conf_allow *a;

		if (nf < 1 || nf > 2)
			return seterr(err, errsz, path, line,
			    "%s: expected CALLING_AE [HOST], got \"%s\"",
			    k->name, v);
		if (!aet_valid(ae))
			return seterr(err, errsz, path, line,
			    "%s: \"%s\" is not an AE title", k->name, ae);
		*list = xrealloc(*list, (*n + 1) * sizeof(**list));
		a = &(*list)[(*n)++];
		memcpy(a->ae, ae, strlen(ae) + 1);	/* aet_valid: <= 16 */
		a->host = nf == 2 ? xstrdup(host) : NULL;
		a->line = line;
		return 0;
	}
	case T_MOVEDEST: {
		char ae[64], host[256], extra[2];
		long port;
		int nf = sscanf(v, "%63s %255s %ld %1s", ae, host, &port, extra);
		struct conf_dest *d;

		if (nf != 3)
			return seterr(err, errsz, path, line, "move_destination: "
			    "expected AE_TITLE HOST PORT, got \"%s\"", v);
		if (!aet_valid(ae))
			return seterr(err, errsz, path, line,
			    "move_destination: \"%s\" is not an AE title", ae);
		if (port < 1 || port > 65535)
			return seterr(err, errsz, path, line,
			    "move_destination: bad port %ld (1..65535)", port);
		for (size_t i = 0; i < c->nmove_dests; i++)
			if (strcmp(c->move_dests[i].ae, ae) == 0)
				return seterr(err, errsz, path, line,
				    "move_destination: AE title \"%s\" used "
				    "twice (line %d)", ae, c->move_dests[i].line);
		c->move_dests = xrealloc(c->move_dests,
		    (c->nmove_dests + 1) * sizeof(*c->move_dests));
		d = &c->move_dests[c->nmove_dests++];
		memcpy(d->ae, ae, strlen(ae) + 1);
		d->host = xstrdup(host);
		d->port = (int)port;
		d->line = line;
		return 0;
	}
	case T_SOPCLASS:
		if (strpbrk(v, " \t") != NULL)
			return seterr(err, errsz, path, line,
			    "accept_sop_class: one UID or name per line, got "
			    "\"%s\"", v);
		c->sop_classes = xrealloc(c->sop_classes,
		    (c->nsop_classes + 1) * sizeof(*c->sop_classes));
		c->sop_classes[c->nsop_classes].value = xstrdup(v);
		c->sop_classes[c->nsop_classes].line = line;
		c->nsop_classes++;
		return 0;
	}
	panic("conf: key type %d", (int)k->type);
}

void
conf_defaults(struct conf *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL &&
		    set_value(c, &keys[i], keys[i].def, "(default)", 0, err,
		    sizeof(err)) == -1)
			panic("conf: bad default: %s", err);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
conf_load(const char *path, struct conf *c, char *err, size_t errsz)
{
	FILE *fp;
	char *line = NULL, *name, *value, *eq, *hash;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = -1;
	unsigned char seen[NKEYS] = { 0 };

	conf_defaults(c);
	c->path = xstrdup(path);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		const struct conf_key *k = NULL;

		lineno++;
		if ((size_t)len != strlen(line)) {
			seterr(err, errsz, path, lineno, "NUL byte in line");
			goto out;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		name = trim(line);
		if (*name == '\0')
			continue;
		if ((eq = strchr(name, '=')) == NULL) {
			seterr(err, errsz, path, lineno,
			    "expected \"name = value\"");
			goto out;
		}
		*eq = '\0';
		name = trim(name);
		value = trim(eq + 1);
		for (size_t i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].name, name) == 0) {
				k = &keys[i];
				if (k->def != NULL && seen[i]++) {
					seterr(err, errsz, path, lineno,
					    "%s: set twice", name);
					goto out;
				}
			}
		if (k == NULL) {
			seterr(err, errsz, path, lineno, "unknown key \"%s\"",
			    name);
			goto out;
		}
		if (set_value(c, k, value, path, lineno, err, errsz) == -1)
			goto out;
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	if (c->send_retry_min > c->send_retry_max) {
		snprintf(err, errsz, "%s: send_retry_min (%d) is above "
		    "send_retry_max (%d)", path, c->send_retry_min,
		    c->send_retry_max);
		goto out;
	}
	if (c->draft_retry_min > c->draft_retry_max) {
		snprintf(err, errsz, "%s: draft_retry_min (%d) is above "
		    "draft_retry_max (%d)", path, c->draft_retry_min,
		    c->draft_retry_max);
		goto out;
	}
	if ((c->model == NULL) != (c->mmproj == NULL) ||
	    (c->findings.model == NULL) != (c->findings.mmproj == NULL) ||
	    (c->impression.model == NULL) != (c->impression.mmproj == NULL)) {
		snprintf(err, errsz, "%s: a model and its mmproj go together "
		    "(model/mmproj, findings_model/findings_mmproj, "
		    "impression_model/impression_mmproj)", path);
		goto out;
	}
	rc = 0;
out:
	free(line);
	if (fp != NULL)
		fclose(fp);
	if (rc == -1)
		conf_fini(c);
	return rc;
}

void
conf_fini(struct conf *c)
{
	free(c->path);
	free(c->listen_addr);
	free(c->spool_dir);
	free(c->database);
	for (size_t i = 0; i < c->nallow; i++)
		free(c->allow[i].host);
	free(c->allow);
	for (size_t i = 0; i < c->nsop_classes; i++)
		free(c->sop_classes[i].value);
	free(c->sop_classes);
	for (size_t i = 0; i < c->nallow_query; i++)
		free(c->allow_query[i].host);
	free(c->allow_query);
	for (size_t i = 0; i < c->nmove_dests; i++)
		free(c->move_dests[i].host);
	free(c->move_dests);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == T_OPTSTR || keys[i].type == T_TEXT)
			free(*(char **)((char *)c + keys[i].off));
	free(c->sr_series_description);
	for (size_t i = 0; i < c->narchives; i++) {
		free(c->archives[i].name);
		free(c->archives[i].host);
	}
	free(c->archives);
	memset(c, 0, sizeof(*c));
}

void
conf_print(const struct conf *c, FILE *fp)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];

		switch (k->type) {
		case T_INT:
			fprintf(fp, "%s = %d\n", k->name,
			    *(const int *)((const char *)c + k->off));
			break;
		case T_SIZE: {
			int64_t v = *(const int64_t *)((const char *)c + k->off);
			const char *u = "KMGT";
			int i = -1;

			while (i < 3 && v != 0 && v % 1024 == 0) {
				v /= 1024;
				i++;
			}
			fprintf(fp, "%s = %lld%.*s\n", k->name, (long long)v,
			    i >= 0 ? 1 : 0, i >= 0 ? u + i : "");
			break;
		}
		case T_STR:
			fprintf(fp, "%s = %s\n", k->name,
			    *(char *const *)((const char *)c + k->off));
			break;
		case T_OPTSTR:
		case T_TEXT: {
			const char *v = *(char *const *)((const char *)c + k->off);

			if (v == NULL && k->off == OFF(control_socket)) {
				fprintf(fp, "# %s: not set, so %s/control.sock\n",
				    k->name, c->spool_dir);
				break;
			}
			if (v == NULL) {
				fprintf(fp, "# %s: not set\n", k->name);
				break;
			}
			fprintf(fp, "%s = ", k->name);
			for (; *v != '\0'; v++)
				if (*v == '\n')
					fputs("\\n", fp);
				else if (*v == '\\' && k->type == T_TEXT)
					fputs("\\\\", fp);
				else
					fputc(*v, fp);
			fputc('\n', fp);
			break;
		}
		case T_REDRAFT:
			fprintf(fp, "%s = %s\n", k->name, redraft_names[c->redraft]);
			break;
		case T_BODYPART:
			fprintf(fp, "%s = %s\n", k->name,
			    bodypart_names[c->unknown_body_part]);
			break;
		case T_SRCLASS:
			fprintf(fp, "%s = %s\n", k->name,
			    srclass_names[c->sr_sop_class]);
			break;
		case T_YESNO:
			fprintf(fp, "%s = %s\n", k->name, yesno_names[
			    *(const int *)((const char *)c + k->off) != 0]);
			break;
		case T_ARCHIVE:
			if (c->narchives == 0)
				fprintf(fp, "# archive: none, reports are kept "
				    "but not sent\n");
			for (size_t j = 0; j < c->narchives; j++)
				fprintf(fp, "archive = %s %s %s %d\n",
				    c->archives[j].name, c->archives[j].ae,
				    c->archives[j].host, c->archives[j].port);
			break;
		case T_AET:
			fprintf(fp, "%s = %s\n", k->name,
			    (const char *)c + k->off);
			break;
		case T_LISTEN:
			fprintf(fp, "listen = %s:%d\n", c->listen_addr,
			    c->listen_port);
			break;
		case T_LOGLEVEL:
			fprintf(fp, "log_level = %s\n",
			    log_level_name(c->log_level));
			break;
		case T_ALLOW:
			if (c->nallow == 0)
				fprintf(fp, "# allow: none, any calling AE "
				    "title is accepted\n");
			for (size_t j = 0; j < c->nallow; j++)
				fprintf(fp, "allow = %s%s%s\n", c->allow[j].ae,
				    c->allow[j].host ? " " : "",
				    c->allow[j].host ? c->allow[j].host : "");
			break;
		case T_ALLOWQ:
			if (c->nallow_query == 0)
				fprintf(fp, "# allow_query: none, no caller may "
				    "query or retrieve\n");
			for (size_t j = 0; j < c->nallow_query; j++)
				fprintf(fp, "allow_query = %s%s%s\n",
				    c->allow_query[j].ae,
				    c->allow_query[j].host ? " " : "",
				    c->allow_query[j].host ? c->allow_query[j].host : "");
			break;
		case T_MOVEDEST:
			if (c->nmove_dests == 0)
				fprintf(fp, "# move_destination: none, every "
				    "C-MOVE is refused (0xA801)\n");
			for (size_t j = 0; j < c->nmove_dests; j++)
				fprintf(fp, "move_destination = %s %s %d\n",
				    c->move_dests[j].ae, c->move_dests[j].host,
				    c->move_dests[j].port);
			break;
		case T_SOPCLASS:
			if (c->nsop_classes == 0)
				fprintf(fp, "# accept_sop_class: the built-in "
				    "list (CR, DX, Secondary Capture)\n");
			for (size_t j = 0; j < c->nsop_classes; j++)
				fprintf(fp, "accept_sop_class = %s\n",
				    c->sop_classes[j].value);
			break;
		}
	}
}
