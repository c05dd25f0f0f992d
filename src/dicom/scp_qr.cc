/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scp_qr - C-FIND, C-MOVE and C-GET (Patient Root and Study Root) on the
 * Storage SCP's associations, with C-CANCEL between responses.  Runs on
 * the association's thread.  It turns the identifier into a plain
 * struct dcm_qr_query (UTF-8) and answers from what dcm_qr_ops returns;
 * matching and the index are the daemon's (qr_query.c).  C-MOVE sends
 * through the Storage SCU (scu.h) on an association of its own; C-GET
 * sends on the requester's association, in the contexts it proposed in
 * the SCP role.  Knows nothing of SQLite.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcvrlo.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

extern "C" {
#include "core/log.h"
}
#include "dicom/qr.h"
#include "dicom/scp_qr.h"
#include "dicom/scu.h"

/* PS3.4 C.4.1.1.4, C.4.2.1.5, C.4.3.1.4 */
#define ST_PENDING		0xFF00
#define ST_PENDING_UNSUPPORTED	0xFF01	/* optional keys not supported */
#define ST_CANCEL		0xFE00
#define ST_NO_RESOURCES		0xA700	/* C-FIND */
#define ST_NO_MATCH_COUNT	0xA701	/* C-MOVE/C-GET: number of matches */
#define ST_NO_SUBOPS		0xA702	/* C-MOVE/C-GET: sub-operations */
#define ST_UNKNOWN_DEST		0xA801
#define ST_NOT_MATCH		0xA900	/* Identifier does not match SOP Class */
#define ST_CANNOT_PROCESS	0xC000
#define ST_SUBOP_FAILURES	0xB000
/* C-FIND defines no warning; a Bxxx final status is one (PS3.7 C.3),
 * with the reason in Error Comment. */
#define ST_FIND_TRUNCATED	0xB000
#define ST_NOT_SUPPORTED	0x0122

enum qr_op { OP_FIND, OP_MOVE, OP_GET };

static const struct {
	const char	*uid;
	dcm_qr_model	 model;
	qr_op		 op;
} classes[] = {
	{ UID_FINDPatientRootQueryRetrieveInformationModel, DCM_QR_PATIENT_ROOT, OP_FIND },
	{ UID_MOVEPatientRootQueryRetrieveInformationModel, DCM_QR_PATIENT_ROOT, OP_MOVE },
	{ UID_GETPatientRootQueryRetrieveInformationModel, DCM_QR_PATIENT_ROOT, OP_GET },
	{ UID_FINDStudyRootQueryRetrieveInformationModel, DCM_QR_STUDY_ROOT, OP_FIND },
	{ UID_MOVEStudyRootQueryRetrieveInformationModel, DCM_QR_STUDY_ROOT, OP_MOVE },
	{ UID_GETStudyRootQueryRetrieveInformationModel, DCM_QR_STUDY_ROOT, OP_GET },
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

static const char *const level_names[] = { "PATIENT", "STUDY", "SERIES", "IMAGE" };
/* The unique key of each level (PS3.4 C.6.1.1, C.6.2.1). */
static const DcmTagKey level_keys[] = {
	DCM_PatientID, DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_SOPInstanceUID
};

/* qr_sop_class - one of the six Query/Retrieve SOP classes */
bool
qr_sop_class(const char *uid)
{
	for (size_t i = 0; i < NCLASSES; i++)
		if (strcmp(uid, classes[i].uid) == 0)
			return true;
	return false;
}

static OFString
trimmed(const OFString &v)
{
	size_t b = v.find_first_not_of(' ');
	size_t e = v.find_last_not_of(' ');

	return b == OFString_npos ? OFString() : v.substr(b, e - b + 1);
}

static uint32_t
tag32(const DcmTagKey &k)
{
	return DCM_QR_TAG(k.getGroup(), k.getElement());
}

/* status_detail - an Error Comment (0000,0902) for a failure response. */
static DcmDataset *
status_detail(const std::string &why)
{
	DcmDataset *d = new DcmDataset;
	std::string s(why);

	if (s.size() > 64)
		s.resize(64);
	d->putAndInsertString(DCM_ErrorComment, s.c_str());
	return d;
}

/* A parsed identifier: the query and, per key, the element to answer with. */
struct request {
	dcm_qr_query			 q;
	std::vector<std::string>	 values;
	std::vector<dcm_qr_key>		 keys;
	std::vector<DcmTag>		 tags;	/* with the requester's VR */
	std::string			 charset; /* Specific Character Set sent */
	bool				 want_availability = false;

	void add(const DcmTag &t, const std::string &v, bool sequence)
	{
		dcm_qr_key k;

		values.push_back(v);
		k.tag = tag32(t);
		k.value = NULL;		/* set in finish(): values may move */
		k.sequence = sequence;
		keys.push_back(k);
		tags.push_back(t);
	}
	bool has(const DcmTagKey &t) const
	{
		for (size_t i = 0; i < keys.size(); i++)
			if (keys[i].tag == tag32(t))
				return true;
		return false;
	}
	const char *value(const DcmTagKey &t) const
	{
		for (size_t i = 0; i < keys.size(); i++)
			if (keys[i].tag == tag32(t))
				return values[i].c_str();
		return NULL;
	}
	void finish()
	{
		for (size_t i = 0; i < keys.size(); i++)
			keys[i].value = values[i].c_str();
		q.keys = keys.data();
		q.nkeys = keys.size();
	}
};

/*
 * parse - the identifier into r.  Success, or ST_NOT_MATCH for an
 * identifier the information model cannot take (no or an unknown level,
 * a unique key missing) or ST_CANNOT_PROCESS for text that cannot be
 * converted to UTF-8, with why set.
 */
static Uint16
parse(DcmDataset *ids, dcm_qr_model model, bool retrieve, request &r,
    std::string &why)
{
	OFString cs, lv;
	int level = -1;

	r.q.model = model;
	if (ids == NULL) {
		why = "no identifier";
		return ST_NOT_MATCH;
	}
	ids->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs);
	r.charset = trimmed(cs).c_str();
	/* PS3.5 6.1.2.5: the requester's repertoire; matching is on UTF-8 */
	if (!r.charset.empty() && r.charset != "ISO_IR 192") {
		OFCondition c = ids->convertToUTF8();

		if (c.bad()) {
			why = "cannot convert from Specific Character Set " +
			    r.charset;
			return ST_CANNOT_PROCESS;
		}
	}
	if (ids->findAndGetOFString(DCM_QueryRetrieveLevel, lv).bad() ||
	    trimmed(lv).empty()) {
		why = "Query/Retrieve Level (0008,0052) missing";
		return ST_NOT_MATCH;
	}
	lv = trimmed(lv);
	for (int i = 0; i < 4; i++)
		if (lv == level_names[i])
			level = i;
	if (level == -1) {
		why = std::string("unknown Query/Retrieve Level ") +
		    lv.substr(0, 16).c_str();
		return ST_NOT_MATCH;
	}
	if (level == DCM_QR_PATIENT && model == DCM_QR_STUDY_ROOT) {
		why = "no PATIENT level in the Study Root model";
		return ST_NOT_MATCH;
	}
	r.q.level = (dcm_qr_level)level;

	for (unsigned long i = 0; i < ids->card(); i++) {
		DcmElement *e = ids->getElement(i);
		DcmTag t = e->getTag();
		OFString v;

		if (t.getElement() == 0x0000 || t == DCM_SpecificCharacterSet ||
		    t == DCM_QueryRetrieveLevel || t == DCM_RetrieveAETitle)
			continue;	/* group lengths; answered by us */
		if (t == DCM_InstanceAvailability) {
			r.want_availability = true;
			continue;
		}
		if (e->ident() == EVR_SQ) {
			r.add(t, "", true);
			continue;
		}
		if (e->getLength() > 0 && e->getOFStringArray(v).bad())
			v = "";
		r.add(t, trimmed(v).c_str(), false);
	}

	/* PS3.4 C.4.1.2.1 and C.4.2.2.1: the unique keys of the levels above,
	 * each a single value; for a retrieval the level's own too */
	for (int l = model == DCM_QR_STUDY_ROOT ? 1 : 0; l <= level; l++) {
		const char *v = r.value(level_keys[l]);
		bool own = l == level;
		DcmTag t(level_keys[l]);

		if (own && !retrieve)
			continue;
		if (v == NULL || *v == '\0') {
			why = std::string(t.getTagName()) + " " +
			    t.toString().c_str() + " missing";
			return ST_NOT_MATCH;
		}
		if (strpbrk(v, "*?") != NULL || (strchr(v, '\\') != NULL &&
		    (!own || l == DCM_QR_PATIENT))) {
			why = std::string(t.getTagName()) + " must be a single "
			    "value";
			return ST_NOT_MATCH;
		}
	}
	/* return the unique keys of the level and those above */
	if (!retrieve)
		for (int l = model == DCM_QR_STUDY_ROOT ? 1 : 0; l <= level; l++)
			if (!r.has(level_keys[l]))
				r.add(DcmTag(level_keys[l]), "", false);
	r.finish();
	return STATUS_Success;
}

static bool
ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * answer - one C-FIND response identifier: the requested keys with the
 * values of row (NULL: zero length), in the requester's character set
 * when it named one and every value fits, else in UTF-8 (ISO_IR 192).
 */
static DcmDataset *
answer(const request &r, char *const *row, const char *ae)
{
	DcmDataset *ds = new DcmDataset;
	bool wide = false;

	ds->putAndInsertString(DCM_QueryRetrieveLevel, level_names[r.q.level]);
	ds->putAndInsertString(DCM_RetrieveAETitle, ae);
	if (r.want_availability)
		ds->putAndInsertString(DCM_InstanceAvailability, "ONLINE");
	for (size_t k = 0; k < r.keys.size(); k++) {
		DcmElement *e = NULL;

		if (DcmItem::newDicomElementWithVR(e, r.tags[k]).bad() || e == NULL)
			continue;
		if (row[k] != NULL && !r.keys[k].sequence) {
			if (e->putString(row[k]).bad())
				e->clear();
			wide = wide || !ascii(row[k]);
		}
		if (ds->insert(e, OFTrue).bad())
			delete e;
	}
	if (wide) {
		ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
		if (!r.charset.empty() && r.charset != "ISO_IR 192") {
			DcmDataset conv(*ds);

			if (conv.convertCharacterSet(r.charset.c_str(), 0).good())
				*ds = conv;
		}
	} else if (!r.charset.empty())
		ds->putAndInsertString(DCM_SpecificCharacterSet, r.charset.c_str());
	return ds;
}

/* map - a dcm_qr_rc as the status of the operation. */
static Uint16
map(dcm_qr_rc rc, qr_op op)
{
	switch (rc) {
	case DCM_QR_OK:
		return STATUS_Success;
	case DCM_QR_BAD_IDENTIFIER:
		return ST_NOT_MATCH;
	case DCM_QR_CANNOT_PROCESS:
		return ST_CANNOT_PROCESS;
	case DCM_QR_NO_RESOURCES:
		break;
	}
	return op == OP_FIND ? ST_NO_RESOURCES : ST_NO_MATCH_COUNT;
}

/* ---- C-FIND ---- */

struct find_state {
	const qr_assoc	*qa;
	dcm_qr_model	 model;
	bool		 started = false;
	request		 r;
	dcm_qr_matches	 m;
	size_t		 next = 0;

	find_state() { memset(&m, 0, sizeof(m)); }
	~find_state()
	{
		for (size_t i = 0; m.v != NULL && i < m.n * r.keys.size(); i++)
			free(m.v[i]);
		free(m.v);
	}
};

static void
find_cb(void *p, OFBool cancelled, T_DIMSE_C_FindRQ *req, DcmDataset *ids,
    int count, T_DIMSE_C_FindRSP *rsp, DcmDataset **rspIds,
    DcmDataset **detail)
{
	find_state *s = static_cast<find_state *>(p);
	const qr_assoc *qa = s->qa;

	(void)req;
	(void)count;
	try {
		if (cancelled) {
			log_info("C-FIND from %s cancelled after %zu of %zu "
			    "matches", qa->calling_ae, s->next, s->m.n);
			rsp->DimseStatus = ST_CANCEL;
			return;
		}
		if (!s->started) {
			std::string why;
			char buf[256] = "";
			Uint16 st;
			dcm_qr_rc rc;

			s->started = true;
			if ((st = parse(ids, s->model, false, s->r, why)) != STATUS_Success) {
				log_warn("C-FIND from %s refused with 0x%04X: %s",
				    qa->calling_ae, st, why.c_str());
				rsp->DimseStatus = st;
				*detail = status_detail(why);
				return;
			}
			rc = qa->ops->find(qa->ctx, &s->r.q, &s->m, buf, sizeof(buf));
			if (rc != DCM_QR_OK) {
				st = map(rc, OP_FIND);
				log_warn("C-FIND from %s failed with 0x%04X: %s",
				    qa->calling_ae, st, buf);
				memset(&s->m, 0, sizeof(s->m));
				rsp->DimseStatus = st;
				*detail = status_detail(buf);
				return;
			}
			log_info("C-FIND from %s: %s level, %s root, %zu keys: %zu "
			    "match(es)", qa->calling_ae, level_names[s->r.q.level],
			    s->model == DCM_QR_STUDY_ROOT ? "study" : "patient",
			    s->r.keys.size(), s->m.n);
		}
		if (s->next < s->m.n) {
			*rspIds = answer(s->r, s->m.v + s->next * s->r.keys.size(),
			    qa->ae_title);
			s->next++;
			rsp->DimseStatus = s->m.unsupported ? ST_PENDING_UNSUPPORTED :
			    ST_PENDING;
			return;
		}
		if (s->m.truncated) {
			/* PS3.7 C.3: a warning class (Bxxx) final status. */
			char why[128];

			snprintf(why, sizeof(why), "more than max_query_results "
			    "matches; the first %zu sent", s->m.n);
			log_warn("C-FIND from %s: %s", qa->calling_ae, why);
			rsp->DimseStatus = ST_FIND_TRUNCATED;
			*detail = status_detail(why);
			return;
		}
		rsp->DimseStatus = STATUS_Success;
	} catch (...) {
		log_err("C-FIND from %s: unexpected C++ exception", qa->calling_ae);
		rsp->DimseStatus = ST_CANNOT_PROCESS;
	}
}

/* ---- C-MOVE and C-GET ---- */

struct retrieve_state {
	const qr_assoc		*qa;
	dcm_qr_model		 model;
	qr_op			 op;
	bool			 started = false;
	request			 r;
	dcm_qr_file		*files = NULL;
	size_t			 n = 0, next = 0;
	unsigned		 completed = 0, failed = 0, warning = 0;
	std::vector<std::string> failed_uids;
	/* C-MOVE: the destination and our association to it */
	std::string		 dest;
	char			 host[256];
	dcm_scu_peer		 peer;
	dcm_scu_assoc		*sub = NULL;
	bool			 broken = false;	/* C-GET: our association */

	~retrieve_state()
	{
		dcm_scu_close(sub);
		for (size_t i = 0; i < n; i++)
			free(files[i].path);
		free(files);
	}
};

/*
 * get_store - a C-GET sub-operation: C-STORE f on the requester's own
 * association, in a context it proposed in the SCP role.  0 with *status
 * the peer's answer; 1 when nothing was sent (why set); -1 when the
 * association failed.
 */
static int
get_store(retrieve_state *s, const dcm_qr_file &f, Uint16 *status,
    std::string &why)
{
	T_ASC_Association *as = s->qa->as;
	T_ASC_PresentationContextID pid = 0;
	T_DIMSE_C_StoreRQ req;
	T_DIMSE_C_StoreRSP rsp;
	DcmDataset *detail = NULL;
	DcmFileFormat ff;
	E_TransferSyntax own, net = EXS_Unknown;
	OFCondition c;

	c = ff.loadFile(f.path);
	if (c.bad()) {
		why = std::string("cannot read ") + f.path + ": " + c.text();
		return 1;
	}
	DcmDataset *ds = ff.getDataset();
	own = ds->getOriginalXfer();
	for (int i = 0; i < ASC_countPresentationContexts(as->params); i++) {
		T_ASC_PresentationContext pc;

		if (ASC_getPresentationContext(as->params, i, &pc).bad() ||
		    pc.resultReason != ASC_P_ACCEPTANCE ||
		    strcmp(pc.abstractSyntax, f.sop_class_uid) != 0 ||
		    (pc.acceptedRole != ASC_SC_ROLE_SCP &&
		    pc.acceptedRole != ASC_SC_ROLE_SCUSCP))
			continue;
		E_TransferSyntax x = DcmXfer(pc.acceptedTransferSyntax).getXfer();
		if (pid == 0 || x == own) {
			pid = pc.presentationContextID;
			net = x;
		}
	}
	if (pid == 0) {
		why = std::string("no context for ") + f.sop_class_uid +
		    " in the SCP role";
		return 1;
	}
	if (net != own && (ds->chooseRepresentation(net, NULL).bad() ||
	    !ds->canWriteXfer(net, own))) {
		why = "cannot convert to the accepted transfer syntax";
		return 1;
	}
	memset(&req, 0, sizeof(req));
	memset(&rsp, 0, sizeof(rsp));
	req.MessageID = as->nextMsgID++;
	OFStandard::strlcpy(req.AffectedSOPClassUID, f.sop_class_uid,
	    sizeof(req.AffectedSOPClassUID));
	OFStandard::strlcpy(req.AffectedSOPInstanceUID, f.sop_instance_uid,
	    sizeof(req.AffectedSOPInstanceUID));
	req.DataSetType = DIMSE_DATASET_PRESENT;
	req.Priority = DIMSE_PRIORITY_MEDIUM;
	c = DIMSE_storeUser(as, pid, &req, NULL, ds, NULL, NULL,
	    DIMSE_NONBLOCKING, s->qa->dimse_timeout, &rsp, &detail, NULL, 0);
	delete detail;
	if (c.bad()) {
		why = std::string("C-STORE: ") + c.text();
		return -1;
	}
	*status = rsp.DimseStatus;
	return 0;
}

/* suboperation - send the next file; counts it. */
static void
suboperation(retrieve_state *s, Uint16 move_id)
{
	const dcm_qr_file &f = s->files[s->next++];
	std::string why;
	Uint16 st = 0;
	int rc;

	if (s->op == OP_MOVE) {
		dcm_scu_result res;

		rc = dcm_scu_send(s->sub, f.path, s->qa->calling_ae, move_id, &res) == 0 ?
		    0 : 1;
		st = (Uint16)res.status;
		if (rc != 0)
			why = std::string(dcm_scu_rc_name(res.rc)) + ": " + res.detail;
	} else if (s->broken) {
		rc = 1;
		why = "association failed";
	} else if ((rc = get_store(s, f, &st, why)) == -1) {
		s->broken = true;
		rc = 1;
	}
	if (rc == 0 && dcm_status_class(st) == DCM_STATUS_SUCCESS) {
		s->completed++;
		return;
	}
	if (rc == 0 && dcm_status_class(st) == DCM_STATUS_WARNING) {
		s->warning++;
		log_warn("%s sop=%s: warning 0x%04X", s->op == OP_MOVE ?
		    "C-MOVE" : "C-GET", f.sop_instance_uid, st);
		return;
	}
	s->failed++;
	s->failed_uids.push_back(f.sop_instance_uid);
	if (rc == 0)
		log_warn("%s sop=%s: refused with 0x%04X (%s)", s->op == OP_MOVE ?
		    "C-MOVE" : "C-GET", f.sop_instance_uid, st,
		    dcm_status_text(st));
	else
		log_warn("%s sop=%s: not sent: %s", s->op == OP_MOVE ?
		    "C-MOVE" : "C-GET", f.sop_instance_uid, why.c_str());
}

/* us - a count as US (PS3.7 C.4.2.1.4: 16 bits): saturated, never wrapped. */
static DIC_US
us(size_t n)
{
	return n > 0xffff ? (DIC_US)0xffff : (DIC_US)n;
}

/* failed_list - the Failed SOP Instance UID List identifier, or NULL. */
static DcmDataset *
failed_list(const retrieve_state *s)
{
	std::string v;

	if (s->failed_uids.empty())
		return NULL;
	/* An explicit VR UI value holds at most 65534 bytes: list what fits
	 * (about a thousand UIDs) rather than fail to encode the response. */
	size_t i;
	for (i = 0; i < s->failed_uids.size(); i++) {
		if (v.size() + 1 + s->failed_uids[i].size() > 65534)
			break;
		v += (i ? "\\" : "") + s->failed_uids[i];
	}
	if (i < s->failed_uids.size())
		log_warn("%s: %zu failed SOP Instance UIDs not listed in the "
		    "response (the list holds 64 KiB)", s->op == OP_MOVE ?
		    "C-MOVE" : "C-GET", s->failed_uids.size() - i);
	DcmDataset *d = new DcmDataset;
	d->putAndInsertString(DCM_FailedSOPInstanceUIDList, v.c_str());
	return d;
}

/* start - the first callback: destination, identifier, matches; a
 * status other than pending ends the operation. */
static Uint16
start(retrieve_state *s, const char *move_dest, DcmDataset *ids,
    std::string &why)
{
	const qr_assoc *qa = s->qa;
	char buf[256] = "";
	Uint16 st;
	dcm_qr_rc rc;

	if (s->op == OP_MOVE) {
		int port = 0;

		s->dest = trimmed(move_dest).c_str();
		if (qa->ops->destination(qa->ctx, s->dest.c_str(), s->host,
		    sizeof(s->host), &port) == -1) {
			why = "move destination " + s->dest + " unknown";
			return ST_UNKNOWN_DEST;
		}
		memset(&s->peer, 0, sizeof(s->peer));
		s->peer.calling_ae = qa->ae_title;
		s->peer.called_ae = s->dest.c_str();
		s->peer.host = s->host;
		s->peer.port = port;
		s->peer.acse_timeout = qa->acse_timeout;
		s->peer.dimse_timeout = qa->dimse_timeout;
	}
	if ((st = parse(ids, s->model, true, s->r, why)) != STATUS_Success)
		return st;
	rc = qa->ops->retrieve(qa->ctx, &s->r.q, &s->files, &s->n, buf,
	    sizeof(buf));
	if (rc != DCM_QR_OK) {
		s->files = NULL;
		s->n = 0;
		why = buf;
		return map(rc, s->op);
	}
	log_info("%s from %s%s%s: %s level, %zu instance(s)", s->op == OP_MOVE ?
	    "C-MOVE" : "C-GET", qa->calling_ae, s->op == OP_MOVE ? " to " : "",
	    s->op == OP_MOVE ? s->dest.c_str() : "", level_names[s->r.q.level],
	    s->n);
	if (s->n > 0 && s->op == OP_MOVE) {
		std::vector<dcm_scu_offer> offers(s->n);
		dcm_scu_result res;

		for (size_t i = 0; i < s->n; i++) {
			offers[i].sop_class_uid = s->files[i].sop_class_uid;
			offers[i].transfer_syntax = s->files[i].transfer_syntax;
		}
		if ((s->sub = dcm_scu_open(&s->peer, offers.data(), s->n,
		    &res)) == NULL) {
			why = "cannot associate with " + s->dest + ": " + res.detail;
			s->failed = (unsigned)s->n;
			for (size_t i = 0; i < s->n; i++)
				s->failed_uids.push_back(s->files[i].sop_instance_uid);
			s->next = s->n;
			return ST_NO_SUBOPS;
		}
	}
	return ST_PENDING;
}

/* step - one callback of C-MOVE or C-GET; fills the response fields. */
static void
step(retrieve_state *s, OFBool cancelled, const char *move_dest,
    Uint16 msg_id, DcmDataset *ids, Uint16 *status, DIC_US *remaining,
    DIC_US *completed, DIC_US *failed, DIC_US *warning, DcmDataset **detail,
    DcmDataset **rspIds)
{
	const qr_assoc *qa = s->qa;
	const char *what = s->op == OP_MOVE ? "C-MOVE" : "C-GET";
	Uint16 st = ST_PENDING;

	try {
		if (cancelled)
			st = ST_CANCEL;
		else if (!s->started) {
			std::string why;

			s->started = true;
			if ((st = start(s, move_dest, ids, why)) != ST_PENDING) {
				log_warn("%s from %s: 0x%04X: %s", what,
				    qa->calling_ae, st, why.c_str());
				*detail = status_detail(why);
			}
		}
		if (st == ST_PENDING && s->next < s->n)
			suboperation(s, msg_id);
		if (st == ST_PENDING && s->next >= s->n)
			st = s->failed || s->warning ? ST_SUBOP_FAILURES :
			    STATUS_Success;
		if (st == ST_CANCEL || st == ST_SUBOP_FAILURES ||
		    st == ST_NO_SUBOPS)
			*rspIds = failed_list(s);
		if (st != ST_PENDING)
			log_info("%s from %s: 0x%04X: completed=%u failed=%u "
			    "warning=%u%s", what, qa->calling_ae, st,
			    s->completed, s->failed, s->warning,
			    st == ST_CANCEL ? " (cancelled)" : "");
	} catch (...) {
		log_err("%s from %s: unexpected C++ exception", what,
		    qa->calling_ae);
		st = ST_CANNOT_PROCESS;
	}
	*status = st;
	*remaining = us(s->n - s->next);
	*completed = us(s->completed);
	*failed = us(s->failed);
	*warning = us(s->warning);
}

static void
move_cb(void *p, OFBool cancelled, T_DIMSE_C_MoveRQ *req, DcmDataset *ids,
    int count, T_DIMSE_C_MoveRSP *rsp, DcmDataset **detail,
    DcmDataset **rspIds)
{
	(void)count;
	step(static_cast<retrieve_state *>(p), cancelled, req->MoveDestination,
	    req->MessageID, ids, &rsp->DimseStatus,
	    &rsp->NumberOfRemainingSubOperations,
	    &rsp->NumberOfCompletedSubOperations,
	    &rsp->NumberOfFailedSubOperations,
	    &rsp->NumberOfWarningSubOperations, detail, rspIds);
}

static void
get_cb(void *p, OFBool cancelled, T_DIMSE_C_GetRQ *req, DcmDataset *ids,
    int count, T_DIMSE_C_GetRSP *rsp, DcmDataset **detail,
    DcmDataset **rspIds)
{
	(void)count;
	step(static_cast<retrieve_state *>(p), cancelled, NULL, req->MessageID,
	    ids, &rsp->DimseStatus, &rsp->NumberOfRemainingSubOperations,
	    &rsp->NumberOfCompletedSubOperations,
	    &rsp->NumberOfFailedSubOperations,
	    &rsp->NumberOfWarningSubOperations, detail, rspIds);
}

/* refuse - a final failure response when the command cannot be served. */
static OFCondition
refuse(const qr_assoc &qa, T_ASC_PresentationContextID pid,
    T_DIMSE_Message &msg, Uint16 status, const char *why)
{
	DcmDataset *detail = status_detail(why);
	DcmDataset *ids = NULL;
	DIC_UL bytes, pdvs;
	OFCondition c;

	/* the identifier follows the command: read and drop it */
	c = DIMSE_ignoreDataSet(qa.as, DIMSE_NONBLOCKING, qa.dimse_timeout,
	    &bytes, &pdvs);
	if (c.good()) {
		if (msg.CommandField == DIMSE_C_FIND_RQ) {
			T_DIMSE_C_FindRSP r;

			memset(&r, 0, sizeof(r));
			r.DimseStatus = status;
			c = DIMSE_sendFindResponse(qa.as, pid, &msg.msg.CFindRQ,
			    &r, ids, detail);
		} else if (msg.CommandField == DIMSE_C_MOVE_RQ) {
			T_DIMSE_C_MoveRSP r;

			memset(&r, 0, sizeof(r));
			r.DimseStatus = status;
			c = DIMSE_sendMoveResponse(qa.as, pid, &msg.msg.CMoveRQ,
			    &r, ids, detail);
		} else {
			T_DIMSE_C_GetRSP r;

			memset(&r, 0, sizeof(r));
			r.DimseStatus = status;
			c = DIMSE_sendGetResponse(qa.as, pid, &msg.msg.CGetRQ,
			    &r, ids, detail);
		}
	}
	delete detail;
	return c;
}

/* qr_serve - one C-FIND, C-MOVE or C-GET to its final response */
int
qr_serve(const qr_assoc &qa, T_ASC_PresentationContextID pid,
    T_DIMSE_Message &msg)
{
	T_ASC_PresentationContext pc;
	const char *cls;
	qr_op op;
	OFCondition c;
	size_t i;

	switch (msg.CommandField) {
	case DIMSE_C_FIND_RQ:
		op = OP_FIND;
		cls = msg.msg.CFindRQ.AffectedSOPClassUID;
		break;
	case DIMSE_C_MOVE_RQ:
		op = OP_MOVE;
		cls = msg.msg.CMoveRQ.AffectedSOPClassUID;
		break;
	case DIMSE_C_GET_RQ:
		op = OP_GET;
		cls = msg.msg.CGetRQ.AffectedSOPClassUID;
		break;
	default:
		return -1;
	}
	if (ASC_findAcceptedPresentationContext(qa.as->params, pid, &pc).bad())
		return -1;
	for (i = 0; i < NCLASSES; i++)
		if (classes[i].op == op && strcmp(classes[i].uid, cls) == 0 &&
		    strcmp(pc.abstractSyntax, cls) == 0)
			break;
	if (i == NCLASSES) {
		log_warn("association from %s: %s for %s on a context for %s; "
		    "refused", qa.calling_ae, op == OP_FIND ? "C-FIND" :
		    op == OP_MOVE ? "C-MOVE" : "C-GET", cls, pc.abstractSyntax);
		c = refuse(qa, pid, msg, ST_NOT_SUPPORTED,
		    "SOP class differs from the presentation context's");
		return c.good() ? 0 : -1;
	}
	try {
		if (op == OP_FIND) {
			find_state s;

			s.qa = &qa;
			s.model = classes[i].model;
			c = DIMSE_findProvider(qa.as, pid, &msg.msg.CFindRQ, find_cb,
			    &s, DIMSE_NONBLOCKING, qa.dimse_timeout);
		} else {
			retrieve_state s;

			s.qa = &qa;
			s.model = classes[i].model;
			s.op = op;
			if (op == OP_MOVE)
				c = DIMSE_moveProvider(qa.as, pid, &msg.msg.CMoveRQ,
				    move_cb, &s, DIMSE_NONBLOCKING,
				    qa.dimse_timeout);
			else
				c = DIMSE_getProvider(qa.as, pid, &msg.msg.CGetRQ,
				    get_cb, &s, DIMSE_NONBLOCKING,
				    qa.dimse_timeout);
			if (s.broken)
				c = DIMSE_BADDATA;
		}
	} catch (...) {
		log_err("association from %s: unexpected C++ exception in "
		    "Query/Retrieve", qa.calling_ae);
		return -1;
	}
	if (c.bad()) {
		log_warn("association from %s: %s: %s", qa.calling_ae,
		    op == OP_FIND ? "C-FIND" : op == OP_MOVE ? "C-MOVE" : "C-GET",
		    c.text());
		return -1;
	}
	return 0;
}
