/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greydump - test tool: the worker's pixel path on its own.
 *   greydump [-n] -c            run the start-up codec self-check
 *   greydump [-n] FILE OUT.pgm  decode FILE as the worker does, write PGM
 * -n leaves the decoders unregistered, as a daemon that forgot them would.
 * Exits 0, or 1 with the error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dicom/dcmbridge.h"
#include "core/log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: greydump [-n] -c\n"
	    "       greydump [-n] file.dcm out.pgm\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int ch, check = 0, codecs = 1, w, h, n;
	unsigned char *px;
	char err[1024];
	FILE *f;

	while ((ch = getopt(argc, argv, "cn")) != -1)
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'n':
			codecs = 0;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (check ? argc != 0 : argc != 2)
		usage();
	log_init("greydump", 1, LOG_LV_WARN);
	if (dcm_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "greydump: %s\n", err);
		return 1;
	}
	if (codecs)
		dcm_codecs_init(2);
	if (check) {
		if ((n = dcm_codecs_check(err, sizeof(err))) == -1) {
			fprintf(stderr, "greydump: codec self-check failed: %s\n", err);
			return 1;
		}
		printf("codec self-check: %d transfer syntaxes decoded\n", n);
		return 0;
	}
	if (dcm_read_grey(argv[0], &px, &w, &h, err, sizeof(err)) == -1) {
		fprintf(stderr, "greydump: %s\n", err);
		return 1;
	}
	if ((f = fopen(argv[1], "wb")) == NULL ||
	    fprintf(f, "P5\n%d %d\n255\n", w, h) < 0 ||
	    fwrite(px, 1, (size_t)w * h, f) != (size_t)w * h || fclose(f) != 0) {
		fprintf(stderr, "greydump: cannot write %s\n", argv[1]);
		free(px);
		return 1;
	}
	free(px);
	return 0;
}
