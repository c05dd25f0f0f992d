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
#include "log.h"
}
#include "dicom/scu.h"

#define PCID_ECHO	1

static int
fail(dcm_scu_result *res, dcm_scu_rc rc, const char *what, const char *text)
{
	res->rc = rc;
	snprintf(res->detail, sizeof(res->detail), "%s%s", what, text);
	return -1;
}

/* rejected - A-ASSOCIATE-RJ into res, on one line */
static int
rejected(T_ASC_Parameters *params, dcm_scu_result *res)
{
	T_ASC_RejectParameters rj;
	OFString text;
	std::string s;

	if (ASC_getRejectParameters(params, &rj).bad())
		return fail(res, DCM_SCU_REJECTED_TRANSIENT,
		    "association rejected", "");
	ASC_printRejectParameters(text, &rj);
	s = text.c_str();
	for (size_t i = 0; i < s.size(); i++)
		if (s[i] == '\n')
			s[i] = ',';
	while (!s.empty() && (s.back() == ',' || s.back() == ' '))
		s.pop_back();
	return fail(res, rj.result == ASC_RESULT_REJECTEDPERMANENT ?
	    DCM_SCU_REJECTED_PERMANENT : DCM_SCU_REJECTED_TRANSIENT,
	    "association rejected: ", s.c_str());
}

/* echo - associate, C-ECHO, release; 0 with a status */
static int
echo(const dcm_scu_peer *peer, dcm_scu_result *res)
{
	const char *ts[1] = { UID_LittleEndianImplicitTransferSyntax };
	T_ASC_Network *net = NULL;
	T_ASC_Parameters *params = NULL;
	T_ASC_Association *as = NULL;
	DcmDataset *detail = NULL;
	DIC_US status = 0;
	char addr[300];
	int rc = -1;
	OFCondition c;

	snprintf(addr, sizeof(addr), "%s:%d", peer->host, peer->port);
	dcmConnectionTimeout.set(peer->acse_timeout);
	c = ASC_initializeNetwork(NET_REQUESTOR, 0, peer->acse_timeout, &net);
	if (c.bad())
		return fail(res, DCM_SCU_INTERNAL, "ASC_initializeNetwork: ",
		    c.text());
	c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
	if (c.good())
		c = ASC_setAPTitles(params, peer->calling_ae, peer->called_ae,
		    NULL);
	if (c.good())
		c = ASC_setPresentationAddresses(params,
		    OFStandard::getHostName().c_str(), addr);
	if (c.good())
		c = ASC_addPresentationContext(params, PCID_ECHO,
		    UID_VerificationSOPClass, ts, 1);
	if (c.bad()) {
		fail(res, DCM_SCU_INTERNAL, "association parameters: ",
		    c.text());
		goto out;
	}
	c = ASC_requestAssociation(net, params, &as);
	if (as == NULL) {
		fail(res, DCM_SCU_INTERNAL, "ASC_requestAssociation: ",
		    c.text());
		goto out;
	}
	params = NULL;		/* as owns them now */
	if (c.bad()) {
		if (c == DUL_ASSOCIATIONREJECTED)
			rejected(as->params, res);
		else if (c == DUL_PEERABORTEDASSOCIATION)
			fail(res, DCM_SCU_ABORTED, "association aborted by "
			    "the peer during negotiation", "");
		else
			fail(res, DCM_SCU_NETWORK, "cannot associate: ",
			    c.text());
		goto out;
	}
	if (ASC_countAcceptedPresentationContexts(as->params) == 0) {
		fail(res, DCM_SCU_NO_CONTEXT, "Verification SOP Class not "
		    "accepted", "");
		if (ASC_releaseAssociation(as).bad())
			ASC_abortAssociation(as);
		goto out;
	}
	c = DIMSE_echoUser(as, as->nextMsgID++, DIMSE_NONBLOCKING,
	    peer->dimse_timeout, &status, &detail);
	delete detail;
	if (c.bad()) {
		if (c == DUL_PEERABORTEDASSOCIATION)
			fail(res, DCM_SCU_ABORTED, "association aborted by "
			    "the peer before the response", "");
		else
			fail(res, DCM_SCU_NETWORK, "C-ECHO failed: ", c.text());
		ASC_dropAssociation(as);
		goto out;
	}
	res->rc = DCM_SCU_STATUS;
	res->status = status;
	rc = 0;
	if (ASC_releaseAssociation(as).bad())
		ASC_abortAssociation(as);
out:
	if (as != NULL)
		ASC_destroyAssociation(&as);
	if (params != NULL)
		ASC_destroyAssociationParameters(&params);
	if (net != NULL)
		ASC_dropNetwork(&net);
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
			return fail(res, DCM_SCU_INTERNAL, "AE title empty or "
			    "longer than 16 characters", "");
		return echo(peer, res);
	} catch (...) {
		log_err("dcm_scu_echo: unexpected C++ exception");
		return fail(res, DCM_SCU_INTERNAL, "unexpected C++ exception",
		    "");
	}
}
