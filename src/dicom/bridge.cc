/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridge - process-wide DCMTK set-up (dictionary, Nagle, logging) and the
 * small lookups the C side needs: SOP class names and a file's UIDs.
 * Main thread for dcm_init; the rest is thread-safe.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmtk/oflog/spi/logevent.h"
#include "dcmtk/dcmdata/dcmetinf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "core/log.h"
}
#include "dicom/dcmbridge.h"
#include "dicom/bridge_priv.h"

namespace lg = dcmtk::log4cplus;

/* DCMTK's own messages go through log.c; its INFO is chatty, so it is our debug. */
class LogAppender : public lg::Appender {
public:
	LogAppender() {}
	~LogAppender() { destructorImpl(); }
	void close() {}
protected:
	void append(const lg::spi::InternalLoggingEvent &ev)
	{
		enum log_level lv;
		lg::LogLevel l = ev.getLogLevel();

		/* Expected: check_dataset stops reading at the pixel data. */
		if (ev.getMessage().find("PixelData (7fe0,0010) encountered") !=
		    OFString_npos)
			lv = LOG_LV_DEBUG;
		else if (l >= lg::ERROR_LOG_LEVEL)
			lv = LOG_LV_ERR;
		else if (l >= lg::WARN_LOG_LEVEL)
			lv = LOG_LV_WARN;
		else
			lv = LOG_LV_DEBUG;
		log_msg(lv, "dcmtk: %s", ev.getMessage().c_str());
	}
};

extern "C" int
dcm_init(char *err, size_t errsz)
{
	try {
		/* Debian's DCMTK 3.6.7 leaves Nagle on unless this is set: 40 ms an instance. */
		if (setenv("TCP_NODELAY", "1", 1) == -1) {
			snprintf(err, errsz, "setenv TCP_NODELAY failed");
			return -1;
		}
		if (!dcmDataDict.isDictionaryLoaded()) {
			snprintf(err, errsz, "DCMTK data dictionary not loaded "
			    "(is DCMDICTPATH set wrongly?)");
			return -1;
		}
		/* Peers are identified by address; reverse DNS only adds delay. */
		dcmDisableGethostbyaddr.set(OFTrue);
		lg::SharedAppenderPtr app(new LogAppender());
		lg::Logger root = lg::Logger::getRoot();
		root.removeAllAppenders();
		root.addAppender(app);
		root.setLogLevel(log_get_level() == LOG_LV_DEBUG ?
		    lg::DEBUG_LOG_LEVEL : lg::WARN_LOG_LEVEL);
		return 0;
	} catch (...) {
		snprintf(err, errsz, "dcm_init: unexpected C++ exception");
		return -1;
	}
}

static const char *const default_classes[] = {
	UID_ComputedRadiographyImageStorage,
	UID_DigitalXRayImageStorageForPresentation,
	UID_DigitalXRayImageStorageForProcessing,
	UID_SecondaryCaptureImageStorage,
	NULL
};

extern "C" const char *const *
dcm_default_sop_classes(void)
{
	return default_classes;
}

extern "C" const char *
dcm_sop_class_uid(const char *s)
{
	const char *uid = dcmFindUIDFromName(s);

	if (uid == NULL)
		uid = dcmFindNameOfUID(s) != NULL ? s : NULL;
	if (uid == NULL || !dcmIsaStorageSOPClassUID(uid))
		return NULL;
	/* Return the dictionary's copy so the pointer outlives s. */
	const char *name = dcmFindNameOfUID(uid);
	return name ? dcmFindUIDFromName(name) : NULL;
}

extern "C" const char *
dcm_sop_class_name(const char *uid)
{
	const char *name = dcmFindNameOfUID(uid);

	return name ? name : uid;
}

extern "C" const char *
dcm_xfer_name(const char *uid)
{
	DcmXfer x(uid);

	return x.getXfer() == EXS_Unknown ? uid : x.getXferName();
}

/* bridge_get_lo - a text value, leading and trailing spaces dropped */
void
bridge_get_lo(DcmItem *item, const DcmTagKey &tag, char *out, size_t outsz)
{
	OFString v;
	size_t a, b;

	out[0] = '\0';
	if (item->findAndGetOFString(tag, v).bad())
		return;
	for (a = 0; a < v.size() && v[a] == ' '; a++)
		continue;
	for (b = v.size(); b > a && (v[b - 1] == ' ' || v[b - 1] == '\0'); b--)
		continue;
	snprintf(out, outsz, "%.*s", (int)(b - a), v.c_str() + a);
}

/* copy_uid - element value into a fixed buffer; -1 if absent or too long. */
int
bridge_get_uid(DcmItem *item, const DcmTagKey &tag, char *out, size_t outsz)
{
	OFString v;

	out[0] = '\0';
	if (item->findAndGetOFString(tag, v).bad() || v.empty())
		return -1;
	if (v.length() >= outsz)
		return -1;
	memcpy(out, v.c_str(), v.length() + 1);
	return 0;
}

int
bridge_load_header(DcmFileFormat &ff, const char *path, char *err, size_t errsz)
{
	OFCondition c = ff.loadFileUntilTag(path, EXS_Unknown, EGL_noChange,
	    DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData);

	if (c.bad()) {
		snprintf(err, errsz, "%s: %s", path, c.text());
		return -1;
	}
	return 0;
}

extern "C" int
dcm_file_meta(const char *path, struct instance_meta *m, char *err, size_t errsz)
{
	try {
		DcmFileFormat ff;

		memset(m, 0, sizeof(*m));
		if (bridge_load_header(ff, path, err, errsz) == -1)
			return -1;
		DcmDataset *ds = ff.getDataset();
		if (bridge_get_uid(ds, DCM_SOPClassUID, m->sop_class_uid, sizeof(m->sop_class_uid)) == -1 ||
		    bridge_get_uid(ds, DCM_SOPInstanceUID, m->sop_instance_uid, sizeof(m->sop_instance_uid)) == -1 ||
		    bridge_get_uid(ds, DCM_StudyInstanceUID, m->study_uid, sizeof(m->study_uid)) == -1) {
			snprintf(err, errsz, "%s: SOP Class, SOP Instance or Study "
			    "Instance UID missing or too long", path);
			return -1;
		}
		bridge_get_uid(ds, DCM_SeriesInstanceUID, m->series_uid, sizeof(m->series_uid));
		bridge_get_lo(ds, DCM_PatientID, m->patient_id, sizeof(m->patient_id));
		if (bridge_get_uid(ff.getMetaInfo(), DCM_TransferSyntaxUID,
		    m->transfer_syntax, sizeof(m->transfer_syntax)) == -1) {
			DcmXfer x(ds->getOriginalXfer());
			snprintf(m->transfer_syntax, sizeof(m->transfer_syntax),
			    "%s", x.getXferID());
		}
		return 0;
	} catch (...) {
		snprintf(err, errsz, "%s: unexpected C++ exception", path);
		return -1;
	}
}
