/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mksr - test tool: load an SR template and write a draft report SR from
 * source instances, through the same sr_template_load and sr_write the
 * worker uses.  It also checks that the Query/Retrieve index values
 * sr_write hands back (sr_request.qr) are those start-up recovery reads
 * from the file (dcm_attrs_read).  For tests only; exits 0, or 1 with the
 * error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "dicom/dcmbridge.h"
#include "dicom/qr.h"
#include "dicom/sr.h"
#include "report/srtemplate.h"
#include "store/qr_index.h"

/* pydicom's test root, as tests/data/mkdicom.py uses: test objects only */
#define TEST_ROOT "1.2.826.0.1.3680043.8.498"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mksr [-c basic|enhanced|comprehensive] [-u i,j,...]\n"
	    "            [-p predecessor.dcm] [-S series_uid] [-I sop_uid]\n"
	    "            [-m model] [-V model_version] [-D device_uid]\n"
	    "            [-n series_number] [-d series_description]\n"
	    "            template.xml schema.rng findings impression out.dcm\n"
	    "            source.dcm ...\n"
	    "  -u  indexes of the sources the model read (default: all)\n"
	    "  findings and impression are the texts; @FILE reads a file\n");
	exit(2);
}

/* same_attrs - the values sr_write gave are those read from path; 0/-1. */
static int
same_attrs(const struct dcm_qr_attrs *a, const char *path)
{
	struct dcm_qr_attrs f;
	char err[512];
	int rc = 0, have = 0;

	f = *a;
	if (dcm_attrs_read(path, f.tags, f.n, f.values, err, sizeof(err)) == -1) {
		fprintf(stderr, "mksr: reading back %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < a->n; i++) {
		const char *x = a->values[i] ? a->values[i] : "(none)";
		const char *y = f.values[i] ? f.values[i] : "(none)";

		have += a->values[i] != NULL;
		if (strcmp(x, y) != 0) {
			fprintf(stderr, "mksr: index value of (%04x,%04x): sr_write "
			    "gave \"%s\", the file holds \"%s\"\n",
			    (unsigned)(a->tags[i] >> 16),
			    (unsigned)(a->tags[i] & 0xffff), x, y);
			rc = -1;
		}
	}
	if (have == 0) {
		fprintf(stderr, "mksr: sr_write gave no index values\n");
		rc = -1;
	}
	dcm_qr_attrs_clear(&f);
	return rc;
}

/* text_arg - the argument, or the contents of the file after '@'. */
static char *
text_arg(const char *a)
{
	FILE *f;
	char *buf;
	size_t n;

	if (a[0] != '@')
		return strdup(a);
	if ((f = fopen(a + 1, "rb")) == NULL) {
		perror(a + 1);
		exit(1);
	}
	buf = calloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
make_uid(char *out, size_t outsz, int n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, outsz, "%s.%lld%09ld.%ld.%d", TEST_ROOT,
	    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(), n);
}

int
main(int argc, char **argv)
{
	struct sr_template *t;
	struct sr_request rq;
	struct dcm_qr_attrs qa;
	struct instance_meta pred;
	const char *cls = "basic", *used_arg = NULL, *pred_path = NULL;
	char series[65], sop[65], err[1024];
	size_t *used;
	int ch, rc;

	log_init("mksr", 1, LOG_LV_WARN);
	/* DCMTK's messages through log.c, as in the daemon */
	if (dcm_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "mksr: %s\n", err);
		return 1;
	}
	memset(&rq, 0, sizeof(rq));
	make_uid(series, sizeof(series), 1);
	make_uid(sop, sizeof(sop), 2);
	rq.series_uid = series;
	rq.sop_instance_uid = sop;
	rq.model_name = "radscribe-test";
	rq.model_version = "";
	rq.device_uid = TEST_ROOT ".7.1";
	rq.software_version = "0.1.0";
	rq.series_number = 9901;
	rq.series_description = "radscribe draft report, not verified";
	rq.instance_number = 1;
	while ((ch = getopt(argc, argv, "c:u:p:S:I:m:V:D:n:d:")) != -1) {
		switch (ch) {
		case 'c': cls = optarg; break;
		case 'u': used_arg = optarg; break;
		case 'p': pred_path = optarg; break;
		case 'S': rq.series_uid = optarg; break;
		case 'I': rq.sop_instance_uid = optarg; break;
		case 'm': rq.model_name = optarg; break;
		case 'V': rq.model_version = optarg; break;
		case 'D': rq.device_uid = optarg; break;
		case 'n': rq.series_number = atoi(optarg); break;
		case 'd': rq.series_description = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 6)
		usage();
	if (strcmp(cls, "basic") == 0)
		rq.sop_class = SR_BASIC;
	else if (strcmp(cls, "enhanced") == 0)
		rq.sop_class = SR_ENHANCED;
	else if (strcmp(cls, "comprehensive") == 0)
		rq.sop_class = SR_COMPREHENSIVE;
	else
		usage();

	t = sr_template_load(argv[0], argv[1], err, sizeof(err));
	if (t == NULL) {
		fprintf(stderr, "mksr: %s\n", err);
		return 1;
	}
	rq.tmpl = t;
	rq.findings = text_arg(argv[2]);
	rq.impression = text_arg(argv[3]);
	rq.sources = (const char *const *)(argv + 5);
	rq.nsources = (size_t)(argc - 5);
	used = calloc(rq.nsources, sizeof(*used));
	if (used_arg == NULL) {
		for (size_t i = 0; i < rq.nsources; i++)
			used[rq.nused++] = i;
	} else if (used_arg[0] != '\0') {
		char *s = strdup(used_arg), *tok, *save = NULL;

		for (tok = strtok_r(s, ",", &save); tok != NULL && rq.nused <
		    rq.nsources; tok = strtok_r(NULL, ",", &save))
			used[rq.nused++] = (size_t)strtoul(tok, NULL, 10);
		free(s);
	}
	if (pred_path != NULL) {
		if (dcm_file_meta(pred_path, &pred, err, sizeof(err)) == -1) {
			fprintf(stderr, "mksr: predecessor: %s\n", err);
			return 1;
		}
		rq.pred_study_uid = pred.study_uid;
		rq.pred_series_uid = pred.series_uid;
		rq.pred_sop_class_uid = pred.sop_class_uid;
		rq.pred_sop_instance_uid = pred.sop_instance_uid;
	}
	rq.used = used;
	qr_index_attrs_init(&qa);
	rq.qr = &qa;
	rc = sr_write(&rq, argv[4], err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "mksr: %s\n", err);
	else if (same_attrs(&qa, argv[4]) == -1)
		rc = -1;
	dcm_qr_attrs_clear(&qa);
	free(used);
	free((char *)rq.findings);
	free((char *)rq.impression);
	sr_template_free(t);
	return rc == -1 ? 1 : 0;
}
