/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli_report - `radscribe report STUDY_UID`: the study's latest report as
 * text, as the DICOM SR file itself, as XML (libxml2) or as JSON
 * (json-c).  Reads only; writes to stdout or to the file named by -o.
 */
#include "store/db_sql.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libxml/tree.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "core/xmem.h"

enum fmt { FMT_TEXT, FMT_DICOM, FMT_XML, FMT_JSON };

/* The latest report: a redraft's row comes after the one it replaces. */
static const char rep_sql[] =
    "SELECT r.sop_instance_uid, r.series_uid, r.sop_class_uid, r.path,"
    " r.size, r.created_at, r.model, r.findings, r.impression, s.study_uid,"
    " (SELECT p.sop_instance_uid FROM reports p WHERE p.id = r.predecessor_id)"
    " FROM reports r JOIN studies s ON s.id = r.study_id"
    " WHERE s.study_uid = ?1 ORDER BY r.created_at DESC, r.id DESC LIMIT 1";
static const char src_sql[] =
    "SELECT i.sop_instance_uid, i.sop_class_uid, i.series_uid"
    " FROM instances i JOIN studies s ON s.id = i.study_id"
    " WHERE s.study_uid = ?1 ORDER BY i.id";

/* The report's fields, copied out of the statement. */
struct rep {
	char	*f[11];		/* the columns of rep_sql, in order */
	int64_t	 size, created;
	char	**src;		/* 3 strings per source instance */
	size_t	 nsrc;
};

enum { R_SOP, R_SERIES, R_CLASS, R_PATH, R_SIZE, R_CREATED, R_MODEL,
    R_FINDINGS, R_IMPRESSION, R_STUDY, R_PREDECESSOR };

static void
rep_fini(struct rep *r)
{
	for (int i = 0; i < 11; i++)
		free(r->f[i]);
	for (size_t i = 0; i < r->nsrc * 3; i++)
		free(r->src[i]);
	free(r->src);
}

static char *
dupcol(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? xstrdup(s) : NULL;
}

/* load - 0, 1 when the study has no report, -1 on a database error */
static int
load(struct db *db, const char *study, struct rep *r)
{
	sqlite3_stmt *st;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((st = db_prepare(db, rep_sql)) == NULL ||
	    sqlite3_bind_text(st, 1, study, -1, SQLITE_STATIC) != SQLITE_OK)
		return -1;
	if ((rc = db_step(db, st)) == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return -1;
	for (int i = 0; i < 11; i++)
		r->f[i] = dupcol(st, i);
	r->size = sqlite3_column_int64(st, R_SIZE);
	r->created = sqlite3_column_int64(st, R_CREATED);
	sqlite3_reset(st);
	if ((st = db_prepare(db, src_sql)) == NULL ||
	    sqlite3_bind_text(st, 1, study, -1, SQLITE_STATIC) != SQLITE_OK)
		return -1;
	while ((rc = db_step(db, st)) == SQLITE_ROW) {
		r->src = xrealloc(r->src, (r->nsrc + 1) * 3 * sizeof(*r->src));
		for (int i = 0; i < 3; i++)
			r->src[r->nsrc * 3 + i] = dupcol(st, i);
		r->nsrc++;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

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
put_xml(const struct rep *r, FILE *fp)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root, n, srcs;
	xmlChar *mem = NULL;
	char b[32];
	int len = 0, rc;

	root = xmlNewNode(NULL, BAD_CAST "report");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, BAD_CAST "sop-instance-uid", BAD_CAST r->f[R_SOP]);
	xmlNewTextChild(root, NULL, BAD_CAST "study-instance-uid",
	    BAD_CAST r->f[R_STUDY]);
	xmlNewTextChild(root, NULL, BAD_CAST "series-instance-uid",
	    BAD_CAST r->f[R_SERIES]);
	xmlNewTextChild(root, NULL, BAD_CAST "sop-class-uid",
	    BAD_CAST r->f[R_CLASS]);
	xmlNewTextChild(root, NULL, BAD_CAST "created",
	    BAD_CAST cli_time(r->created, b, sizeof(b)));
	xmlNewTextChild(root, NULL, BAD_CAST "model", BAD_CAST r->f[R_MODEL]);
	if (r->f[R_PREDECESSOR] != NULL)
		xmlNewTextChild(root, NULL, BAD_CAST "predecessor",
		    BAD_CAST r->f[R_PREDECESSOR]);
	xmlNewTextChild(root, NULL, BAD_CAST "findings",
	    BAD_CAST r->f[R_FINDINGS]);
	xmlNewTextChild(root, NULL, BAD_CAST "impression",
	    BAD_CAST r->f[R_IMPRESSION]);
	srcs = xmlNewChild(root, NULL, BAD_CAST "sources", NULL);
	for (size_t i = 0; i < r->nsrc; i++) {
		n = xmlNewChild(srcs, NULL, BAD_CAST "instance", NULL);
		xmlNewProp(n, BAD_CAST "sop-instance-uid", BAD_CAST r->src[i * 3]);
		xmlNewProp(n, BAD_CAST "sop-class-uid", BAD_CAST r->src[i * 3 + 1]);
		xmlNewProp(n, BAD_CAST "series-instance-uid",
		    BAD_CAST r->src[i * 3 + 2]);
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	rc = mem != NULL && fwrite(mem, 1, (size_t)len, fp) == (size_t)len ?
	    0 : -1;
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}

static int
put_json(const struct rep *r, FILE *fp)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "sop_instance_uid", cli_json_str(r->f[R_SOP]));
	json_object_object_add(o, "study_instance_uid", cli_json_str(r->f[R_STUDY]));
	json_object_object_add(o, "series_instance_uid", cli_json_str(r->f[R_SERIES]));
	json_object_object_add(o, "sop_class_uid", cli_json_str(r->f[R_CLASS]));
	json_object_object_add(o, "created_at_ms", json_object_new_int64(r->created));
	json_object_object_add(o, "model", cli_json_str(r->f[R_MODEL]));
	json_object_object_add(o, "predecessor", cli_json_str(r->f[R_PREDECESSOR]));
	json_object_object_add(o, "findings", cli_json_str(r->f[R_FINDINGS]));
	json_object_object_add(o, "impression", cli_json_str(r->f[R_IMPRESSION]));
	json_object_object_add(o, "path", cli_json_str(r->f[R_PATH]));
	json_object_object_add(o, "size", json_object_new_int64(r->size));
	for (size_t i = 0; i < r->nsrc; i++) {
		json_object *s = json_object_new_object();

		json_object_object_add(s, "sop_instance_uid", cli_json_str(r->src[i * 3]));
		json_object_object_add(s, "sop_class_uid", cli_json_str(r->src[i * 3 + 1]));
		json_object_object_add(s, "series_instance_uid",
		    cli_json_str(r->src[i * 3 + 2]));
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
	struct rep r;
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
	if ((rc = load(db, study, &r)) != 0) {
		if (rc == 1)
			fprintf(stderr, "radscribe: report: no report for "
			    "study %s\n", study);
		else
			fprintf(stderr, "radscribe: report: %s\n", db_errmsg(db));
		rep_fini(&r);
		cli_close(&conf, db);
		return rc == 1 ? CLI_NOTFOUND : CLI_ERROR;
	}
	cli_close(&conf, db);
	if (fmt == FMT_DICOM && access(r.f[R_PATH], R_OK) == -1) {
		rc = cli_error("report: %s: %s", r.f[R_PATH], strerror(errno));
		rep_fini(&r);
		return rc;
	}
	if (out != NULL && (fp = fopen(out, "wb")) == NULL) {
		rc = cli_error("report: %s: %s", out, strerror(errno));
		rep_fini(&r);
		return rc;
	}
	switch (fmt) {
	case FMT_TEXT:
		w = fprintf(fp, "Findings:\n%s\n\nImpression:\n%s\n",
		    r.f[R_FINDINGS], r.f[R_IMPRESSION]) < 0 ? -1 : 0;
		break;
	case FMT_DICOM:
		w = copy_file(r.f[R_PATH], fp);
		break;
	case FMT_XML:
		w = put_xml(&r, fp);
		break;
	default:
		w = put_json(&r, fp);
		break;
	}
	if (fflush(fp) == EOF)
		w = -1;
	rc = w == 0 ? CLI_OK : cli_error("report: cannot write %s: %s",
	    out != NULL ? out : "standard output", strerror(errno));
	if (out != NULL && fclose(fp) == EOF && rc == CLI_OK)
		rc = cli_error("report: %s: %s", out, strerror(errno));
	rep_fini(&r);
	return rc;
}
