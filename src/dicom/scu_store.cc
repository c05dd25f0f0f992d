/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scu_store - the Storage SCU on DCMTK's ASC/DIMSE layer: one association
 * per file, one C-STORE, release.  Called from the sender thread.  Every
 * way an exchange can end becomes a dcm_scu_rc plus text; it never decides
 * whether that counts as delivered.  Knows nothing of SQLite.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"

#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

extern "C" {
#include "core/log.h"
}
#include "dicom/bridge_priv.h"
#include "dicom/scu.h"
#include "dicom/scu_priv.h"

/* Presentation context IDs are odd (PS3.8 9.3.2.2). */
#define PCID_OWN	1	/* the file's own transfer syntax */
#define PCID_LE		3	/* Explicit, then Implicit VR Little Endian */

static int
fail(dcm_scu_result *res, dcm_scu_rc rc, const char *fmt, const char *arg)
{
	res->rc = rc;
	snprintf(res->detail, sizeof(res->detail), fmt, arg);
	return -1;
}

/* add_contexts - PCID_OWN with the file's syntax, PCID_LE with the rest. */
static OFCondition
add_contexts(T_ASC_Parameters *params, const char *sop_class, const char *ts)
{
	const char *own[1] = { ts };
	const char *le[2] = {
		UID_LittleEndianExplicitTransferSyntax,
		UID_LittleEndianImplicitTransferSyntax
	};
	OFCondition c;

	/* An uncompressed LE file needs one context, its own syntax first. */
	if (strcmp(ts, le[0]) == 0 || strcmp(ts, le[1]) == 0) {
		if (strcmp(ts, le[1]) == 0) {
			le[0] = UID_LittleEndianImplicitTransferSyntax;
			le[1] = UID_LittleEndianExplicitTransferSyntax;
		}
		return ASC_addPresentationContext(params, PCID_OWN, sop_class,
		    le, 2);
	}
	c = ASC_addPresentationContext(params, PCID_OWN, sop_class, own, 1);
	if (c.good())
		c = ASC_addPresentationContext(params, PCID_LE, sop_class,
		    le, 2);
	return c;
}

/* rejected - A-ASSOCIATE-RJ into res. */
static int
rejected(T_ASC_Parameters *params, dcm_scu_result *res)
{
	T_ASC_RejectParameters rj;
	OFString text;
	std::string s;

	if (ASC_getRejectParameters(params, &rj).bad())
		return fail(res, DCM_SCU_REJECTED_TRANSIENT, "%s",
		    "association rejected (reason unknown)");
	ASC_printRejectParameters(text, &rj);
	/* DCMTK prints three lines: Result, Source, Reason. */
	s = text.c_str();
	for (size_t i = 0; i < s.size(); i++)
		if (s[i] == '\n')
			s[i] = ',';
	while (!s.empty() && (s.back() == ',' || s.back() == ' '))
		s.pop_back();
	return fail(res, rj.result == ASC_RESULT_REJECTEDPERMANENT ?
	    DCM_SCU_REJECTED_PERMANENT : DCM_SCU_REJECTED_TRANSIENT,
	    "association rejected: %s", s.c_str());
}

/*
 * store - the C-STORE on an established association; 0 with a status.
 * orig_ae (NULL: none) and orig_id are the Move Originator fields.
 */
int
scu_associate(const dcm_scu_peer *peer, scu_ctx_fn add, void *arg,
    T_ASC_Network **net, T_ASC_Association **as, dcm_scu_result *res)
{
	T_ASC_Parameters *params = NULL;
	char addr[300];
	OFCondition c;

	*net = NULL;
	*as = NULL;
	snprintf(addr, sizeof(addr), "%s:%d", peer->host, peer->port);
	/* DCMTK reads the connect timeout from a global (dul.h). */
	dcmConnectionTimeout.set(peer->acse_timeout);
	c = ASC_initializeNetwork(NET_REQUESTOR, 0, peer->acse_timeout, net);
	if (c.bad())
		return fail(res, DCM_SCU_INTERNAL, "ASC_initializeNetwork: %s",
		    c.text());
	c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
	if (c.good())
		c = ASC_setAPTitles(params, peer->calling_ae, peer->called_ae,
		    NULL);
	if (c.good())
		c = ASC_setPresentationAddresses(params,
		    OFStandard::getHostName().c_str(), addr);
	if (c.good())
		c = add(params, arg);
	if (c.bad()) {
		fail(res, DCM_SCU_INTERNAL, "association parameters: %s",
		    c.text());
		goto fail;
	}
	c = ASC_requestAssociation(*net, params, as);
	if (*as == NULL) {
		/* Refused before the association existed: params are ours. */
		fail(res, DCM_SCU_INTERNAL, "ASC_requestAssociation: %s",
		    c.text());
		goto fail;
	}
	params = NULL;		/* *as owns them now */
	if (c.bad()) {
		if (c == DUL_ASSOCIATIONREJECTED)
			rejected((*as)->params, res);
		else if (c == DUL_PEERABORTEDASSOCIATION)
			fail(res, DCM_SCU_ABORTED, "%s", "association "
			    "aborted by the peer during negotiation");
		else
			fail(res, DCM_SCU_NETWORK, "cannot associate: %s",
			    c.text());
		goto fail;	/* nothing to release or drop */
	}
	return 0;
fail:
	if (params != NULL)
		ASC_destroyAssociationParameters(&params);
	scu_end(net, as);
	return -1;
}

void
scu_end(T_ASC_Network **net, T_ASC_Association **as)
{
	if (*as != NULL)
		ASC_destroyAssociation(as);
	if (*net != NULL)
		ASC_dropNetwork(net);
}

static int
store(T_ASC_Association *as, const dcm_scu_peer *peer, DcmDataset *ds,
    E_TransferSyntax own, dcm_scu_result *res, const char *orig_ae = NULL,
    Uint16 orig_id = 0)
{
	T_ASC_PresentationContextID pid;
	T_ASC_PresentationContext pc;
	T_DIMSE_C_StoreRQ req;
	T_DIMSE_C_StoreRSP rsp;
	DcmDataset *detail = NULL;
	E_TransferSyntax net;
	OFCondition c;

	/* Prefers a context with the file's own syntax, then Explicit LE. */
	pid = ASC_findAcceptedPresentationContextID(as, res->sop_class_uid,
	    DcmXfer(own).getXferID());
	if (pid == 0 || ASC_findAcceptedPresentationContext(as->params, pid,
	    &pc).bad())
		return fail(res, DCM_SCU_NO_CONTEXT, "no presentation context "
		    "accepted for %s", res->sop_class_uid);
	net = DcmXfer(pc.acceptedTransferSyntax).getXfer();
	if (net != own && (ds->chooseRepresentation(net, NULL).bad() ||
	    !ds->canWriteXfer(net, own)))
		return fail(res, DCM_SCU_NO_CONTEXT, "cannot convert to the "
		    "accepted transfer syntax %s", pc.acceptedTransferSyntax);
	snprintf(res->transfer_syntax, sizeof(res->transfer_syntax), "%s",
	    pc.acceptedTransferSyntax);

	memset(&req, 0, sizeof(req));
	memset(&rsp, 0, sizeof(rsp));
	req.MessageID = as->nextMsgID++;
	OFStandard::strlcpy(req.AffectedSOPClassUID, res->sop_class_uid,
	    sizeof(req.AffectedSOPClassUID));
	OFStandard::strlcpy(req.AffectedSOPInstanceUID, res->sop_instance_uid,
	    sizeof(req.AffectedSOPInstanceUID));
	req.DataSetType = DIMSE_DATASET_PRESENT;
	req.Priority = DIMSE_PRIORITY_MEDIUM;
	if (orig_ae != NULL) {
		OFStandard::strlcpy(req.MoveOriginatorApplicationEntityTitle,
		    orig_ae, sizeof(req.MoveOriginatorApplicationEntityTitle));
		req.MoveOriginatorID = orig_id;
		req.opts |= O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
	}
	c = DIMSE_storeUser(as, pid, &req, NULL, ds, NULL, NULL,
	    DIMSE_NONBLOCKING, peer->dimse_timeout, &rsp, &detail, NULL, 0);
	if (c.bad()) {
		delete detail;
		if (c == DUL_PEERABORTEDASSOCIATION)
			return fail(res, DCM_SCU_ABORTED, "%s", "association "
			    "aborted by the peer before the response");
		if (c == DIMSE_NODATAAVAILABLE)
			return fail(res, DCM_SCU_NETWORK, "no C-STORE response "
			    "within dimse_timeout (%s)", c.text());
		return fail(res, DCM_SCU_NETWORK, "C-STORE failed: %s",
		    c.text());
	}
	res->rc = DCM_SCU_STATUS;
	res->status = rsp.DimseStatus;
	if (detail != NULL) {
		OFString s;

		if (detail->findAndGetOFString(DCM_ErrorComment, s).good())
			snprintf(res->comment, sizeof(res->comment), "%s",
			    s.c_str());
		delete detail;
	}
	return 0;
}

/* exchange - everything after the file was read. */
struct store_ctx {
	const char	*sop_class, *ts;
};

static OFCondition
store_contexts(T_ASC_Parameters *params, void *arg)
{
	const store_ctx *sc = (const store_ctx *)arg;

	return add_contexts(params, sc->sop_class, sc->ts);
}

static int
exchange(const dcm_scu_peer *peer, DcmDataset *ds, E_TransferSyntax own,
    dcm_scu_result *res)
{
	T_ASC_Network *net;
	T_ASC_Association *as;
	store_ctx sc = { res->sop_class_uid, DcmXfer(own).getXferID() };
	int rc = -1;

	if (scu_associate(peer, store_contexts, &sc, &net, &as, res) == -1)
		return -1;
	if (ASC_countAcceptedPresentationContexts(as->params) == 0)
		fail(res, DCM_SCU_NO_CONTEXT, "no presentation context "
		    "accepted for %s", res->sop_class_uid);
	else
		rc = store(as, peer, ds, own, res);
	if (rc == 0 || res->rc == DCM_SCU_NO_CONTEXT) {
		/* The peer is there; a status is final whatever this does. */
		if (ASC_releaseAssociation(as).bad())
			ASC_abortAssociation(as);
	} else if (res->rc != DCM_SCU_ABORTED) {
		/*
		 * A peer that did not answer within dimse_timeout would not
		 * answer an A-ABORT either, and DCMTK waits for that: close
		 * the connection, so the call stays within dimse_timeout.
		 */
		ASC_dropAssociation(as);
	}
	scu_end(&net, &as);
	return rc;
}

/* load - the file to send, its UIDs into res and its transfer syntax. */
static DcmDataset *
load(DcmFileFormat &ff, const char *path, E_TransferSyntax *own,
    dcm_scu_result *res)
{
	OFCondition c = ff.loadFile(path);
	DcmDataset *ds;

	if (c.bad()) {
		res->rc = DCM_SCU_FILE;
		snprintf(res->detail, sizeof(res->detail), "%s: %s", path,
		    c.text());
		return NULL;
	}
	ds = ff.getDataset();
	if (bridge_get_uid(ds, DCM_SOPClassUID, res->sop_class_uid,
	    sizeof(res->sop_class_uid)) == -1 ||
	    bridge_get_uid(ds, DCM_SOPInstanceUID, res->sop_instance_uid,
	    sizeof(res->sop_instance_uid)) == -1) {
		fail(res, DCM_SCU_FILE, "%s: SOP Class or SOP Instance UID "
		    "missing or too long", path);
		return NULL;
	}
	*own = ds->getOriginalXfer();
	if (*own == EXS_Unknown)
		*own = EXS_LittleEndianExplicit;
	return ds;
}

extern "C" int
dcm_scu_store(const struct dcm_scu_peer *peer, const char *path,
    struct dcm_scu_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rc = DCM_SCU_INTERNAL;
	try {
		DcmFileFormat ff;
		DcmDataset *ds;
		E_TransferSyntax own;

		if (strlen(peer->called_ae) > 16 ||
		    strlen(peer->calling_ae) > 16 ||
		    peer->called_ae[0] == '\0' || peer->calling_ae[0] == '\0')
			return fail(res, DCM_SCU_INTERNAL, "%s",
			    "AE title empty or longer than 16 characters");
		if ((ds = load(ff, path, &own, res)) == NULL)
			return -1;
		return exchange(peer, ds, own, res);
	} catch (...) {
		log_err("dcm_scu_store: unexpected C++ exception");
		return fail(res, DCM_SCU_INTERNAL, "%s",
		    "unexpected C++ exception");
	}
}

/* ---- one association, many files ---- */

struct dcm_scu_assoc {
	const dcm_scu_peer	*peer;
	T_ASC_Network		*net;
	T_ASC_Association	*as;
	bool			 broken;
};

static bool
uncompressed_le(const char *ts)
{
	return strcmp(ts, UID_LittleEndianExplicitTransferSyntax) == 0 ||
	    strcmp(ts, UID_LittleEndianImplicitTransferSyntax) == 0;
}

/* offer_contexts - one context per distinct SOP class and syntax. */
static OFCondition
offer_contexts(T_ASC_Parameters *params, const dcm_scu_offer *offers,
    size_t n)
{
	const char *le[2] = {
		UID_LittleEndianExplicitTransferSyntax,
		UID_LittleEndianImplicitTransferSyntax
	};
	std::vector<std::string> seen;
	int pcid = 1;

	for (size_t i = 0; i < n; i++) {
		const char *ts = offers[i].transfer_syntax;
		std::string own = std::string(offers[i].sop_class_uid) + "|" +
		    (uncompressed_le(ts) ? "LE" : ts);
		std::string lek = std::string(offers[i].sop_class_uid) + "|LE";
		OFCondition c;

		if (std::find(seen.begin(), seen.end(), own) == seen.end()) {
			const char *one[1] = { ts };

			if (pcid > 255)
				return EC_IllegalCall;
			seen.push_back(own);
			c = uncompressed_le(ts) ?
			    ASC_addPresentationContext(params, (T_ASC_PresentationContextID)pcid,
			    offers[i].sop_class_uid, le, 2) :
			    ASC_addPresentationContext(params, (T_ASC_PresentationContextID)pcid,
			    offers[i].sop_class_uid, one, 1);
			if (c.bad())
				return c;
			pcid += 2;
		}
		if (std::find(seen.begin(), seen.end(), lek) == seen.end()) {
			if (pcid > 255)
				return EC_IllegalCall;
			seen.push_back(lek);
			c = ASC_addPresentationContext(params,
			    (T_ASC_PresentationContextID)pcid,
			    offers[i].sop_class_uid, le, 2);
			if (c.bad())
				return c;
			pcid += 2;
		}
	}
	return EC_Normal;
}

/* dcm_scu_open - one association for several C-STOREs */
struct offer_ctx {
	const dcm_scu_offer	*offers;
	size_t			 n;
};

static OFCondition
offered_contexts(T_ASC_Parameters *params, void *arg)
{
	const offer_ctx *oc = (const offer_ctx *)arg;

	return offer_contexts(params, oc->offers, oc->n);
}

extern "C" struct dcm_scu_assoc *
dcm_scu_open(const struct dcm_scu_peer *peer, const struct dcm_scu_offer *offers,
    size_t n, struct dcm_scu_result *res)
{
	dcm_scu_assoc *a = NULL;
	offer_ctx oc = { offers, n };

	memset(res, 0, sizeof(*res));
	res->rc = DCM_SCU_INTERNAL;
	try {
		if (strlen(peer->called_ae) > 16 || strlen(peer->calling_ae) > 16 ||
		    peer->called_ae[0] == '\0' || peer->calling_ae[0] == '\0') {
			fail(res, DCM_SCU_INTERNAL, "%s",
			    "AE title empty or longer than 16 characters");
			return NULL;
		}
		a = new dcm_scu_assoc;
		a->peer = peer;
		a->broken = false;
		if (scu_associate(peer, offered_contexts, &oc, &a->net, &a->as,
		    res) == -1) {
			delete a;
			return NULL;
		}
		if (ASC_countAcceptedPresentationContexts(a->as->params) == 0) {
			fail(res, DCM_SCU_NO_CONTEXT, "%s", "no presentation "
			    "context accepted");
			dcm_scu_close(a);
			return NULL;
		}
		res->rc = DCM_SCU_STATUS;
		return a;
	} catch (...) {
		log_err("dcm_scu_open: unexpected C++ exception");
		fail(res, DCM_SCU_INTERNAL, "%s", "unexpected C++ exception");
		return NULL;
	}
}

/* dcm_scu_send - one C-STORE on an open association */
extern "C" int
dcm_scu_send(struct dcm_scu_assoc *a, const char *path,
    const char *move_originator_ae, unsigned move_originator_id,
    struct dcm_scu_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rc = DCM_SCU_INTERNAL;
	try {
		DcmFileFormat ff;
		DcmDataset *ds;
		E_TransferSyntax own;
		int rc;

		if (a->broken || a->as == NULL)
			return fail(res, DCM_SCU_NETWORK, "%s",
			    "the association is gone");
		if ((ds = load(ff, path, &own, res)) == NULL)
			return -1;
		rc = store(a->as, a->peer, ds, own, res, move_originator_ae,
		    (Uint16)move_originator_id);
		if (rc == -1 && (res->rc == DCM_SCU_NETWORK ||
		    res->rc == DCM_SCU_ABORTED))
			a->broken = true;
		return rc;
	} catch (...) {
		log_err("dcm_scu_send: unexpected C++ exception");
		return fail(res, DCM_SCU_INTERNAL, "%s",
		    "unexpected C++ exception");
	}
}

/* dcm_scu_close - release and free */
extern "C" void
dcm_scu_close(struct dcm_scu_assoc *a)
{
	if (a == NULL)
		return;
	try {
		if (a->as != NULL) {
			if (!a->broken) {
				if (ASC_releaseAssociation(a->as).bad())
					ASC_abortAssociation(a->as);
			} else
				ASC_dropAssociation(a->as);
			ASC_destroyAssociation(&a->as);
		}
		if (a->net != NULL)
			ASC_dropNetwork(&a->net);
		delete a;
	} catch (...) {
		log_err("dcm_scu_close: unexpected C++ exception");
	}
}

/* PS3.7 C.1 (Annex C): status classes; DCMTK's dimse.h agrees. */
extern "C" enum dcm_status_class
dcm_status_class(unsigned status)
{
	if (status == STATUS_Success)
		return DCM_STATUS_SUCCESS;
	if (DICOM_WARNING_STATUS(status))
		return DCM_STATUS_WARNING;
	return DCM_STATUS_FAILURE;
}

extern "C" const char *
dcm_status_text(unsigned status)
{
	try {
		return DU_cstoreStatusString((Uint16)status);
	} catch (...) {
		return "?";
	}
}

extern "C" const char *
dcm_scu_rc_name(enum dcm_scu_rc rc)
{
	switch (rc) {
	case DCM_SCU_STATUS:
		return "status";
	case DCM_SCU_FILE:
		return "file";
	case DCM_SCU_NETWORK:
		return "network";
	case DCM_SCU_REJECTED_PERMANENT:
		return "rejected-permanent";
	case DCM_SCU_REJECTED_TRANSIENT:
		return "rejected-transient";
	case DCM_SCU_ABORTED:
		return "aborted";
	case DCM_SCU_NO_CONTEXT:
		return "no-context";
	case DCM_SCU_INTERNAL:
		break;
	}
	return "internal";
}
