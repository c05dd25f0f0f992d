/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_schema - the attributes the Query/Retrieve index keeps and matches:
 * tag, column of table qr_index (sql/0003_qr.sql), level and how a value
 * matches.  One static table shared by qr_index (what is stored) and
 * qr_query (what is matched and returned).  Immutable; any thread.
 */
#ifndef RS_QR_SCHEMA_H
#define RS_QR_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "dicom/qr.h"

/* How a request value matches (PS3.4 C.2.2.2). */
enum qr_kind {
	QR_TEXT,	/* single value, or wildcard * and ? (CS, SH, LO...) */
	QR_PN,		/* as QR_TEXT, without regard to ASCII case */
	QR_UI,		/* single value or list of UIDs */
	QR_DA,		/* single date or range */
	QR_TM,		/* single time or range */
	QR_IS,		/* single integer */
	QR_COUNT,	/* computed at its level, returned only */
	QR_INSTUDY	/* computed list of the study's values of column
			   (ModalitiesInStudy); matches if one value does */
};

struct qr_attr {
	uint32_t		 tag;
	const char		*column;	/* qr_index column */
	enum dcm_qr_level	 level;
	enum qr_kind		 kind;
	const char		*expr;		/* QR_COUNT: the aggregate */
};

extern const struct qr_attr qr_schema_attrs[];
extern const size_t qr_schema_nattrs;

/* qr_schema_find - the entry for tag, or NULL when it is not kept. */
const struct qr_attr *qr_schema_find(uint32_t tag);
/* qr_schema_stored - 1 when the attribute is a column read from the file. */
int	qr_schema_stored(const struct qr_attr *a);

#endif
