/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_attrs - chosen attributes of a DICOM object as UTF-8 strings, for
 * the Query/Retrieve index: from a data set the bridge holds (C-STORE,
 * sr_write) or from a file (start-up recovery).  Any thread; nothing is
 * shared.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "dicom/bridge_priv.h"
#include "dicom/qr.h"

/* trimmed - v without leading and trailing spaces. */
static OFString
trimmed(const OFString &v)
{
	size_t b = v.find_first_not_of(' ');
	size_t e = v.find_last_not_of(' ');

	return b == OFString_npos ? OFString() : v.substr(b, e - b + 1);
}

/* utf8 - convert ds to UTF-8; a data set without Specific Character Set
 * but with 8-bit text is taken as UTF-8 when valid, else as ISO_IR 100. */
static int
utf8(DcmDataset *ds, const char *what, char *err, size_t errsz)
{
	OFString cs;
	OFCondition c;

	ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs);
	if (trimmed(cs) == "ISO_IR 192")
		return 0;
	c = ds->convertToUTF8();
	if (c.good())
		return 0;
	if (trimmed(cs).empty()) {
		/* convertToUTF8 took it as ASCII and met 8-bit bytes */
		c = ds->convertCharacterSet("ISO_IR 100", "ISO_IR 192", 0, OFTrue);
		if (c.good())
			return 0;
	}
	snprintf(err, errsz, "%s: cannot convert from \"%s\" to UTF-8: %s",
	    what, cs.c_str(), c.text());
	return -1;
}

/* bridge_attrs - chosen attributes of ff as UTF-8 strings */
int
bridge_attrs(DcmFileFormat &ff, const char *what, const uint32_t *tags,
    size_t ntags, char **values, char *err, size_t errsz)
{
	size_t i = 0;

	for (size_t k = 0; k < ntags; k++)
		values[k] = NULL;
	try {
		DcmDataset *ds = ff.getDataset();

		if (utf8(ds, what, err, errsz) == -1)
			return -1;
		for (i = 0; i < ntags; i++) {
			DcmTagKey key((Uint16)(tags[i] >> 16), (Uint16)(tags[i] & 0xffff));
			DcmItem *from = key.getGroup() == 0x0002 ?
			    (DcmItem *)ff.getMetaInfo() : (DcmItem *)ds;
			OFString v;

			if (from->findAndGetOFStringArray(key, v).bad())
				continue;
			v = trimmed(v);
			if (v.empty())
				continue;
			if ((values[i] = strdup(v.c_str())) == NULL)
				throw std::bad_alloc();
		}
		if (ff.getMetaInfo()->tagExistsWithValue(DCM_TransferSyntaxUID))
			return 0;
		/* a raw dataset: the transfer syntax it was read in */
		for (i = 0; i < ntags; i++)
			if (tags[i] == DCM_QR_TAG(0x0002, 0x0010) && values[i] == NULL &&
			    (values[i] = strdup(DcmXfer(ds->getOriginalXfer()).getXferID())) == NULL)
				throw std::bad_alloc();
		return 0;
	} catch (...) {
		for (size_t k = 0; k < ntags; k++) {
			free(values[k]);
			values[k] = NULL;
		}
		snprintf(err, errsz, "%s: unexpected C++ exception", what);
		return -1;
	}
}

/* dcm_attrs_read - chosen attributes of a file as UTF-8 strings */
extern "C" int
dcm_attrs_read(const char *path, const uint32_t *tags, size_t ntags,
    char **values, char *err, size_t errsz)
{
	for (size_t k = 0; k < ntags; k++)
		values[k] = NULL;
	try {
		DcmFileFormat ff;

		if (bridge_load_header(ff, path, err, errsz) == -1)
			return -1;
		return bridge_attrs(ff, path, tags, ntags, values, err, errsz);
	} catch (...) {
		snprintf(err, errsz, "%s: unexpected C++ exception", path);
		return -1;
	}
}

/* dcm_qr_attrs_clear - the values go, the tags stay */
extern "C" void
dcm_qr_attrs_clear(struct dcm_qr_attrs *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n && i < DCM_QR_ATTRS_MAX; i++) {
		free(a->values[i]);
		a->values[i] = NULL;
	}
}
