/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_echo - `radscribe echo NAME`: C-ECHO a configured archive (by its
 * name) or move destination (by its AE title) with the node's own AE
 * title and timeouts.  Touches no database.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "dicom/scu.h"

/* cli_echo - `echo NAME` */
int
cli_echo(const char *conf_path, int argc, char *argv[])
{
	struct dcm_scu_peer peer;
	struct dcm_scu_result res;
	struct conf conf;
	const char *kind = NULL;
	int64_t t0;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("usage: radscribe echo NAME");
	if (cli_open(conf_path, &conf, NULL) == -1)
		return CLI_ERROR;
	memset(&peer, 0, sizeof(peer));
	for (size_t i = 0; kind == NULL && i < conf.narchives; i++)
		if (strcmp(conf.archives[i].name, argv[1]) == 0) {
			kind = "archive";
			peer.called_ae = conf.archives[i].ae;
			peer.host = conf.archives[i].host;
			peer.port = conf.archives[i].port;
		}
	for (size_t i = 0; kind == NULL && i < conf.nmove_dests; i++)
		if (strcmp(conf.move_dests[i].ae, argv[1]) == 0) {
			kind = "move_destination";
			peer.called_ae = conf.move_dests[i].ae;
			peer.host = conf.move_dests[i].host;
			peer.port = conf.move_dests[i].port;
		}
	if (kind == NULL) {
		fprintf(stderr, "radscribe: echo: no archive or "
		    "move_destination \"%s\" in %s\n", argv[1], conf_path);
		conf_fini(&conf);
		return CLI_NOTFOUND;
	}
	peer.calling_ae = conf.ae_title;
	peer.acse_timeout = conf.acse_timeout;
	peer.dimse_timeout = conf.dimse_timeout;
	t0 = clock_now_ms();
	if (dcm_scu_echo(&peer, &res) == -1)
		rc = cli_error("echo: %s %s (%s at %s:%d): %s: %s", kind,
		    argv[1], peer.called_ae, peer.host, peer.port,
		    dcm_scu_rc_name(res.rc), res.detail);
	else if (res.status != 0)
		rc = cli_error("echo: %s %s (%s at %s:%d): status 0x%04x",
		    kind, argv[1], peer.called_ae, peer.host, peer.port,
		    res.status);
	else {
		printf("%s %s (%s at %s:%d): ok, %lld ms\n", kind, argv[1],
		    peer.called_ae, peer.host, peer.port,
		    (long long)(clock_now_ms() - t0));
		rc = fflush(stdout) == 0 ? CLI_OK : CLI_ERROR;
	}
	conf_fini(&conf);
	return rc;
}
