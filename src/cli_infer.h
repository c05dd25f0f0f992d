/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_infer - the `radscribe infer` subcommand; exit status 0, 1 or 2. */
#ifndef RS_CLI_INFER_H
#define RS_CLI_INFER_H

int	cli_infer(int argc, char *argv[]);

#endif
