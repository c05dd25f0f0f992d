/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * radscribe - the admin CLI.  Reads the daemon's config for the database
 * path and works on its own connection, whether radscribed runs or not.
 * Each subcommand group lives in its own cli_*.c (see cli.h).
 * Exit status: 0 ok, 1 error, 2 usage, 3 not found.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_infer.h"
#include "infer/blas.h"
#include "core/log.h"

/* Fixed, as Postfix's /etc/postfix: the man pages name these paths. */
#define DEFAULT_CONF "/etc/radscribe/radscribed.conf"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: radscribe [-f file] status [--json]\n"
	    "       radscribe [-f file] reload\n"
	    "       radscribe [-f file] list [jobs|studies] [--state S] "
	    "[--stage S]\n"
	    "                 [--since T] [--calling-ae AE] [--json]\n"
	    "       radscribe [-f file] show STUDY_UID|JOB_ID [--json]\n"
	    "       radscribe [-f file] report STUDY_UID "
	    "[--format text|dicom|xml|json] [-o file]\n"
	    "       radscribe model info FILE.gguf [--json]\n"
	    "       radscribe model test [--model LLM.gguf --mmproj MMPROJ.gguf] [IMAGE...]\n"
	    "       radscribe [-f file] config check [file]\n"
	    "       radscribe [-f file] echo NAME\n"
	    "       radscribe [-f file] stats [--days N] "
	    "[--json | --format prometheus]\n"
	    "       radscribe [-f file] retry|hold|release "
	    "JOB_ID|STUDY_UID\n"
	    "                 [--stage infer|send] [--json]\n"
	    "       radscribe [-f file] cancel JOB_ID|STUDY_UID "
	    "[--stage infer|send] [--yes] [--json]\n"
	    "       radscribe [-f file] redraft STUDY_UID [--json]\n"
	    "       radscribe [-f file] resend STUDY_UID [--to ARCHIVE] "
	    "[--json]\n"
	    "       radscribe [-f file] purge --older-than AGE "
	    "[--state DONE|FAILED]\n"
	    "                 [--yes|--dry-run] [--json]\n"
	    "       radscribe infer --model LLM.gguf --mmproj MMPROJ.gguf "
	    "[options] IMAGE...\n");
	exit(2);
}

/* Subcommands that open what they need themselves (cli.h). */
static const struct {
	const char	*name;
	int		(*fn)(const char *, int, char *[]);
} cmds[] = {
	{ "status", cli_status },
	{ "reload", cli_reload },
	{ "list", cli_list },
	{ "show", cli_show },
	{ "report", cli_report },
	{ "model", cli_model },
	{ "config", cli_config },
	{ "echo", cli_echo },
	{ "stats", cli_stats },
	{ "retry", cli_admin_jobs },
	{ "hold", cli_admin_jobs },
	{ "release", cli_admin_jobs },
	{ "cancel", cli_admin_jobs },
	{ "redraft", cli_admin_jobs },
	{ "resend", cli_admin_resend },
	{ "purge", cli_admin_purge },
};

int
main(int argc, char *argv[])
{
	const char *conf_path = DEFAULT_CONF;
	int ch;

	while ((ch = getopt(argc, argv, "+f:")) != -1)
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "infer") == 0) {
		char why[256];

		/* Before any matrix is touched: the variable is read at load. */
		blas_reexec(argv - optind, why, sizeof(why));
		if (why[0] != '\0')
			fprintf(stderr, "radscribe: %s\n", why);
		return cli_infer(argc, argv);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			log_init("radscribe", 1, LOG_LV_WARN);
			return cmds[i].fn(conf_path, argc, argv);
		}
	fprintf(stderr, "radscribe: unknown command \"%s\"\n", argv[0]);
	usage();
	return 2;
}
