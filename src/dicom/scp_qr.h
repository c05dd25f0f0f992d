/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scp_qr - the Query/Retrieve services of the associations scp_server.cc
 * serves, for scp_server.cc only (C++; never included from C).
 */
#ifndef RS_SCP_QR_H
#define RS_SCP_QR_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"

#include "dicom/qr.h"

/* What a Query/Retrieve operation needs of its association; all borrowed. */
struct qr_assoc {
	const dcm_qr_ops	*ops;
	void			*ctx;		/* from assoc_open */
	const char		*ae_title;	/* ours */
	const char		*calling_ae;	/* the requester's */
	int			 acse_timeout;
	int			 dimse_timeout;
	T_ASC_Association	*as;
};

/* qr_sop_class - uid is a Query/Retrieve SOP class served here. */
bool	qr_sop_class(const char *uid);

/*
 * qr_serve - one C-FIND, C-MOVE or C-GET request (its identifier still to
 * be read) on the presentation context pid, through to its final
 * response.  0, or -1 when the association must be aborted.
 */
int	qr_serve(const qr_assoc &qa, T_ASC_PresentationContextID pid,
	    T_DIMSE_Message &msg);

#endif
