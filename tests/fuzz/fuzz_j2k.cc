/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_j2k - libFuzzer harness for the JPEG 2000 decoder (src/dicom/j2k.cc)
 * behind DCMTK: an in-memory data set with encapsulated JPEG 2000 pixel
 * data built from the input, decoded with chooseRepresentation (or frame
 * by frame first, as DicomImage's partial access does) and rendered with
 * bridge_grey.  A decode must give exactly the frames' bytes; a failure
 * must carry a non-empty error text.  Otherwise the harness aborts.
 *
 * Input: 7 header bytes, then the codestream bytes.
 *   0-1  Rows    = 1 + (le16 % 512)
 *   2-3  Columns = 1 + (le16 % 512)
 *   4    bit 0: Bits Allocated 16 (else 8); bit 1: Samples per Pixel 3;
 *        bits 2-3: Number of Frames 1 + (v % 3); bit 4: Pixel
 *        Representation 1; bit 5: JPEG 2000 (.91, else lossless .90);
 *        bit 6: MONOCHROME1 / YBR_RCT (.90) or YBR_ICT (.91), else
 *        MONOCHROME2 / RGB; bit 7: decode frame by frame first
 *   5    Bits Stored = Bits Allocated - (v % Bits Allocated)
 *   6    fragment size: 0 = one fragment per codestream, else v * 16 bytes
 * With several frames the rest is cut before every SOC SIZ (FF4F FF51)
 * after its first byte, so N concatenated codestreams are N frames; each
 * piece is then cut into fragments of the given size (DCMTK pads an odd
 * fragment with a zero byte, as a DICOM writer must).  The offset table
 * item is empty.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/oflog/oflog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "dicom/bridge_priv.h"
#include "dicom/j2k.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define HDR	7

static int verbose;	/* FUZZ_J2K_VERBOSE set: each outcome on stderr */

extern "C" int
LLVMFuzzerInitialize(int *, char ***)
{
	verbose = getenv("FUZZ_J2K_VERBOSE") != NULL;
	OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
	j2k_register(1);
	return 0;
}

static void
need_text(const OFCondition &c)
{
	if (c.text() == NULL || c.text()[0] == '\0')
		abort();
}

static void
add_fragments(DcmPixelSequence *seq, const uint8_t *p, size_t n, size_t fsz)
{
	do {
		size_t k = fsz == 0 || n < fsz ? n : fsz;
		DcmPixelItem *it = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));

		if (k > 0)
			it->putUint8Array(p, (Uint32)k);
		seq->insert(it);
		p += k;
		n -= k;
	} while (n > 0);
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HDR + 4)
		return 0;
	Uint16 rows = 1 + (data[0] | data[1] << 8) % 512;
	Uint16 cols = 1 + (data[2] | data[3] << 8) % 512;
	uint8_t f = data[4];
	Uint16 bits = f & 1 ? 16 : 8, spp = f & 2 ? 3 : 1;
	Uint32 frames = 1 + ((f >> 2) & 3) % 3;
	bool lossy = f & 0x20, alt = f & 0x40, per_frame = f & 0x80;
	Uint16 stored = bits - data[5] % bits;
	size_t fsz = (size_t)data[6] * 16;
	const uint8_t *p = data + HDR;
	size_t n = size - HDR;
	size_t frame_bytes = (size_t)rows * cols * spp * (bits / 8);
	size_t total = frame_bytes * frames;
	E_TransferSyntax ts = lossy ? EXS_JPEG2000 : EXS_JPEG2000LosslessOnly;
	const char *pi = spp == 1 ? (alt ? "MONOCHROME1" : "MONOCHROME2") :
	    !alt ? "RGB" : lossy ? "YBR_ICT" : "YBR_RCT";

	DcmFileFormat ff;
	DcmDataset *ds = ff.getDataset();
	ds->putAndInsertUint16(DCM_Rows, rows);
	ds->putAndInsertUint16(DCM_Columns, cols);
	ds->putAndInsertUint16(DCM_BitsAllocated, bits);
	ds->putAndInsertUint16(DCM_BitsStored, stored);
	ds->putAndInsertUint16(DCM_HighBit, stored - 1);
	ds->putAndInsertUint16(DCM_SamplesPerPixel, spp);
	ds->putAndInsertUint16(DCM_PixelRepresentation, f & 0x10 ? 1 : 0);
	ds->putAndInsertString(DCM_PhotometricInterpretation, pi);
	if (spp == 3)
		ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
	if (frames > 1)
		ds->putAndInsertString(DCM_NumberOfFrames,
		    frames == 2 ? "2" : "3");

	DcmPixelSequence *seq = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
	seq->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));
	size_t start = 0;
	for (size_t i = 1; frames > 1 && i + 4 <= n; i++)
		if (p[i] == 0xff && p[i + 1] == 0x4f && p[i + 2] == 0xff &&
		    p[i + 3] == 0x51) {
			add_fragments(seq, p + start, i - start, fsz);
			start = i;
		}
	add_fragments(seq, p + start, n - start, fsz);
	DcmPixelData *px = new DcmPixelData(DCM_PixelData);
	px->putOriginalRepresentation(ts, NULL, seq);
	ds->insert(px);

	/* Frame by frame on the compressed representation (decodeFrame). */
	std::vector<Uint8> frames_out;
	bool frames_ok = false;
	if (per_frame) {
		Uint32 fsize = 0, startfrag = 0;
		OFString model;
		OFCondition c = px->getUncompressedFrameSize(ds, fsize);

		if (c.bad() || fsize != frame_bytes)
			abort();
		frames_out.resize(total + 1);
		frames_ok = true;
		for (Uint32 i = 0; i < frames && frames_ok; i++) {
			c = px->getUncompressedFrame(ds, i, startfrag,
			    &frames_out[i * frame_bytes],
			    (Uint32)(frame_bytes + (frame_bytes & 1)), model);
			if (c.bad()) {
				need_text(c);
				frames_ok = false;
			} else if (model.empty())
				abort();
		}
		/* The last frame again without knowing where it starts. */
		if (frames_ok && frames > 1) {
			std::vector<Uint8> again(frame_bytes + 1);

			startfrag = 0;
			c = px->getUncompressedFrame(ds, frames - 1, startfrag,
			    again.data(), (Uint32)(frame_bytes + (frame_bytes & 1)),
			    model);
			if (c.bad())
				need_text(c);
			else if (memcmp(again.data(),
			    &frames_out[(frames - 1) * frame_bytes], frame_bytes))
				abort();
		}
	}

	OFCondition c = ds->chooseRepresentation(EXS_LittleEndianExplicit, NULL);
	if (verbose)
		fprintf(stderr, "fuzz_j2k: %ux%u x%u %u-bit %u frame(s)%s: %s\n",
		    cols, rows, spp, bits, frames, per_frame ? " per frame" : "",
		    c.text());
	if (c.bad()) {
		need_text(c);
		/* decode() and decodeFrame() read the same fragments alike. */
		if (frames_ok)
			abort();
		return 0;
	}
	Uint8 *out = NULL;
	if (px->getUint8Array(out).bad() || out == NULL ||
	    px->getLength() != total + (total & 1))
		abort();
	unsigned sum = 0;
	for (size_t i = 0; i < total; i++)
		sum += out[i];
	if (per_frame && (!frames_ok || memcmp(out, frames_out.data(), total)))
		abort();

	unsigned char *grey = NULL;
	int w = 0, h = 0;
	char err[512];
	err[0] = '\0';
	if (bridge_grey(ff, &grey, &w, &h, err, sizeof(err)) == 0) {
		if (w != cols || h != rows)
			abort();
		for (size_t i = 0; i < (size_t)w * h; i++)
			sum += grey[i];
		free(grey);
	} else if (err[0] == '\0')
		abort();
	if (verbose)
		fprintf(stderr, "fuzz_j2k: rendered: %s\n", err[0] ? err : "yes");
	return sum == 0xdeadbeef;
}
