/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pixels - one DICOM image to 8-bit grey through DCMTK's DicomImage:
 * Modality LUT, the first VOI window (min-max when there is none),
 * MONOCHROME1 presented as DicomImage shows it (inverted), first frame.
 * Decoders for every transfer syntax radscribed accepts are registered by
 * dcm_codecs_init, from main, before threads exist.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmimgle/dcmimage.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/dcmbridge.h"

extern "C" void
dcm_codecs_init(void)
{
	DJDecoderRegistration::registerCodecs();
	DJLSDecoderRegistration::registerCodecs();
	DcmRLEDecoderRegistration::registerCodecs();
}

extern "C" int
dcm_read_grey(const char *path, unsigned char **px, int *w, int *h, char *err,
    size_t errsz)
{
	try {
		DcmFileFormat ff;
		OFCondition c = ff.loadFile(path);

		*px = NULL;
		if (c.bad()) {
			snprintf(err, errsz, "%s: %s", path, c.text());
			return -1;
		}
		DcmXfer xfer(ff.getDataset()->getOriginalXfer());
		/* Decompress first, so an unsupported codec is named as such. */
		if (xfer.isEncapsulated() && ff.getDataset()->chooseRepresentation(
		    EXS_LittleEndianExplicit, NULL).bad()) {
			snprintf(err, errsz, "%s: cannot decode transfer syntax %s (%s)",
			    path, xfer.getXferName(), xfer.getXferID());
			return -1;
		}
		DicomImage img(&ff, EXS_LittleEndianExplicit,
		    CIF_UsePartialAccessToPixelData, 0, 1);
		if (img.getStatus() != EIS_Normal) {
			snprintf(err, errsz, "%s: %s", path,
			    DicomImage::getString(img.getStatus()));
			return -1;
		}
		if (!img.isMonochrome()) {
			snprintf(err, errsz, "%s: not a greyscale image", path);
			return -1;
		}
		if (img.getWindowCount() > 0 ? !img.setWindow(0) : !img.setMinMaxWindow()) {
			snprintf(err, errsz, "%s: cannot apply a VOI window", path);
			return -1;
		}
		unsigned long W = img.getWidth(), H = img.getHeight();
		const void *out = img.getOutputData(8, 0, 0);
		if (out == NULL || W == 0 || H == 0 || W > 32768 || H > 32768) {
			snprintf(err, errsz, "%s: no pixel data could be rendered", path);
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
	} catch (...) {
		snprintf(err, errsz, "%s: unexpected C++ exception", path);
		return -1;
	}
}
