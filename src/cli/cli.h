/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli - what the radscribe subcommands share: exit codes, the config and
 * database they open, aligned tables for people, JSON for scripts, and
 * time formatting.  Single-threaded: the CLI's main thread only.
 */
#ifndef RS_CLI_H
#define RS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "core/conf.h"
#include "store/db.h"

/* Exit status of every subcommand; documented in radscribe(8). */
#define CLI_OK		0
#define CLI_ERROR	1
#define CLI_USAGE	2
#define CLI_NOTFOUND	3

/*
 * cli_open - load the config at conf_path into *conf (OUT) and, when db is
 * not NULL, open its database (must exist) into *db (OUT).  0, or -1
 * after printing why to stderr (nothing to free then).  The caller
 * releases with cli_close.
 */
int	cli_open(const char *conf_path, struct conf *conf /* OUT */,
	    struct db **db /* OUT */);
/* cli_close - db_close (db may be NULL) and conf_fini. */
void	cli_close(struct conf *conf, struct db *db);

/* cli_usage - print "radscribe: " and the message to stderr; CLI_USAGE. */
int	cli_usage(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* cli_error - print "radscribe: " and the message to stderr; CLI_ERROR. */
int	cli_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * cli_wake - after a queue change: ask a running radscribed to look at the
 * queue now.  Best effort (it polls anyway); 1 if it answered, else 0.
 */
int	cli_wake(const struct conf *conf);
/*
 * cli_confirm - may a destructive command go on?  yes (its --yes flag):
 * 1.  On a terminal: asks "question [y/N]" and returns the answer.
 * Otherwise 0 after saying that the flag is needed.
 */
int	cli_confirm(int yes, const char *cmd, const char *question);

/* An aligned text table: columns padded to their widest cell. */
struct cli_table;

/* cli_table_new - ncols columns with these headers (copied).  Never NULL. */
struct cli_table *cli_table_new(int ncols, const char *const *headers);
/* cli_table_add - one row of ncols cells (copied; NULL prints "-"). */
void	cli_table_add(struct cli_table *t, const char *const *cells);
/* cli_table_print - headers, then rows; the last column is not padded. */
void	cli_table_print(const struct cli_table *t, FILE *fp);
/* cli_table_free - NULL does nothing. */
void	cli_table_free(struct cli_table *t);

/* cli_json_print - o, pretty-printed, and a newline; takes ownership of o
 * (puts it).  0, or -1 on a write error. */
int	cli_json_print(json_object *o, FILE *fp);
/* cli_json_str - a JSON string, or null for NULL s. */
json_object *cli_json_str(const char *s);

/*
 * cli_time - ms since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf;
 * "-" for ms <= 0.  Returns buf.
 */
const char *cli_time(int64_t ms, char *buf, size_t sz);
/*
 * cli_parse_since - "30s", "15m", "2h", "7d" (that long before now) or
 * "YYYY-MM-DD[THH:MM:SS]" (UTC) into *ms (OUT).  0, or -1 if malformed.
 */
int	cli_parse_since(const char *s, int64_t *ms /* OUT */);

/*
 * The subcommands, one file each.  argv[0] is the subcommand's name;
 * conf_path is radscribed.conf.  Each returns a CLI_* exit status after
 * printing its output to stdout and its diagnostics to stderr.
 */
int	cli_list(const char *conf_path, int argc, char *argv[]);	/* cli_list.c */
int	cli_show(const char *conf_path, int argc, char *argv[]);	/* cli_show.c */
int	cli_report(const char *conf_path, int argc, char *argv[]);	/* cli_report.c */
int	cli_model(const char *conf_path, int argc, char *argv[]);	/* cli_model.c */
int	cli_config(const char *conf_path, int argc, char *argv[]);	/* cli_config.c */
int	cli_echo(const char *conf_path, int argc, char *argv[]);	/* cli_echo.c */
int	cli_stats(const char *conf_path, int argc, char *argv[]);	/* cli_stats.c */
int	cli_status(const char *conf_path, int argc, char *argv[]);	/* cli_status.c */
int	cli_reload(const char *conf_path, int argc, char *argv[]);	/* cli_status.c */
/* retry, hold, release, cancel, redraft (argv[0] says which) */
int	cli_admin_jobs(const char *conf_path, int argc, char *argv[]);	/* cli_admin.c */
int	cli_admin_resend(const char *conf_path, int argc, char *argv[]); /* cli_admin.c */
int	cli_admin_purge(const char *conf_path, int argc, char *argv[]);	/* cli_admin.c */

#endif
