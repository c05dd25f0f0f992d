/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * codecs - the transfer syntaxes radscribed accepts for storage, the
 * decoders that let the worker read every one of them (DCMTK's JPEG,
 * JPEG-LS and RLE, and j2k.cc's OpenJPEG decoder), and the start-up
 * self-check that decodes a built-in image in each.  Registration and the
 * check run in main before any thread exists; the list is static.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/bridge_priv.h"
#include "dicom/dcmbridge.h"
#include "dicom/j2k.h"

/*
 * What we accept for storage (PS3.5 A and 8), in our order of preference
 * when a peer proposes several in one context (we take the peer's order).
 * HTJ2K (.201-.203) is missing because DCMTK 3.6.7 does not know those
 * syntaxes: it could neither parse nor index such a data set.
 */
static const char *const store_ts[] = {
	UID_LittleEndianExplicitTransferSyntax,
	UID_LittleEndianImplicitTransferSyntax,
	UID_DeflatedExplicitVRLittleEndianTransferSyntax,
	UID_JPEGProcess14SV1TransferSyntax,
	UID_JPEGLSLosslessTransferSyntax,
	UID_RLELosslessTransferSyntax,
	UID_JPEG2000LosslessOnlyTransferSyntax,
	UID_JPEGProcess1TransferSyntax,
	UID_JPEGProcess2_4TransferSyntax,
	UID_JPEGLSLossyTransferSyntax,
	UID_JPEG2000TransferSyntax,
	NULL
};

struct selftest_image {
	const char		*ts;
	const char		*name;
	int			 bits;		/* 8: v = 8x + 6y; 12: v = 128x + 120y */
	const unsigned char	*data;
	size_t			 len;
};
#include "dicom/selftest_images.inc"

static int registered;

extern "C" const char *const *
dcm_store_syntaxes(void)
{
	return store_ts;
}

/* dcm_codecs_init - every decoder the accepted syntaxes need */
extern "C" void
dcm_codecs_init(int threads)
{
	if (registered)
		return;
	DJDecoderRegistration::registerCodecs();
	DJLSDecoderRegistration::registerCodecs();
	DcmRLEDecoderRegistration::registerCodecs();
	j2k_register(threads);
	registered = 1;
}

/* dcm_codecs_fini - deregister them (tests) */
extern "C" void
dcm_codecs_fini(void)
{
	DJDecoderRegistration::cleanup();
	DJLSDecoderRegistration::cleanup();
	DcmRLEDecoderRegistration::cleanup();
	j2k_deregister();
	registered = 0;
}

static const selftest_image *
find_image(const char *ts)
{
	for (size_t i = 0; i < sizeof(selftest_images) / sizeof(selftest_images[0]); i++)
		if (strcmp(selftest_images[i].ts, ts) == 0)
			return &selftest_images[i];
	return NULL;
}

/* check_one - decode im and compare with its formula; -1 with err set. */
static int
check_one(const selftest_image *im, char *err, size_t errsz)
{
	DcmXfer x(im->ts);
	DcmFileFormat ff;
	DcmInputBufferStream in;
	const Uint16 *w = NULL;
	const Uint8 *b = NULL;
	unsigned char *grey = NULL;
	unsigned long n = 0;
	int gw, gh, maxerr = 0;
	char why[512];
	OFCondition c;

	in.setBuffer(im->data, (offile_off_t)im->len);
	in.setEos();
	ff.transferInit();
	c = ff.read(in, EXS_Unknown);
	ff.transferEnd();
	if (c.bad()) {
		snprintf(err, errsz, "%s: cannot parse: %s", x.getXferName(), c.text());
		return -1;
	}
	DcmDataset *ds = ff.getDataset();
	if (ds->getOriginalXfer() != x.getXfer()) {
		snprintf(err, errsz, "%s: built-in image is in %s", x.getXferName(),
		    DcmXfer(ds->getOriginalXfer()).getXferName());
		return -1;
	}
	if (x.isEncapsulated() &&
	    (c = ds->chooseRepresentation(EXS_LittleEndianExplicit, NULL)).bad()) {
		snprintf(err, errsz, "%s: cannot decode: %s", x.getXferName(),
		    c.text());
		return -1;
	}
	if (im->bits == 8)
		c = ds->findAndGetUint8Array(DCM_PixelData, b, &n);
	else
		c = ds->findAndGetUint16Array(DCM_PixelData, w, &n);
	if (c.bad() || (b == NULL && w == NULL) || n < 256) {
		snprintf(err, errsz, "%s: no pixel data after decoding",
		    x.getXferName());
		return -1;
	}
	for (int y = 0; y < 16; y++)
		for (int xx = 0; xx < 16; xx++) {
			int want = im->bits == 8 ? 8 * xx + 6 * y : 128 * xx + 120 * y;
			int got = im->bits == 8 ? b[y * 16 + xx] : w[y * 16 + xx];
			int d = abs(got - want);

			if (d > maxerr)
				maxerr = d;
		}
	/* Lossless must be exact; lossy within 1/16 of the 8- or 12-bit range. */
	if (x.isLossless() ? maxerr != 0 : maxerr > (im->bits == 8 ? 16 : 256)) {
		snprintf(err, errsz, "%s: decoded pixels differ from the image "
		    "by up to %d", x.getXferName(), maxerr);
		return -1;
	}
	/* The rest of the worker's path: windowing to 8-bit grey. */
	if (bridge_grey(ff, &grey, &gw, &gh, why, sizeof(why)) == -1) {
		snprintf(err, errsz, "%s: %s", x.getXferName(), why);
		return -1;
	}
	free(grey);
	if (gw != 16 || gh != 16) {
		snprintf(err, errsz, "%s: rendered as %dx%d", x.getXferName(), gw, gh);
		return -1;
	}
	return 0;
}

/* dcm_codecs_check - decode a built-in image in every accepted syntax */
extern "C" int
dcm_codecs_check(char *err, size_t errsz)
{
	try {
		int n = 0;

		for (const char *const *ts = store_ts; *ts != NULL; ts++) {
			const selftest_image *im = find_image(*ts);

			if (im == NULL) {
				snprintf(err, errsz, "%s (%s): no built-in image "
				    "to check it with", DcmXfer(*ts).getXferName(), *ts);
				return -1;
			}
			if (check_one(im, err, errsz) == -1)
				return -1;
			n++;
		}
		return n;
	} catch (...) {
		snprintf(err, errsz, "codec self-check: unexpected C++ exception");
		return -1;
	}
}
