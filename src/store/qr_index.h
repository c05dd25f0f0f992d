/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_index - fills the Query/Retrieve index (table qr_index) from the
 * headers of the SRs radscribed wrote, and, with query_images = yes, of
 * the instances it received.  The worker calls qr_index_report inside the
 * transaction that records a report; association threads call
 * qr_index_instance after a C-STORE committed; start-up recovery calls
 * qr_index_missing.  Reads files through the DICOM bridge.
 */
#ifndef RS_QR_INDEX_H
#define RS_QR_INDEX_H

#include "store/db.h"

/*
 * qr_index_report - index the report recorded in table reports whose SR
 * is at path, replacing its row if it has one.  Runs in the caller's
 * transaction, if any.  0 when indexed; 1 when the file or its report row
 * cannot be used (logged: the report stays out of the index until the
 * next start); -1 on a database error (see db_errmsg).
 */
int	qr_index_report(struct db *db, const char *path);

/*
 * qr_index_instance - index the received instance with that SOP Instance
 * UID (table instances), replacing its row if it has one; never one that
 * has the UID of a report.  Return values as qr_index_report.
 */
int	qr_index_instance(struct db *db, const char *sop_instance_uid);

/*
 * qr_index_missing - index every report that has no row, and if images is
 * set every received instance that has none, each in its own transaction.
 * The number indexed, or -1 on a database error.
 */
int	qr_index_missing(struct db *db, int images);

#endif
