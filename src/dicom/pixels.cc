/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pixels - one DICOM image to 8-bit grey through DCMTK's DicomImage:
 * Modality LUT, the first VOI window (min-max when there is none),
 * MONOCHROME1 presented as DicomImage shows it (inverted), first frame.
 * Compressed pixel data is decoded by the codecs that codecs.cc
 * registers from main before threads exist.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmimgle/dcmimage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/bridge_priv.h"
#include "dicom/dcmbridge.h"

#include "dcmtk/dcmdata/dcdeftag.h"

/* Set from main before threads; read-only after. */
static uint64_t decoded_limit;

extern "C" void
dcm_set_decoded_limit(uint64_t bytes)
{
	decoded_limit = bytes;
}

/* decoded_size - what the whole pixel data decodes to, from the header. */
static uint64_t
decoded_size(DcmItem *ds)
{
	Uint16 rows = 0, cols = 0, spp = 1, bits = 0;
	Sint32 frames = 1;

	ds->findAndGetUint16(DCM_Rows, rows);
	ds->findAndGetUint16(DCM_Columns, cols);
	ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
	ds->findAndGetUint16(DCM_BitsAllocated, bits);
	if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
		frames = 1;
	return (uint64_t)rows * cols * (spp ? spp : 1) * ((bits + 7u) / 8u) *
	    (uint64_t)frames;
}

/* bridge_grey - ff's first frame as 8-bit grey; -1 with err set. */
int
bridge_grey(DcmFileFormat &ff, unsigned char **px, int *w, int *h, char *err,
    size_t errsz)
{
	DcmXfer xfer(ff.getDataset()->getOriginalXfer());
	OFCondition c;

	*px = NULL;
	/* A few compressed bytes can claim gigabytes: check before decoding. */
	uint64_t need = decoded_size(ff.getDataset());
	if (decoded_limit > 0 && need > decoded_limit) {
		snprintf(err, errsz, "pixel data would decode to %llu bytes, more "
		    "than max_decoded_size (%llu)", (unsigned long long)need,
		    (unsigned long long)decoded_limit);
		return -1;
	}
	/* Decompress first, so a codec's own complaint reaches the admin. */
	if (xfer.isEncapsulated() && (c = ff.getDataset()->chooseRepresentation(
	    EXS_LittleEndianExplicit, NULL)).bad()) {
		snprintf(err, errsz, "cannot decode transfer syntax %s (%s): %s",
		    xfer.getXferName(), xfer.getXferID(), c.text());
		return -1;
	}
	DicomImage img(&ff, EXS_LittleEndianExplicit,
	    CIF_UsePartialAccessToPixelData, 0, 1);
	if (img.getStatus() != EIS_Normal) {
		snprintf(err, errsz, "%s", DicomImage::getString(img.getStatus()));
		return -1;
	}
	if (!img.isMonochrome()) {
		snprintf(err, errsz, "not a greyscale image");
		return -1;
	}
	if (img.getWindowCount() > 0 ? !img.setWindow(0) : !img.setMinMaxWindow()) {
		snprintf(err, errsz, "cannot apply a VOI window");
		return -1;
	}
	unsigned long W = img.getWidth(), H = img.getHeight();
	const void *out = img.getOutputData(8, 0, 0);
	if (out == NULL || W == 0 || H == 0 || W > 32768 || H > 32768) {
		snprintf(err, errsz, "no pixel data could be rendered");
		return -1;
	}
	if ((*px = (unsigned char *)malloc(W * H)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(*px, out, W * H);
	*w = (int)W;
	*h = (int)H;
	return 0;
}

extern "C" int
dcm_read_grey(const char *path, unsigned char **px, int *w, int *h, char *err,
    size_t errsz)
{
	try {
		DcmFileFormat ff;
		OFCondition c = ff.loadFile(path);
		char why[768];

		*px = NULL;
		if (c.bad()) {
			snprintf(err, errsz, "%s: %s", path, c.text());
			return -1;
		}
		if (bridge_grey(ff, px, w, h, why, sizeof(why)) == -1) {
			snprintf(err, errsz, "%s: %s", path, why);
			return -1;
		}
		return 0;
	} catch (...) {
		free(*px);
		*px = NULL;
		snprintf(err, errsz, "%s: unexpected C++ exception", path);
		return -1;
	}
}
