/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli_infer - the `radscribe infer` subcommand; exit status 0, 1 or 2. */
#ifndef RS_CLI_INFER_H
#define RS_CLI_INFER_H

struct image;

int	cli_infer(int argc, char *argv[]);
/*
 * cli_read_view - a PNG, PGM or DICOM file as one grey view (the caller
 * frees it with image_free); NULL with err set.
 */
struct image *cli_read_view(const char *path, char *err, size_t errsz);

#endif
