/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_find - libFuzzer harness for the C-FIND path (and the identifier
 * half of C-MOVE and C-GET): the input is an identifier as it arrives on
 * a Query/Retrieve context, in implicit VR little endian and again in
 * explicit VR little endian (the two syntaxes those contexts take).
 * dsscan_buf first, as the guard does; then DCMTK parses it as DIMSE would; then the
 * SCP's own conversion, parse() of scp_qr.cc (compiled into this file to
 * reach it: it is static; nothing in it is changed), in both information
 * models, for C-FIND and for a retrieval; then qr_query_find or
 * qr_query_retrieve over a small SQLite database made once, with the
 * project's migrations and a few rows; then answer() builds the response
 * identifier of each match, in the requester's character set.
 *
 * Oracles: every statement SQLite runs is made only of the words the
 * query builder knows (SQL keywords, qr_index columns, bound "?"), so no
 * value was spliced into the text; SQLite reports no misuse (its error
 * log); a query fails only on a value not valid for its VR (0xC000) or on
 * one of SQLite's own limits, which is counted and printed at exit; and
 * DCMTK never nests deeper than dsscan allowed.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdatset.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/oflog/oflog.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <string>
#include <vector>

#include <sqlite3.h>

/* The SCP's identifier handling, whole: parse() and answer() are static. */
#include "../../src/dicom/scp_qr.cc"

extern "C" {
#include "core/log.h"
#include "store/db_sql.h"
#include "store/qr_query.h"
#include "store/qr_schema.h"
}
#include "dicom/dsscan.h"
#include "fuzz_depth.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * scp_qr.cc sends C-MOVE and C-GET sub-operations through the Storage
 * SCU; nothing here gets that far.
 */
extern "C" {
struct dcm_scu_assoc *
dcm_scu_open(const struct dcm_scu_peer *, const struct dcm_scu_offer *,
    size_t, struct dcm_scu_result *)
{
	abort();
}

int
dcm_scu_send(struct dcm_scu_assoc *, const char *, const char *, unsigned,
    struct dcm_scu_result *)
{
	abort();
}

void
dcm_scu_close(struct dcm_scu_assoc *a)
{
	if (a != NULL)
		abort();
}

enum dcm_status_class
dcm_status_class(unsigned)
{
	abort();
}

const char *
dcm_status_text(unsigned)
{
	abort();
}

const char *
dcm_scu_rc_name(enum dcm_scu_rc)
{
	abort();
}
}

namespace {

struct db *g_db;
std::set<std::string> g_words;		/* what a statement may say */
unsigned long g_limits;			/* queries stopped by SQLite's limits */
std::string g_limit_example;

[[noreturn]] void
bug(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_find: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* SQLite's error log: misuse or worse is a bug in how we call it. */
void
sqlite_log(void *, int code, const char *msg)
{
	switch (code & 0xff) {
	case SQLITE_MISUSE:
	case SQLITE_CORRUPT:
	case SQLITE_INTERNAL:
	case SQLITE_RANGE:
		bug("SQLite error %d: %s", code, msg);
	default:
		break;
	}
}

size_t g_max;				/* max_query_results of this query */

/*
 * check_sql - the text of a statement qr_query built: words it knows,
 * numbers 0 and 1, max_query_results + 1 after LIMIT, operators, "?" and
 * the one literal '\'.  A value spliced into the text would show up as
 * anything else.
 */
void
check_sql(const char *sql)
{
	const char *p = sql;
	std::string last;

	while (*p != '\0') {
		if (isalpha((unsigned char)*p) || *p == '_') {
			const char *b = p;

			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			last.assign(b, (size_t)(p - b));
			if (g_words.count(last) == 0)
				bug("unexpected word \"%s\" in SQL: %s",
				    last.c_str(), sql);
		} else if (isdigit((unsigned char)*p)) {
			const char *b = p;
			char limit[32];

			while (isalnum((unsigned char)*p))
				p++;
			snprintf(limit, sizeof(limit), "%zu", g_max + 1);
			std::string num(b, (size_t)(p - b));
			if (num != "0" && num != "1" && !(last == "LIMIT" &&
			    g_max > 0 && num == limit))
				bug("unexpected number %s in SQL: %s",
				    num.c_str(), sql);
		} else if (strncmp(p, "'\\'", 3) == 0) {
			p += 3;
		} else if (strchr(" (),.*?=<>", *p) != NULL) {
			if (*p != ' ')
				last.clear();
			p++;
		} else
			bug("unexpected character 0x%02x in SQL: %s",
			    (unsigned char)*p, sql);
	}
}

int
sql_trace(unsigned type, void *, void *stmt, void *x)
{
	if (type == SQLITE_TRACE_STMT) {
		const char *sql = static_cast<const char *>(x);

		/* a trigger's comment, never ours */
		if (strncmp(sql, "--", 2) == 0)
			return 0;
		check_sql(sql);
		if (sqlite3_bind_parameter_count(static_cast<sqlite3_stmt *>(stmt)) >
		    sqlite3_limit(db_sqlite(g_db), SQLITE_LIMIT_VARIABLE_NUMBER, -1))
			bug("more parameters than SQLite allows");
	}
	return 0;
}

void
words(const char *s)
{
	while (*s != '\0') {
		if (isalpha((unsigned char)*s) || *s == '_') {
			const char *b = s;

			while (isalnum((unsigned char)*s) || *s == '_')
				s++;
			g_words.insert(std::string(b, (size_t)(s - b)));
		} else
			s++;
	}
}

/* SQLite refused a statement for one of its limits (a huge identifier). */
bool
sqlite_limit(const char *why)
{
	static const char *const limits[] = {
		"Expression tree is too large",
		"too many SQL variables",
		"too many terms",
		"parser stack overflow",
		"string or blob too big",
		"LIKE or GLOB pattern too complex",
		"statement too long",
		NULL
	};

	for (int i = 0; limits[i] != NULL; i++)
		if (strstr(why, limits[i]) != NULL) {
			if (g_limits++ == 0)
				g_limit_example = why;
			return true;
		}
	return false;
}

void
report(void)
{
	if (g_limits > 0)
		fprintf(stderr, "fuzz_find: %lu queries stopped by SQLite's "
		    "limits (0xA700 to the requester), e.g. \"%s\"\n",
		    g_limits, g_limit_example.c_str());
}

/* find - one C-FIND as find_cb serves it, through to the responses. */
void
find(const DcmDataset &ids, dcm_qr_model model, int images, size_t max)
{
	DcmDataset copy(ids);
	request r;
	std::string why;
	dcm_qr_matches m;
	char buf[256] = "";
	Uint16 st;
	dcm_qr_rc rc;

	if ((st = parse(&copy, model, false, r, why)) != STATUS_Success) {
		if (st != ST_NOT_MATCH && st != ST_CANNOT_PROCESS)
			bug("parse: status 0x%04x", st);
		if (why.empty())
			bug("parse: status 0x%04x without a reason", st);
		delete status_detail(why);
		return;
	}
	if (r.q.nkeys == 0 || r.q.keys != r.keys.data())
		bug("parse: a query without its keys");
	g_max = max;
	rc = qr_query_find(g_db, &r.q, images, max, &m, buf, sizeof(buf));
	if (rc == DCM_QR_NO_RESOURCES && !sqlite_limit(buf))
		bug("qr_query_find: %s", buf);
	if (rc != DCM_QR_OK) {
		if (rc != DCM_QR_CANNOT_PROCESS && rc != DCM_QR_NO_RESOURCES)
			bug("qr_query_find: rc %d", (int)rc);
		if (m.n != 0 || m.v != NULL)
			bug("qr_query_find failed but left matches");
		delete status_detail(buf);
		return;
	}
	if (max > 0 && (m.n > max || (m.truncated && m.n != max)))
		bug("qr_query_find: %zu matches, max_query_results %zu%s", m.n,
		    max, m.truncated ? ", truncated" : "");
	for (size_t i = 0; i < m.n && i < 8; i++)
		delete answer(r, m.v + i * r.keys.size(), "RADSCRIBE");
	qr_query_matches_free(&m, r.q.nkeys);
}

/* retrieve - the identifier of a C-MOVE or C-GET, to its file list. */
void
retrieve(const DcmDataset &ids, dcm_qr_model model, int images)
{
	DcmDataset copy(ids);
	request r;
	std::string why;
	dcm_qr_file *files = NULL;
	size_t n = 0;
	char buf[256] = "";
	dcm_qr_rc rc;

	if (parse(&copy, model, true, r, why) != STATUS_Success)
		return;
	g_max = 0;
	rc = qr_query_retrieve(g_db, &r.q, images, &files, &n, buf, sizeof(buf));
	if (rc == DCM_QR_NO_RESOURCES && !sqlite_limit(buf))
		bug("qr_query_retrieve: %s", buf);
	if (rc == DCM_QR_OK)
		for (size_t i = 0; i < n; i++)
			if (files[i].path == NULL || files[i].path[0] != '/')
				bug("qr_query_retrieve: a file without a path");
	if (rc != DCM_QR_OK && (files != NULL || n != 0))
		bug("qr_query_retrieve failed but left files");
	qr_query_files_free(files, n);
}

/* The rows: test_qr.c's, and names and dates to match and convert. */
const char rows[] =
    "INSERT INTO studies (id, study_uid, first_received_at, last_received_at)"
    " VALUES (1, '1.1', 0, 0), (2, '1.2', 0, 0), (3, '1.3', 0, 0);"
    "INSERT INTO reports (id, study_id, sop_instance_uid, series_uid,"
    " sop_class_uid, path, size, created_at, model, findings, impression)"
    " VALUES (1, 1, '9.1', '8.1', '1.2.840.10008.5.1.4.1.1.88.11', '/r/9.1.dcm', 1, 0, 'm', '', ''),"
    " (2, 1, '9.2', '8.2', '1.2.840.10008.5.1.4.1.1.88.11', '/r/9.2.dcm', 1, 0, 'm', '', ''),"
    " (3, 2, '9.3', '8.3', '1.2.840.10008.5.1.4.1.1.88.11', '/r/9.3.dcm', 1, 0, 'm', '', ''),"
    " (4, 3, '9.4', '8.4', '1.2.840.10008.5.1.4.1.1.88.22', '/r/9.4.dcm', 1, 0, 'm', '', '');"
    "INSERT INTO qr_index (report_id, path, transfer_syntax, PatientName,"
    " PatientID, StudyInstanceUID, StudyDate, StudyTime, AccessionNumber,"
    " SeriesInstanceUID, Modality, SeriesNumber, SOPInstanceUID, SOPClassUID)"
    " VALUES (1, '/r/9.1.dcm', '1.2.840.10008.1.2.1', 'DOE^JANE', 'P1', '1.1',"
    "  '20240115', '103012', 'A[1]X', '8.1', 'SR', '9901', '9.1', '1.2.840.10008.5.1.4.1.1.88.11'),"
    " (2, '/r/9.2.dcm', '1.2.840.10008.1.2.1', 'DOE^JANE', 'P1', '1.1',"
    "  '20240115', '103012', 'A[1]X', '8.2', 'SR', '9901', '9.2', '1.2.840.10008.5.1.4.1.1.88.11'),"
    " (3, '/r/9.3.dcm', '1.2.840.10008.1.2.1', 'Roe^Richard', 'P2', '1.2',"
    "  '20250301', '115959.5', 'A1X', '8.3', 'SR', '12', '9.3', '1.2.840.10008.5.1.4.1.1.88.11');"
    "INSERT INTO qr_index (report_id, path, transfer_syntax, PatientName,"
    " PatientID, IssuerOfPatientID, PatientBirthDate, PatientSex,"
    " StudyInstanceUID, StudyDate, StudyTime, AccessionNumber, StudyID,"
    " StudyDescription, ReferringPhysicianName, PatientAge, SeriesInstanceUID,"
    " Modality, SeriesNumber, SeriesDescription, SeriesDate, SeriesTime,"
    " SOPInstanceUID, SOPClassUID, InstanceNumber, ContentDate, ContentTime,"
    " InstanceCreationDate, InstanceCreationTime, CompletionFlag,"
    " VerificationFlag, PreliminaryFlag) VALUES (4, '/r/9.4.dcm',"
    " '1.2.840.10008.1.2.1', 'M\xc3\xbcller^J\xc3\xb6rg=\xe5\xb1\xb1\xe7\x94\xb0^\xe5\xa4\xaa\xe9\x83\x8e',"
    " 'P3', 'ISS', '19600229', 'O', '1.3', '19991231', '235959.999999',"
    " '*?\\', 'S1', 'Th\xc3\xb6rax', 'Dr^Who', '064Y', '8.4', 'SR', '1',"
    " 'Bericht', '20000101', '000000', '9.4', '1.2.840.10008.5.1.4.1.1.88.22',"
    " '3', '20000101', '0930', '20000101', '093000', 'COMPLETE', 'UNVERIFIED',"
    " 'FINAL');"
    /* a received image of study 1.2, seen with query_images only */
    "INSERT INTO instances (id, sop_instance_uid, study_id, series_uid,"
    " sop_class_uid, transfer_syntax, path, size, received_at, calling_ae)"
    " VALUES (1, '7.1', 2, '6.1', '1.2.840.10008.5.1.4.1.1.1.1', '1.2.840.10008.1.2.4.50',"
    " '/o/7.1.dcm', 1, 0, 'M');"
    "INSERT INTO qr_index (instance_id, path, transfer_syntax, PatientName,"
    " PatientID, StudyInstanceUID, StudyDate, SeriesInstanceUID, Modality,"
    " SOPInstanceUID, SOPClassUID) VALUES (1, '/o/7.1.dcm',"
    " '1.2.840.10008.1.2.4.50', 'Roe^Richard', 'P2', '1.2', '20250301', '6.1',"
    " 'DX', '7.1', '1.2.840.10008.5.1.4.1.1.1.1');";

}	/* namespace */

extern "C" int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const keywords[] = {
		"SELECT", "FROM", "WHERE", "AND", "OR", "IN", "GLOB", "upper",
		"CAST", "AS", "INTEGER", "GROUP", "BY", "ORDER", "min", "max",
		"DISTINCT", "group_concat", "count", "IS", "NOT", "NULL",
		"qr_index", "q", "i", "v", "id", "report_id", "path",
		"transfer_syntax", "LIMIT", NULL
	};
	char err[256];

	(void)argc;
	(void)argv;
	log_init("fuzz_find", 1, LOG_LV_CRIT);
	OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
	if (!dcmDataDict.isDictionaryLoaded()) {
		fprintf(stderr, "fuzz_find: no DICOM data dictionary "
		    "(DCMDICTPATH)\n");
		exit(1);
	}
	if (sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL) != SQLITE_OK)
		bug("sqlite3_config");
	if ((g_db = db_open(":memory:", DB_CREATE, err, sizeof(err))) == NULL)
		bug("db_open: %s", err);
	if (sqlite3_exec(db_sqlite(g_db), rows, NULL, NULL, NULL) != SQLITE_OK)
		bug("rows: %s", db_errmsg(g_db));
	for (int i = 0; keywords[i] != NULL; i++)
		g_words.insert(keywords[i]);
	for (size_t i = 0; i < qr_schema_nattrs; i++) {
		words(qr_schema_attrs[i].column);
		if (qr_schema_attrs[i].expr != NULL)
			words(qr_schema_attrs[i].expr);
	}
	sqlite3_trace_v2(db_sqlite(g_db), SQLITE_TRACE_STMT, sql_trace, NULL);
	atexit(report);
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	/* A Query/Retrieve context is implicit or explicit VR little endian
	 * (scp_store.cc); the same bytes in each. */
	static const struct {
		const char		*uid;
		E_TransferSyntax	 xfer;
	} ts[] = {
		{ UID_LittleEndianImplicitTransferSyntax, EXS_LittleEndianImplicit },
		{ UID_LittleEndianExplicitTransferSyntax, EXS_LittleEndianExplicit },
	};

	for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
		DcmInputBufferStream buf;
		DcmDataset ids;
		char why[256];

		/* the guard: the identifier is walked before DCMTK sees it */
		if (dsscan_buf(data, n, ts[k].uid, DSSCAN_MAX_DEPTH, why,
		    sizeof(why)) == -1)
			continue;
		/* DIMSE_receiveDataSetInMemory, in one PDV */
		buf.setBuffer(data, (offile_off_t)n);
		buf.setEos();
		ids.transferInit();
		OFCondition c = ids.read(buf, ts[k].xfer);
		ids.transferEnd();
		if (fuzz_depth(&ids) > DSSCAN_MAX_DEPTH)
			bug("%s: dsscan accepted it, DCMTK nests sequences %d "
			    "deep", ts[k].uid, fuzz_depth(&ids));
		/* DIMSE hands find_cb nothing when the read failed; a data
		 * set cut short in the last PDV (EC_StreamNotifyClient) it
		 * hands on */
		if (c.bad() && c != EC_StreamNotifyClient)
			continue;
		find(ids, DCM_QR_STUDY_ROOT, 0, 0);
		find(ids, DCM_QR_PATIENT_ROOT, 1, 2);
		retrieve(ids, DCM_QR_STUDY_ROOT, 1);
		retrieve(ids, DCM_QR_PATIENT_ROOT, 0);
	}
	return 0;
}
