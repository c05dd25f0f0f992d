/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_index - fills the Query/Retrieve index (table qr_index): one row
 * per report radscribed wrote and, with query_images = yes, per instance
 * it received, from the values the bridge took from the data set in hand
 * (struct dcm_qr_attrs).  The worker calls qr_index_put_report in the
 * transaction that records a report; association threads call
 * qr_index_put_instance (through receive.c) in the transaction that
 * indexes an instance; start-up recovery calls qr_index_missing, the
 * only caller that reads files.  Each caller passes its own connection.
 */
#ifndef RS_QR_INDEX_H
#define RS_QR_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "dicom/qr.h"
#include "store/db.h"

/*
 * qr_index_attrs_init - set a (OUT) to ask for what the index keeps: the
 * tags of its attribute columns and the transfer syntax, every value
 * NULL.  Hand it to the bridge (dcm_scp_params.qr_attrs, sr_request.qr).
 */
void	qr_index_attrs_init(struct dcm_qr_attrs *a /* OUT */);

/*
 * qr_index_put_report - the row of report_id (table reports), whose SR is
 * at path, from a (as filled by sr_write), replacing its row if it has
 * one.  Runs in the caller's transaction, if any; a, path borrowed.  0
 * when indexed; 1 when a lacks a value the index needs (logged: the
 * report stays out of the index until the next start); -1 on a database
 * error (see db_errmsg).
 */
int	qr_index_put_report(struct db *db, int64_t report_id, const char *path,
	    const struct dcm_qr_attrs *a);

/*
 * qr_index_put_instance - the row of instance_id (table instances), held
 * at path, from a (as the C-STORE handler filled it), replacing its row
 * if it has one; never one that has the SOP Instance UID of a report
 * (1, logged).  Otherwise as qr_index_put_report.
 */
int	qr_index_put_instance(struct db *db, int64_t instance_id,
	    const char *path, const struct dcm_qr_attrs *a);

/*
 * qr_index_read_fn - what qr_index_missing reads files with: the DICOM
 * bridge's dcm_attrs_read (dicom/qr.h), or a test's.
 */
typedef int (*qr_index_read_fn)(const char *path, const uint32_t *tags,
	    size_t ntags, char **values /* OUT */, char *err, size_t errsz);

/*
 * qr_index_missing - start-up recovery: index every report that has no
 * row, and if images is set every received instance that has none, each
 * in its own transaction, reading its file with reader (a file that
 * cannot be read is logged and skipped).  The number indexed, or -1 on a
 * database error.
 */
int	qr_index_missing(struct db *db, int images, qr_index_read_fn reader);

/*
 * qr_index_purge_study - delete the rows of study_id's reports and
 * instances.  In the caller's transaction, before reports_purge_study
 * and instances_purge_study.  0, or -1 (see db_errmsg).
 */
int	qr_index_purge_study(struct db *db, int64_t study_id);

#endif
