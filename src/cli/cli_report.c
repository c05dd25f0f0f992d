/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_report - `radscribe report STUDY_UID`: the study's latest report as
 * text, as the DICOM SR file itself, as XML (libxml2) or as JSON
 * (json-c).  Reads only; writes to stdout or to the file named by -o.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libxml/tree.h>

#include "cli/cli.h"
#include "store/catalog.h"

enum fmt { FMT_TEXT, FMT_DICOM, FMT_XML, FMT_JSON };

static int
copy_file(const char *from, FILE *to)
{
	char buf[65536];
	FILE *in;
	size_t n;
	int rc = 0;

	if ((in = fopen(from, "rb")) == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, to) != n) {
			rc = -1;
			break;
		}
	if (ferror(in))
		rc = -1;
	fclose(in);
	return rc;
}

static int
put_xml(const struct catalog_latest *r, FILE *fp)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root, n, srcs;
	xmlChar *mem = NULL;
	char b[32];
	int len = 0, rc;

	root = xmlNewNode(NULL, BAD_CAST "report");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, BAD_CAST "sop-instance-uid", BAD_CAST r->sop_instance_uid);
	xmlNewTextChild(root, NULL, BAD_CAST "study-instance-uid",
	    BAD_CAST r->study_uid);
	xmlNewTextChild(root, NULL, BAD_CAST "series-instance-uid",
	    BAD_CAST r->series_uid);
	xmlNewTextChild(root, NULL, BAD_CAST "sop-class-uid",
	    BAD_CAST r->sop_class_uid);
	xmlNewTextChild(root, NULL, BAD_CAST "created",
	    BAD_CAST cli_time(r->created_at, b, sizeof(b)));
	xmlNewTextChild(root, NULL, BAD_CAST "model", BAD_CAST r->model);
	if (r->predecessor != NULL)
		xmlNewTextChild(root, NULL, BAD_CAST "predecessor",
		    BAD_CAST r->predecessor);
	xmlNewTextChild(root, NULL, BAD_CAST "findings",
	    BAD_CAST r->findings);
	xmlNewTextChild(root, NULL, BAD_CAST "impression",
	    BAD_CAST r->impression);
	srcs = xmlNewChild(root, NULL, BAD_CAST "sources", NULL);
	for (size_t i = 0; i < r->nsources; i++) {
		n = xmlNewChild(srcs, NULL, BAD_CAST "instance", NULL);
		xmlNewProp(n, BAD_CAST "sop-instance-uid", BAD_CAST r->sources[i].sop_instance_uid);
		xmlNewProp(n, BAD_CAST "sop-class-uid", BAD_CAST r->sources[i].sop_class_uid);
		xmlNewProp(n, BAD_CAST "series-instance-uid",
		    BAD_CAST r->sources[i].series_uid);
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	rc = mem != NULL && fwrite(mem, 1, (size_t)len, fp) == (size_t)len ?
	    0 : -1;
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}

static int
put_json(const struct catalog_latest *r, FILE *fp)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "sop_instance_uid", cli_json_str(r->sop_instance_uid));
	json_object_object_add(o, "study_instance_uid", cli_json_str(r->study_uid));
	json_object_object_add(o, "series_instance_uid", cli_json_str(r->series_uid));
	json_object_object_add(o, "sop_class_uid", cli_json_str(r->sop_class_uid));
	json_object_object_add(o, "created_at_ms", json_object_new_int64(r->created_at));
	json_object_object_add(o, "model", cli_json_str(r->model));
	json_object_object_add(o, "predecessor", cli_json_str(r->predecessor));
	json_object_object_add(o, "findings", cli_json_str(r->findings));
	json_object_object_add(o, "impression", cli_json_str(r->impression));
	json_object_object_add(o, "path", cli_json_str(r->path));
	json_object_object_add(o, "size", json_object_new_int64(r->size));
	for (size_t i = 0; i < r->nsources; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "sop_instance_uid", cli_json_str(r->sources[i].sop_instance_uid));
		json_object_object_add(s, "sop_class_uid", cli_json_str(r->sources[i].sop_class_uid));
		json_object_object_add(s, "series_instance_uid",
		    cli_json_str(r->sources[i].series_uid));
		json_object_array_add(a, s);
	}
	json_object_object_add(o, "sources", a);
	return cli_json_print(o, fp);
}

/* cli_report - `report STUDY_UID [--format F] [-o FILE]` */
int
cli_report(const char *conf_path, int argc, char *argv[])
{
	static const char us[] = "usage: radscribe report STUDY_UID "
	    "[--format text|dicom|xml|json] [-o file]";
	const char *study = NULL, *out = NULL;
	enum fmt fmt = FMT_TEXT;
	struct conf conf;
	struct db *db;
	struct catalog_latest *r;
	FILE *fp = stdout;
	int rc, w;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			const char *f = argv[++i];

			if (strcmp(f, "text") == 0)
				fmt = FMT_TEXT;
			else if (strcmp(f, "dicom") == 0)
				fmt = FMT_DICOM;
			else if (strcmp(f, "xml") == 0)
				fmt = FMT_XML;
			else if (strcmp(f, "json") == 0)
				fmt = FMT_JSON;
			else
				return cli_usage("%s", us);
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-' || study != NULL)
			return cli_usage("%s", us);
		else
			study = argv[i];
	}
	if (study == NULL)
		return cli_usage("%s", us);
	if (cli_open(conf_path, &conf, &db) == -1)
		return CLI_ERROR;
	if ((rc = catalog_latest_read(db, study, &r)) != 1) {
		if (rc == 0)
			fprintf(stderr, "radscribe: report: no report for "
			    "study %s\n", study);
		else
			fprintf(stderr, "radscribe: report: %s\n", db_errmsg(db));
		cli_close(&conf, db);
		return rc == 0 ? CLI_NOTFOUND : CLI_ERROR;
	}
	cli_close(&conf, db);
	if (fmt == FMT_DICOM && access(r->path, R_OK) == -1) {
		rc = cli_error("report: %s: %s", r->path, strerror(errno));
		catalog_latest_free(r);
		return rc;
	}
	if (out != NULL && (fp = fopen(out, "wb")) == NULL) {
		rc = cli_error("report: %s: %s", out, strerror(errno));
		catalog_latest_free(r);
		return rc;
	}
	switch (fmt) {
	case FMT_TEXT:
		w = fprintf(fp, "Findings:\n%s\n\nImpression:\n%s\n",
		    r->findings, r->impression) < 0 ? -1 : 0;
		break;
	case FMT_DICOM:
		w = copy_file(r->path, fp);
		break;
	case FMT_XML:
		w = put_xml(r, fp);
		break;
	default:
		w = put_json(r, fp);
		break;
	}
	if (fflush(fp) == EOF)
		w = -1;
	rc = w == 0 ? CLI_OK : cli_error("report: cannot write %s: %s",
	    out != NULL ? out : "standard output", strerror(errno));
	if (out != NULL && fclose(fp) == EOF && rc == CLI_OK)
		rc = cli_error("report: %s: %s", out, strerror(errno));
	catalog_latest_free(r);
	return rc;
}
