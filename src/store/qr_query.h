/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_query - C-FIND matching and C-MOVE/C-GET selection over the table
 * qr_index: a struct dcm_qr_query from the DICOM bridge becomes one SQL
 * statement (PS3.4 C.2.2.2 matching), run on the caller's connection.
 * Called on association threads, each with its own connection; reads
 * only, no transaction is held after a call returns.
 */
#ifndef RS_QR_QUERY_H
#define RS_QR_QUERY_H

#include <stddef.h>

#include "store/db.h"
#include "dicom/qr.h"

/*
 * qr_query_find - the matches of q at its level, among the reports and,
 * if images is set, the received instances, into *m (OUT; its v and
 * strings malloc'd, see struct dcm_qr_matches; free with
 * qr_query_matches_free or let the bridge free them).  DCM_QR_OK,
 * DCM_QR_CANNOT_PROCESS for a value that is not valid for its VR (e.g. a
 * malformed date range), DCM_QR_NO_RESOURCES on a database error; why
 * says which.  On failure *m holds nothing.  At most max matches (0: no
 * limit) are returned; m->truncated says there were more.
 */
enum dcm_qr_rc qr_query_find(struct db *db, const struct dcm_qr_query *q,
	    int images, size_t max, struct dcm_qr_matches *m /* OUT */,
	    char *why, size_t whysz);

/*
 * qr_query_retrieve - the instances the unique keys of q select (the
 * other keys are ignored, PS3.4 C.4.2.2.1), oldest first: *files (OUT)
 * malloc'd, *n of them; free with qr_query_files_free.  Return values as
 * qr_query_find, plus DCM_QR_BAD_IDENTIFIER when q has no unique key.
 */
enum dcm_qr_rc qr_query_retrieve(struct db *db, const struct dcm_qr_query *q,
	    int images, struct dcm_qr_file **files /* OUT */, size_t *n /* OUT */,
	    char *why, size_t whysz);

void	qr_query_matches_free(struct dcm_qr_matches *m, size_t nkeys);
void	qr_query_files_free(struct dcm_qr_file *files, size_t n);

#endif
