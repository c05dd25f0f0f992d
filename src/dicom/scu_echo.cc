/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scu_echo - the Verification SCU: one association, one C-ECHO, release.
 * Used by `radscribe echo`; knows nothing of SQLite or the config.  Every
 * way it can end becomes a dcm_scu_rc plus text (scu.h).
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/dul.h"

#include <stdio.h>
#include <string.h>

#include <string>

extern "C" {
#include "core/log.h"
}
#include "dicom/scu.h"
#include "dicom/scu_priv.h"

static int
fail(dcm_scu_result *res, dcm_scu_rc rc, const char *fmt, const char *arg)
{
	res->rc = rc;
	snprintf(res->detail, sizeof(res->detail), fmt, arg);
	return -1;
}

#define PCID_ECHO	1

static OFCondition
echo_context(T_ASC_Parameters *params, void *arg)
{
	const char *ts[1] = { UID_LittleEndianImplicitTransferSyntax };

	(void)arg;
	return ASC_addPresentationContext(params, PCID_ECHO,
	    UID_VerificationSOPClass, ts, 1);
}

/* echo - associate, C-ECHO, release; 0 with a status */
static int
echo(const dcm_scu_peer *peer, dcm_scu_result *res)
{
	T_ASC_Network *net;
	T_ASC_Association *as;
	DcmDataset *detail = NULL;
	DIC_US status = 0;
	int rc = -1;
	OFCondition c;

	if (scu_associate(peer, echo_context, NULL, &net, &as, res) == -1)
		return -1;
	if (ASC_countAcceptedPresentationContexts(as->params) == 0) {
		fail(res, DCM_SCU_NO_CONTEXT, "%s", "Verification SOP Class "
		    "not accepted");
		if (ASC_releaseAssociation(as).bad())
			ASC_abortAssociation(as);
		goto out;
	}
	c = DIMSE_echoUser(as, as->nextMsgID++, DIMSE_NONBLOCKING,
	    peer->dimse_timeout, &status, &detail);
	delete detail;
	if (c.bad()) {
		if (c == DUL_PEERABORTEDASSOCIATION)
			fail(res, DCM_SCU_ABORTED, "%s", "association aborted "
			    "by the peer before the response");
		else
			fail(res, DCM_SCU_NETWORK, "C-ECHO failed: %s", c.text());
		ASC_dropAssociation(as);
		goto out;
	}
	res->rc = DCM_SCU_STATUS;
	res->status = status;
	rc = 0;
	if (ASC_releaseAssociation(as).bad())
		ASC_abortAssociation(as);
out:
	scu_end(&net, &as);
	return rc;
}

extern "C" int
dcm_scu_echo(const struct dcm_scu_peer *peer, struct dcm_scu_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rc = DCM_SCU_INTERNAL;
	try {
		if (strlen(peer->called_ae) > 16 ||
		    strlen(peer->calling_ae) > 16 ||
		    peer->called_ae[0] == '\0' || peer->calling_ae[0] == '\0')
			return fail(res, DCM_SCU_INTERNAL, "%s", "AE title empty "
			    "or longer than 16 characters");
		return echo(peer, res);
	} catch (...) {
		log_err("dcm_scu_echo: unexpected C++ exception");
		return fail(res, DCM_SCU_INTERNAL, "%s",
		    "unexpected C++ exception");
	}
}
