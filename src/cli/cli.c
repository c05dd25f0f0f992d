/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli - shared plumbing of the radscribe subcommands: config and
 * database opening, messages with the exit codes, aligned tables, JSON
 * output, times.  Main thread of the CLI only; never used by radscribed.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "node/control.h"
#include "core/paths.h"
#include "core/xmem.h"

struct cli_table {
	int	  ncols;
	size_t	  nrows;	/* rows, the header included */
	char	**cells;	/* nrows * ncols */
};

/* cli_open - config, then the database it names */
int
cli_open(const char *conf_path, struct conf *conf, struct db **db)
{
	char err[1024];

	if (conf_load(conf_path, conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "radscribe: %s\n", err);
		return -1;
	}
	if (db == NULL)
		return 0;
	if ((*db = db_open(conf->database, DB_EXISTING, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "radscribe: database %s\n", err);
		conf_fini(conf);
		return -1;
	}
	return 0;
}

/* cli_close - the database, then the config */
void
cli_close(struct conf *conf, struct db *db)
{
	if (db != NULL)
		db_close(db);
	conf_fini(conf);
}

static void
vmsg(const char *fmt, va_list ap)
{
	fputs("radscribe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* cli_usage - a usage message */
int
cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

/* cli_error - an error message */
int
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return CLI_ERROR;
}

/* cli_table_new - an empty table with headers */
struct cli_table *
cli_table_new(int ncols, const char *const *headers)
{
	struct cli_table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	cli_table_add(t, headers);
	return t;
}

/* cli_table_add - one row */
void
cli_table_add(struct cli_table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols *
	    sizeof(*t->cells));
	for (int i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] =
		    xstrdup(cells[i] != NULL ? cells[i] : "-");
	t->nrows++;
}

/* cli_table_print - padded to the widest cell of each column */
void
cli_table_print(const struct cli_table *t, FILE *fp)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c == t->ncols - 1)
				fprintf(fp, "%s\n", s);
			else
				fprintf(fp, "%-*s  ", (int)w[c], s);
		}
	}
	free(w);
}

/* cli_table_free - every cell, then the table */
void
cli_table_free(struct cli_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* cli_json_print - pretty, then put */
int
cli_json_print(json_object *o, FILE *fp)
{
	int rc;

	rc = fprintf(fp, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ? -1 : 0;
	json_object_put(o);
	if (fflush(fp) == EOF)
		rc = -1;
	return rc;
}

/* cli_json_str - string or null */
json_object *
cli_json_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* cli_time - ISO 8601, UTC */
const char *
cli_time(int64_t ms, char *buf, size_t sz)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, sz, "-");
	else
		strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* cli_parse_since - a duration back from now, or a UTC date and time */
int
cli_parse_since(const char *s, int64_t *ms)
{
	struct tm tm;
	char *end;
	const char *p;
	long long n;
	int k = 0;

	if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
		n = strtoll(s, &end, 10);
		if (end == s || end[0] == '\0' || end[1] != '\0' || n < 0)
			return -1;
		switch (end[0]) {
		case 's': break;
		case 'm': n *= 60; break;
		case 'h': n *= 3600; break;
		case 'd': n *= 86400; break;
		default: return -1;
		}
		*ms = clock_now_ms() - n * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &k) != 3)
		return -1;
	p = s + k;
	if ((*p == 'T' || *p == ' ') && sscanf(p + 1, "%2d:%2d:%2d%n",
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &k) == 3)
		p += 1 + k;
	if (*p != '\0' && strcmp(p, "Z") != 0)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

/* cli_wake - a hint; the daemon also polls the queue every second */
int
cli_wake(const struct conf *conf)
{
	char path[PATHS_MAX], err[512];
	json_object *r;

	if (control_path(conf, path, sizeof(path), err, sizeof(err)) == -1 ||
	    control_request(path, CONTROL_WAKE, &r, err, sizeof(err)) != CONTROL_OK)
		return 0;
	json_object_put(r);
	return 1;
}

/* cli_confirm - the safe default: no flag and no terminal, no action */
int
cli_confirm(int yes, const char *cmd, const char *question)
{
	char line[16];

	if (yes)
		return 1;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		fprintf(stderr, "radscribe: %s: not a terminal, so not asking: "
		    "add --yes to %s\n", cmd, question);
		return 0;
	}
	fprintf(stderr, "%s? [y/N] ", question);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}
