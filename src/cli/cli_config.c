/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_config - `radscribe config check`: load radscribed.conf as the
 * daemon does, load and validate the SR template it names (or the
 * installed one) against the schema, print the effective configuration.
 * Touches no database.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/paths.h"
#include "report/srtemplate.h"

/* cli_config - `config check [FILE]` */
int
cli_config(const char *conf_path, int argc, char *argv[])
{
	static const char us[] = "usage: radscribe config check [file]";
	char tbuf[PATHS_MAX], sbuf[PATHS_MAX], err[1024];
	const char *tpath, *spath;
	struct sr_template *t;
	struct conf conf;

	if (argc < 2 || strcmp(argv[1], "check") != 0 || argc > 3 ||
	    (argc == 3 && argv[2][0] == '-'))
		return cli_usage("%s", us);
	if (argc == 3)
		conf_path = argv[2];
	if (conf_load(conf_path, &conf, err, sizeof(err)) == -1)
		return cli_error("%s", err);
	tpath = paths_sr_template(&conf, tbuf);
	spath = paths_sr_schema(sbuf);
	if ((t = sr_template_load(tpath, spath, err, sizeof(err))) == NULL) {
		conf_fini(&conf);
		return cli_error("%s", err);
	}
	sr_template_free(t);
	printf("# %s: ok\n# SR template %s: ok (schema %s)\n", conf_path,
	    tpath, spath);
	conf_print(&conf, stdout);
	conf_fini(&conf);
	return fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
}
