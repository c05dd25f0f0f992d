/* SPDX-License-Identifier: GPL-2.0-or-later */
/* attrs - the descriptive attributes the worker chooses views by. */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"

#include <stdio.h>
#include <string.h>

#include "dicom/bridge_priv.h"
#include "dicom/dcmbridge.h"

/* get - a string attribute, trimmed, truncated to sz - 1; "" if absent. */
static void
get(DcmDataset *ds, const DcmTagKey &tag, char *out, size_t sz)
{
	OFString v;

	out[0] = '\0';
	if (ds->findAndGetOFStringArray(tag, v).bad())
		return;
	size_t b = v.find_first_not_of(' ');
	size_t e = v.find_last_not_of(' ');
	if (b == OFString_npos)
		return;
	v = v.substr(b, e - b + 1);
	snprintf(out, sz, "%s", v.c_str());
}

extern "C" int
dcm_image_info(const char *path, struct dcm_image_info *in, char *err,
    size_t errsz)
{
	try {
		DcmFileFormat ff;
		Uint16 u16;
		Sint32 s32;

		memset(in, 0, sizeof(*in));
		if (bridge_load_header(ff, path, err, errsz) == -1)
			return -1;
		DcmDataset *ds = ff.getDataset();
		get(ds, DCM_Modality, in->modality, sizeof(in->modality));
		get(ds, DCM_BodyPartExamined, in->body_part, sizeof(in->body_part));
		get(ds, DCM_ViewPosition, in->view_position, sizeof(in->view_position));
		get(ds, DCM_ImageLaterality, in->laterality, sizeof(in->laterality));
		get(ds, DCM_SeriesDescription, in->series_description,
		    sizeof(in->series_description));
		get(ds, DCM_StudyDescription, in->study_description,
		    sizeof(in->study_description));
		get(ds, DCM_ProtocolName, in->protocol_name, sizeof(in->protocol_name));
		get(ds, DCM_ImageComments, in->image_comments,
		    sizeof(in->image_comments));
		get(ds, DCM_PhotometricInterpretation, in->photometric,
		    sizeof(in->photometric));
		if (ds->findAndGetSint32(DCM_InstanceNumber, s32).good())
			in->instance_number = (int)s32;
		if (ds->findAndGetUint16(DCM_Rows, u16).good())
			in->rows = u16;
		if (ds->findAndGetUint16(DCM_Columns, u16).good())
			in->columns = u16;
		return 0;
	} catch (...) {
		snprintf(err, errsz, "%s: unexpected C++ exception", path);
		return -1;
	}
}
