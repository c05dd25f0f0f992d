/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scp_store - the C-STORE service of the associations scp_server.cc
 * serves.  The data set is received bit for bit into a temporary file,
 * its nesting bounded on the raw bytes (dsscan) before DCMTK parses it,
 * and answered only after ops->store committed it: DcmStorageSCP sends
 * success before the file is durable, so it is not used.  The index
 * values (dcm_qr_attrs) are taken from the data set parsed here, so the
 * file is not read again for them.  Runs on association threads; knows
 * nothing of SQLite.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcostrma.h"
#include "dcmtk/dcmdata/dcvrlo.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include "core/log.h"
}
#include "dicom/bridge_priv.h"
#include "dicom/dcmbridge.h"
#include "dicom/dsscan.h"
#include "dicom/qr.h"
#include "dicom/scp_store.h"

#define STATUS_NO_RESOURCES	0xA700	/* PS3.4 B.2.3 Refused: Out of Resources */
#define STATUS_NOT_SUPPORTED	0x0122	/* PS3.7 C.4.2: Refused: SOP Class not supported */
#define STATUS_NOT_MATCH	0xA900	/* Error: Data Set does not match SOP Class */
#define STATUS_CANNOT_PARSE	0xC000	/* Error: Cannot understand */
#define STATUS_BAD_UID		0xC001	/* Error: Cannot understand (UIDs) */

/*
 * FdConsumer - writes to our fd through a 64 KB buffer, and starts
 * write-back of each finished megabyte (sync_file_range) so the fsync
 * before the response waits only for the tail.  After a write error it
 * swallows the rest of the dataset, so the PDUs are still read off the
 * association and the peer gets a proper failure status, not an abort.
 */
class FdConsumer : public DcmConsumer {
public:
	FdConsumer(int fd, uint64_t limit) : fd_(fd), errno_(0), used_(0),
	    off_(0), synced_(0), limit_(limit), total_(0) {}
	OFBool good() const { return OFTrue; }
	OFCondition status() const { return EC_Normal; }
	OFBool isFlushed() const { return used_ == 0; }
	offile_off_t avail() const { return 1 << 30; }
	offile_off_t write(const void *buf, offile_off_t len)
	{
		const char *p = static_cast<const char *>(buf);
		size_t left = (size_t)len;

		/* Past the limit the rest is read off the wire and dropped. */
		total_ += (uint64_t)len;
		if (limit_ > 0 && total_ > limit_ && errno_ == 0)
			errno_ = EFBIG;
		while (left > 0 && errno_ == 0) {
			size_t n = sizeof(buf_) - used_;

			if (n > left)
				n = left;
			memcpy(buf_ + used_, p, n);
			used_ += n;
			p += n;
			left -= n;
			if (used_ == sizeof(buf_))
				drain();
		}
		return len;
	}
	void flush() { drain(); }
	int error() const { return errno_; }
	/* written - bytes given to the consumer so far */
	uint64_t written() const { return total_; }
	/* start_writeback - the rest of the file, so parsing overlaps the I/O. */
	void start_writeback()
	{
		if (errno_ == 0 && off_ > synced_)
			sync_file_range(fd_, synced_, off_ - synced_,
			    SYNC_FILE_RANGE_WRITE);
		synced_ = off_;
	}
private:
	void drain()
	{
		const char *p = buf_;

		while (errno_ == 0 && used_ > 0) {
			ssize_t n = ::write(fd_, p, used_);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				errno_ = n < 0 ? errno : EIO;
				break;
			}
			p += n;
			used_ -= (size_t)n;
			off_ += n;
		}
		used_ = 0;
		if (errno_ == 0 && off_ - synced_ >= (1 << 20)) {
			sync_file_range(fd_, synced_, off_ - synced_,
			    SYNC_FILE_RANGE_WRITE);
			synced_ = off_;
		}
	}
	int fd_;
	int errno_;
	char buf_[65536];
	size_t used_;
	off_t off_, synced_;
	uint64_t limit_, total_;	/* limit_ 0: none */
};

class FdStream : public DcmOutputStream {
public:
	explicit FdStream(FdConsumer *c) : DcmOutputStream(c) {}
};

static void
set_detail(DcmDataset **detail, const char *text)
{
	DcmElement *e = new DcmLongString(DCM_ErrorComment);

	/* LO holds 64 characters. */
	std::string s(text);
	if (s.size() > 64)
		s.resize(64);
	e->putString(s.c_str());
	if (*detail == NULL)
		*detail = new DcmDataset;
	(*detail)->insert(e, OFTrue);
}

/* write_meta - preamble, DICM and group 0002 for the dataset that follows. */
static int
write_meta(FdStream &out, const T_DIMSE_C_StoreRQ &req, const char *ts,
    const char *calling)
{
	DcmFileFormat ff;
	DcmMetaInfo *mi = ff.getMetaInfo();
	DcmDataset *ds = ff.getDataset();
	E_TransferSyntax xfer = DcmXfer(ts).getXfer();

	ds->putAndInsertString(DCM_SOPClassUID, req.AffectedSOPClassUID);
	ds->putAndInsertString(DCM_SOPInstanceUID, req.AffectedSOPInstanceUID);
	if (ff.validateMetaInfo(xfer).bad())
		return -1;
	/* validateMetaInfo takes the TS from the enum; keep the exact UID sent. */
	mi->putAndInsertString(DCM_TransferSyntaxUID, ts);
	mi->putAndInsertString(DCM_SourceApplicationEntityTitle, calling);
	if (mi->computeGroupLengthAndPadding(EGL_withGL, EPD_noChange,
	    EXS_LittleEndianExplicit, EET_ExplicitLength).bad())
		return -1;
	mi->transferInit();
	OFCondition c = mi->write(out, EXS_LittleEndianExplicit, EET_ExplicitLength, NULL);
	mi->transferEnd();
	return c.good() ? 0 : -1;
}

/* uid_ok - PS3.5 9.1: digits and dots, no empty component, at most 64. */
static bool
uid_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 64 || u[0] == '.' || u[n - 1] == '.')
		return false;
	for (; *u; u++)
		if (!((*u >= '0' && *u <= '9') || (*u == '.' && u[1] != '.')))
			return false;
	return true;
}

/*
 * check_dataset - parse the received file (up to 4 KB a value) and check
 * it against the command; m (OUT) gets its identity, and, when
 * qr_tags is not empty, m->qr = qa (OUT) its index values, unless they
 * cannot be read (logged: the instance is stored without an index row).
 */
static Uint16
check_dataset(const char *path, const T_DIMSE_C_StoreRQ &req, const char *ts,
    const std::vector<uint32_t> &qr_tags, instance_meta *m, dcm_qr_attrs *qa,
    char *why, size_t whysz)
{
	DcmFileFormat ff;
	OFCondition c;
	DcmDataset *ds;
	DcmElement *px;

	/* Whole structure, but values over 4 KB stay on disk (pixel data). */
	c = ff.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_fileOnly);
	if (c.bad()) {
		snprintf(why, whysz, "dataset cannot be parsed: %s", c.text());
		return STATUS_CANNOT_PARSE;
	}
	ds = ff.getDataset();
	if (bridge_get_uid(ds, DCM_SOPClassUID, m->sop_class_uid, sizeof(m->sop_class_uid)) == -1) {
		snprintf(why, whysz, "SOP Class UID missing or invalid");
		return STATUS_BAD_UID;
	}
	if (bridge_get_uid(ds, DCM_SOPInstanceUID, m->sop_instance_uid,
	    sizeof(m->sop_instance_uid)) == -1 || !uid_ok(m->sop_instance_uid)) {
		snprintf(why, whysz, "SOP Instance UID missing or invalid");
		return STATUS_BAD_UID;
	}
	if (strcmp(m->sop_class_uid, req.AffectedSOPClassUID) != 0) {
		snprintf(why, whysz, "SOP Class UID differs from the command");
		return STATUS_NOT_MATCH;
	}
	if (strcmp(m->sop_instance_uid, req.AffectedSOPInstanceUID) != 0) {
		snprintf(why, whysz, "SOP Instance UID differs from the command");
		return STATUS_NOT_MATCH;
	}
	if (bridge_get_uid(ds, DCM_StudyInstanceUID, m->study_uid,
	    sizeof(m->study_uid)) == -1 || !uid_ok(m->study_uid)) {
		snprintf(why, whysz, "Study Instance UID missing or invalid");
		return STATUS_BAD_UID;
	}
	if (bridge_get_uid(ds, DCM_SeriesInstanceUID, m->series_uid,
	    sizeof(m->series_uid)) == 0 && !uid_ok(m->series_uid)) {
		snprintf(why, whysz, "Series Instance UID invalid");
		return STATUS_BAD_UID;
	}
	/*
	 * PS3.5 A.4: encapsulated pixel data has undefined length, native has
	 * not.  A peer that sends compressed pixels on an uncompressed context
	 * would leave a file no viewer can decode.
	 */
	if (ds->findAndGetElement(DCM_PixelData, px).good() &&
	    (px->getLengthField() == DCM_UndefinedLength) !=
	    (DcmXfer(ts).isEncapsulated() == OFTrue)) {
		snprintf(why, whysz, "pixel data encoding does not match the "
		    "transfer syntax");
		return STATUS_CANNOT_PARSE;
	}
	snprintf(m->transfer_syntax, sizeof(m->transfer_syntax), "%s", ts);
	bridge_get_lo(ds, DCM_PatientID, m->patient_id, sizeof(m->patient_id));
	/* Last: bridge_attrs converts ds to UTF-8, and patient_id is as sent. */
	if (!qr_tags.empty()) {
		char err[512];

		qa->n = qr_tags.size();
		memcpy(qa->tags, qr_tags.data(), qa->n * sizeof(qa->tags[0]));
		if (bridge_attrs(ff, m->sop_instance_uid, qa->tags, qa->n,
		    qa->values, err, sizeof(err)) == 0)
			m->qr = qa;
		else
			log_warn("qr index: %s; not indexed", err);
	}
	return STATUS_Success;
}

/* scp_store - one C-STORE.  -1 when the association must end. */
int
scp_store(const scp_store_conf &sc, void *ctx, T_ASC_Association *as,
    T_ASC_PresentationContextID pid, T_DIMSE_C_StoreRQ &req,
    const char *calling_ae)
{
	T_ASC_PresentationContext pc;
	T_DIMSE_C_StoreRSP rsp;
	DcmDataset *detail = NULL;
	instance_meta m;
	dcm_qr_attrs qa;
	char path[4096], why[256] = "";
	Uint16 status = STATUS_Success;
	int fd;
	OFCondition c;

	if (ASC_findAcceptedPresentationContext(as->params, pid, &pc).bad())
		return -1;
	memset(&m, 0, sizeof(m));
	memset(&qa, 0, sizeof(qa));
	snprintf(m.calling_ae, sizeof(m.calling_ae), "%s", calling_ae);

	/*
	 * The context negotiated a SOP class; the command must not change
	 * it.  A context accepted with the requester as SCP only (for C-GET)
	 * does not let it send.
	 */
	if (strcmp(req.AffectedSOPClassUID, pc.abstractSyntax) != 0 ||
	    pc.acceptedRole == ASC_SC_ROLE_SCP) {
		DIC_UL bytes, pdvs;

		if (DIMSE_ignoreDataSet(as, DIMSE_NONBLOCKING, sc.dimse_timeout,
		    &bytes, &pdvs).bad())
			return -1;
		status = STATUS_NOT_SUPPORTED;
		snprintf(why, sizeof(why), "%s", pc.acceptedRole == ASC_SC_ROLE_SCP ?
		    "presentation context accepted for C-GET only" :
		    "SOP class differs from the presentation context's");
	} else if ((fd = sc.ops->tmp_open(ctx, path, sizeof(path))) == -1) {
		DIC_UL bytes, pdvs;

		log_err("sop=%s: cannot create temporary file: %s",
		    req.AffectedSOPInstanceUID, strerror(errno));
		c = DIMSE_ignoreDataSet(as, DIMSE_NONBLOCKING, sc.dimse_timeout,
		    &bytes, &pdvs);
		if (c.bad())
			return -1;
		status = STATUS_NO_RESOURCES;
		snprintf(why, sizeof(why), "out of resources: %s", strerror(errno));
	} else {
		FdConsumer cons(fd, sc.max_instance_size);
		FdStream out(&cons);
		T_ASC_PresentationContextID dpid = pid;
		uint64_t meta_len;

		if (write_meta(out, req, pc.acceptedTransferSyntax, calling_ae) == -1) {
			DIC_UL bytes, pdvs;

			sc.ops->tmp_discard(ctx, fd, path);
			if (DIMSE_ignoreDataSet(as, DIMSE_NONBLOCKING,
			    sc.dimse_timeout, &bytes, &pdvs).bad())
				return -1;
			status = STATUS_CANNOT_PARSE;
			snprintf(why, sizeof(why), "cannot build file meta information");
			goto respond;
		}
		out.flush();
		meta_len = cons.written();
		c = DIMSE_receiveDataSetInFile(as, DIMSE_NONBLOCKING,
		    sc.dimse_timeout, &dpid, &out, NULL, NULL);
		out.flush();
		cons.start_writeback();
		if (c.bad()) {
			log_warn("sop=%s from=%s: receive failed: %s",
			    req.AffectedSOPInstanceUID, calling_ae, c.text());
			sc.ops->tmp_discard(ctx, fd, path);
			return -1;
		}
		if (cons.error() == EFBIG) {
			sc.ops->tmp_discard(ctx, fd, path);
			status = STATUS_NO_RESOURCES;
			snprintf(why, sizeof(why), "instance larger than "
			    "max_instance_size (%llu bytes)",
			    (unsigned long long)sc.max_instance_size);
			goto respond;
		}
		if (cons.error() != 0) {
			log_err("sop=%s: writing %s: %s", req.AffectedSOPInstanceUID,
			    path, strerror(cons.error()));
			sc.ops->tmp_discard(ctx, fd, path);
			status = STATUS_NO_RESOURCES;
			snprintf(why, sizeof(why), "out of resources: %s",
			    strerror(cons.error()));
			goto respond;
		}
		/* DCMTK parses nesting recursively: bound it on the raw bytes. */
		if (dsscan_file(path, meta_len, pc.acceptedTransferSyntax,
		    DSSCAN_MAX_DEPTH, why, sizeof(why)) == -1) {
			sc.ops->tmp_discard(ctx, fd, path);
			status = STATUS_CANNOT_PARSE;
			goto respond;
		}
		status = check_dataset(path, req, pc.acceptedTransferSyntax,
		    sc.qr_tags, &m, &qa, why, sizeof(why));
		if (status != STATUS_Success) {
			sc.ops->tmp_discard(ctx, fd, path);
			goto respond;
		}
		switch (sc.ops->store(ctx, &m, fd, path)) {
		case DCM_STORE_OK:
			break;
		case DCM_STORE_BAD_UID:
			status = STATUS_BAD_UID;
			snprintf(why, sizeof(why), "SOP Instance UID not valid");
			break;
		case DCM_STORE_CONFLICT:
			status = STATUS_NOT_MATCH;
			snprintf(why, sizeof(why), "SOP Instance UID already "
			    "stored for another study or patient");
			break;
		default:
			status = STATUS_NO_RESOURCES;
			snprintf(why, sizeof(why), "out of resources (disk or database)");
			break;
		}
	}
respond:
	dcm_qr_attrs_clear(&qa);
	if (status != STATUS_Success) {
		log_warn("sop=%s from=%s: refused with 0x%04X: %s",
		    req.AffectedSOPInstanceUID, calling_ae, status, why);
		set_detail(&detail, why);
	}
	memset(&rsp, 0, sizeof(rsp));
	rsp.MessageIDBeingRespondedTo = req.MessageID;
	rsp.DimseStatus = status;
	rsp.DataSetType = DIMSE_DATASET_NULL;
	OFStandard::strlcpy(rsp.AffectedSOPClassUID, req.AffectedSOPClassUID,
	    sizeof(rsp.AffectedSOPClassUID));
	OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req.AffectedSOPInstanceUID,
	    sizeof(rsp.AffectedSOPInstanceUID));
	rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
	c = DIMSE_sendStoreResponse(as, pid, &req, &rsp, detail);
	delete detail;
	if (c.bad()) {
		log_warn("sop=%s from=%s: cannot send response: %s",
		    req.AffectedSOPInstanceUID, calling_ae, c.text());
		return -1;
	}
	return 0;
}
