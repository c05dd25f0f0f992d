/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * j2k - JPEG 2000 pixel data decoded by OpenJPEG behind DCMTK's codec
 * interface.  Each call builds its own OpenJPEG codec and stream, so any
 * thread may decode; registration happens in main.  A codestream OpenJPEG
 * cannot read becomes an OFCondition whose text is OpenJPEG's first error,
 * never a crash: strict mode stays on, so a codestream cut inside a
 * tile-part is an error, while the faults OpenJPEG itself forgives (odd
 * COM markers, tile-part counts) still decode.  OpenJPEG does not report
 * tiles that are missing altogether (a codestream that ends with EOC after
 * its first tile-part decodes with the rest zero), and JPEG 2000 has no
 * checksum, so damaged compressed data can decode to a wrong image.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcstack.h"
#include "dcmtk/dcmdata/dcswap.h"
#include "dcmtk/dcmdata/dcvrpobw.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <openjpeg.h>

#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

extern "C" {
#include "core/log.h"
}
#include "dicom/j2k.h"

/* Condition codes of our own, above DCMTK's dcmdata range. */
#define J2K_EC_CODE	0x7a00

/* Largest image we decode: a 32768 x 32768 x 3 x 16-bit frame set must
 * still fit DICOM's 32-bit value length. */
#define J2K_MAX_SIDE	32768

class J2kParam : public DcmCodecParameter {
public:
	explicit J2kParam(int threads) : threads_(threads) {}
	DcmCodecParameter *clone() const { return new J2kParam(threads_); }
	const char *className() const { return "J2kParam"; }
	int threads() const { return threads_; }
private:
	int threads_;
};

/* What DICOM says the frames are; every decoded codestream must agree. */
struct j2k_frame_desc {
	Uint16	rows, cols, spp, bits_alloc, bits_stored;
	Uint32	frames;
	size_t	frame_bytes;
	std::string photometric;
};

static OFCondition
j2k_error(const std::string &what)
{
	return OFCondition(OFM_dcmdata, J2K_EC_CODE, OF_error,
	    ("JPEG 2000: " + what).c_str());
}

/* ---- OpenJPEG over a memory buffer ---- */

struct memsrc {
	const Uint8	*p;
	size_t		 n, off;
};

static OPJ_SIZE_T
mem_read(void *buf, OPJ_SIZE_T n, void *u)
{
	memsrc *m = static_cast<memsrc *>(u);

	if (m->off >= m->n)
		return (OPJ_SIZE_T)-1;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return n;
}

static OPJ_OFF_T
mem_skip(OPJ_OFF_T n, void *u)
{
	memsrc *m = static_cast<memsrc *>(u);

	if (n < 0 && (size_t)-n > m->off)
		return -1;
	if (n > 0 && (size_t)n > m->n - m->off)
		n = (OPJ_OFF_T)(m->n - m->off);
	m->off = (size_t)((OPJ_OFF_T)m->off + n);
	return n;
}

static OPJ_BOOL
mem_seek(OPJ_OFF_T pos, void *u)
{
	memsrc *m = static_cast<memsrc *>(u);

	if (pos < 0 || (OPJ_UINT64)pos > m->n)
		return OPJ_FALSE;
	m->off = (size_t)pos;
	return OPJ_TRUE;
}

/* OpenJPEG reports through callbacks: keep the first error, log the rest. */
static void
opj_err(const char *msg, void *u)
{
	std::string *first = static_cast<std::string *>(u);
	std::string s(msg);

	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	if (first->empty())
		*first = s;
	log_debug("openjpeg: %s", s.c_str());
}

static void
opj_warn(const char *msg, void *)
{
	std::string s(msg);

	while (!s.empty() && s.back() == '\n')
		s.pop_back();
	log_debug("openjpeg warning: %s", s.c_str());
}

static bool
is_jp2(const Uint8 *p, size_t n)
{
	static const Uint8 sig[12] = { 0, 0, 0, 0x0c, 'j', 'P', ' ', ' ',
	    0x0d, 0x0a, 0x87, 0x0a };

	return n >= sizeof(sig) && memcmp(p, sig, sizeof(sig)) == 0;
}

/* starts_frame - a fragment that opens a codestream (SOC, SIZ) or a JP2 file. */
static bool
starts_frame(const Uint8 *p, size_t n)
{
	return (n >= 4 && p[0] == 0xff && p[1] == 0x4f && p[2] == 0xff &&
	    p[3] == 0x51) || is_jp2(p, n);
}

/*
 * check_size - the components' geometry against the data set, on the
 * header before decoding too: OpenJPEG allocates what SIZ declares, so a
 * few bytes claiming a 1660944384 x 16 image must stop here.  The first
 * component at full size bounds every other one.
 */
static OFCondition
check_size(const opj_image_t *img, const j2k_frame_desc &d)
{
	for (Uint16 c = 0; c < d.spp && c < img->numcomps; c++) {
		const opj_image_comp_t *k = &img->comps[c];

		if (k->dx != 1 || k->dy != 1)
			return j2k_error("codestream component " +
			    std::to_string(c) + " is subsampled " +
			    std::to_string(k->dx) + "x" + std::to_string(k->dy) +
			    ", not supported");
		if (k->w != d.cols || k->h != d.rows)
			return j2k_error("codestream image is " +
			    std::to_string(k->w) + "x" + std::to_string(k->h) +
			    ", the data set says " + std::to_string(d.cols) + "x" +
			    std::to_string(d.rows));
	}
	return EC_Normal;
}

/* Real equipment writes one tile, or a grid of a few dozen; OpenJPEG's
 * header parsing costs time and memory per declared tile. */
#define J2K_MAX_TILES	4096

static uint32_t
be32(const Uint8 *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * check_siz - the SIZ marker segment (ITU-T T.800 A.5.1), read before
 * OpenJPEG sees the codestream: its image size must be the data set's and
 * its tiles few, since OpenJPEG allocates for what SIZ declares.
 */
static OFCondition
check_siz(const Uint8 *p, size_t n, const j2k_frame_desc &d)
{
	size_t at = 0;

	/* A JP2 file: the codestream is in the jp2c box; find its SOC SIZ. */
	if (is_jp2(p, n)) {
		for (at = 12; at + 4 <= n && at < 4096; at++)
			if (p[at] == 0xff && p[at + 1] == 0x4f && p[at + 2] == 0xff &&
			    p[at + 3] == 0x51)
				break;
		if (at + 4 > n || at >= 4096)
			return j2k_error("JP2 file without a codestream header");
	}
	if (n - at < 4 + 2 + 2 + 32)
		return j2k_error("codestream too short for its SIZ marker");
	const Uint8 *z = p + at + 4;	/* Lsiz */
	uint32_t xsiz = be32(z + 4), ysiz = be32(z + 8), xo = be32(z + 12),
	    yo = be32(z + 16), xt = be32(z + 20), yt = be32(z + 24),
	    xto = be32(z + 28), yto = be32(z + 32);
	if (xsiz <= xo || ysiz <= yo || xt == 0 || yt == 0 || xto > xo ||
	    yto > yo)
		return j2k_error("SIZ marker describes no image");
	if (xsiz - xo != d.cols || ysiz - yo != d.rows)
		return j2k_error("codestream image is " + std::to_string(xsiz - xo) +
		    "x" + std::to_string(ysiz - yo) + ", the data set says " +
		    std::to_string(d.cols) + "x" + std::to_string(d.rows));
	uint64_t tiles = (uint64_t)((xsiz - xto + xt - 1) / xt) *
	    ((ysiz - yto + yt - 1) / yt);
	if (tiles > J2K_MAX_TILES)
		return j2k_error("codestream declares " + std::to_string(tiles) +
		    " tiles, more than " + std::to_string(J2K_MAX_TILES));
	return EC_Normal;
}

/* store_frame - the decoded components into out, interleaved (PS3.5 8.2.4). */
static OFCondition
store_frame(const opj_image_t *img, const j2k_frame_desc &d, Uint8 *out)
{
	OFCondition rc;

	if (img->numcomps < d.spp)
		return j2k_error("codestream has " + std::to_string(img->numcomps) +
		    " components, Samples per Pixel is " + std::to_string(d.spp));
	if ((rc = check_size(img, d)).bad())
		return rc;
	for (Uint16 c = 0; c < d.spp; c++) {
		const opj_image_comp_t *k = &img->comps[c];

		if (k->data == NULL)
			return j2k_error("component " + std::to_string(c) +
			    " was not decoded");
		if (k->prec > d.bits_alloc)
			return j2k_error("codestream precision " +
			    std::to_string(k->prec) + " bits exceeds Bits "
			    "Allocated " + std::to_string(d.bits_alloc));
	}
	size_t npx = (size_t)d.rows * d.cols;
	for (Uint16 c = 0; c < d.spp; c++) {
		const OPJ_INT32 *src = img->comps[c].data;

		if (d.bits_alloc == 8) {
			for (size_t i = 0; i < npx; i++)
				out[i * d.spp + c] = (Uint8)src[i];
		} else {
			Uint16 *o = reinterpret_cast<Uint16 *>(out);

			for (size_t i = 0; i < npx; i++)
				o[i * d.spp + c] = (Uint16)src[i];
		}
	}
	return EC_Normal;
}

/* decode_buffer - one frame's codestream into out (frame_bytes). */
static OFCondition
decode_buffer(const Uint8 *p, size_t n, const j2k_frame_desc &d, int threads,
    Uint8 *out)
{
	opj_dparameters_t prm;
	opj_codec_t *codec = NULL;
	opj_stream_t *st = NULL;
	opj_image_t *img = NULL;
	std::string first;
	memsrc src = { p, n, 0 };
	OFCondition rc = EC_Normal;

	if (n < 4 || !starts_frame(p, n))
		return j2k_error("fragment is not a JPEG 2000 codestream "
		    "(no SOC/SIZ marker)");
	if ((rc = check_siz(p, n, d)).bad())
		return rc;
	opj_set_default_decoder_parameters(&prm);
	codec = opj_create_decompress(is_jp2(p, n) ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (codec == NULL)
		return j2k_error("cannot create an OpenJPEG decoder");
	opj_set_error_handler(codec, opj_err, &first);
	opj_set_warning_handler(codec, opj_warn, NULL);
	opj_set_info_handler(codec, NULL, NULL);
	if (!opj_setup_decoder(codec, &prm)) {
		rc = j2k_error("cannot set up the decoder: " + first);
		goto out;
	}
	if (threads > 1 && opj_has_thread_support())
		opj_codec_set_threads(codec, threads);
	if ((st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE)) == NULL) {
		rc = j2k_error("cannot create a stream");
		goto out;
	}
	opj_stream_set_user_data(st, &src, NULL);
	opj_stream_set_user_data_length(st, n);
	opj_stream_set_read_function(st, mem_read);
	opj_stream_set_skip_function(st, mem_skip);
	opj_stream_set_seek_function(st, mem_seek);
	if (!opj_read_header(st, codec, &img)) {
		rc = j2k_error("cannot read the codestream header: " +
		    (first.empty() ? std::string("unknown error") : first));
		goto out;
	}
	if ((rc = check_size(img, d)).bad())
		goto out;
	if (!opj_decode(codec, st, img) || !opj_end_decompress(codec, st)) {
		rc = j2k_error("cannot decode the codestream: " +
		    (first.empty() ? std::string("unknown error") : first));
		goto out;
	}
	rc = store_frame(img, d, out);
out:
	if (img != NULL)
		opj_image_destroy(img);
	if (st != NULL)
		opj_stream_destroy(st);
	opj_destroy_codec(codec);
	return rc;
}

/*
 * frame_codestream - the bytes of frame no: one frame takes every fragment
 * after the offset table; with several frames a frame runs from its
 * start fragment to the next fragment that opens a codestream.
 * *next (OUT) is the fragment after it.
 */
static OFCondition
frame_codestream(DcmPixelSequence *seq, Uint32 frames, Uint32 no,
    Uint32 start, std::vector<Uint8> &buf, Uint32 *next)
{
	unsigned long nitems = seq->card();
	DcmPixelItem *it;
	Uint8 *p;

	buf.clear();
	if (start == 0) {
		if (frames <= 1)
			start = 1;
		else if (DcmCodec::determineStartFragment(no, (Sint32)frames,
		    seq, start).bad())
			return j2k_error("cannot find the fragments of frame " +
			    std::to_string(no + 1));
	}
	for (Uint32 i = start; i < nitems; i++) {
		if (seq->getItem(it, i).bad())
			return j2k_error("cannot read fragment " + std::to_string(i));
		Uint32 len = it->getLength();
		if (len == 0)
			continue;
		if (it->getUint8Array(p).bad() || p == NULL)
			return j2k_error("cannot read fragment " + std::to_string(i));
		if (frames > 1 && i > start && starts_frame(p, len)) {
			*next = i;
			return EC_Normal;
		}
		buf.insert(buf.end(), p, p + len);
	}
	*next = (Uint32)nitems;
	if (buf.empty())
		return j2k_error("frame " + std::to_string(no + 1) +
		    " has no pixel data fragments");
	return EC_Normal;
}

/* describe - Image Pixel attributes of the item holding the pixel data. */
static OFCondition
describe(DcmItem *ds, j2k_frame_desc &d)
{
	Sint32 frames = 1;
	OFString pi;

	if (ds->findAndGetUint16(DCM_Rows, d.rows).bad() ||
	    ds->findAndGetUint16(DCM_Columns, d.cols).bad() ||
	    ds->findAndGetUint16(DCM_BitsAllocated, d.bits_alloc).bad())
		return j2k_error("Rows, Columns or Bits Allocated missing");
	if (ds->findAndGetUint16(DCM_SamplesPerPixel, d.spp).bad())
		d.spp = 1;
	if (ds->findAndGetUint16(DCM_BitsStored, d.bits_stored).bad())
		d.bits_stored = d.bits_alloc;
	if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1)
		frames = 1;
	if (ds->findAndGetOFString(DCM_PhotometricInterpretation, pi).good())
		d.photometric = pi.c_str();
	if (d.rows == 0 || d.cols == 0 || d.rows > J2K_MAX_SIDE ||
	    d.cols > J2K_MAX_SIDE)
		return j2k_error("image size " + std::to_string(d.cols) + "x" +
		    std::to_string(d.rows) + " not supported");
	if (d.bits_alloc != 8 && d.bits_alloc != 16)
		return j2k_error("Bits Allocated " + std::to_string(d.bits_alloc) +
		    " not supported (8 or 16)");
	if (d.spp != 1 && d.spp != 3)
		return j2k_error("Samples per Pixel " + std::to_string(d.spp) +
		    " not supported (1 or 3)");
	d.frames = (Uint32)frames;
	d.frame_bytes = (size_t)d.rows * d.cols * d.spp * (d.bits_alloc / 8);
	if ((unsigned long long)d.frame_bytes * d.frames > 0xfffffffeULL)
		return j2k_error("pixel data larger than 4 GB");
	return EC_Normal;
}

/* The colour model after decoding: OpenJPEG undoes the component transform. */
static std::string
decoded_model(const std::string &pi)
{
	return pi == "YBR_ICT" || pi == "YBR_RCT" ? "RGB" : pi;
}

class J2kDecoder : public DcmCodec {
public:
	OFCondition decode(const DcmRepresentationParameter *,
	    DcmPixelSequence *seq, DcmPolymorphOBOW &px,
	    const DcmCodecParameter *cp, const DcmStack &stack,
	    OFBool &removeOldRep) const
	{
		DcmStack local(stack);
		j2k_frame_desc d;
		std::vector<Uint8> cs;
		Uint32 frag = 0;
		OFCondition c;
		Uint8 *out = NULL;

		(void)local.pop();	/* the pixel data element */
		DcmObject *o = local.pop();
		if (o == NULL || (o->ident() != EVR_dataset && o->ident() != EVR_item))
			return EC_InvalidTag;
		DcmItem *ds = static_cast<DcmItem *>(o);
		if ((c = describe(ds, d)).bad())
			return c;
		size_t total = d.frame_bytes * d.frames;
		if (d.bits_alloc == 8) {
			px.setVR(EVR_OB);
			c = px.createUint8Array((Uint32)(total + (total & 1)), out);
		} else {
			Uint16 *w = NULL;

			px.setVR(EVR_OW);
			c = px.createUint16Array((Uint32)(total / 2), w);
			out = reinterpret_cast<Uint8 *>(w);
		}
		if (c.bad())
			return c;
		for (Uint32 f = 0; f < d.frames; f++) {
			Uint32 next = 0;

			if ((c = frame_codestream(seq, d.frames, f, frag, cs,
			    &next)).bad())
				return c;
			if ((c = decode_buffer(cs.data(), cs.size(), d,
			    threads(cp), out + f * d.frame_bytes)).bad())
				return c;
			frag = next;
		}
		if (d.bits_alloc == 16)
			swapIfNecessary(EBO_LittleEndian, gLocalByteOrder, out,
			    (Uint32)total, sizeof(Uint16));
		if (d.spp == 3) {
			std::string m = decoded_model(d.photometric);

			if (m != d.photometric) {
				ds->putAndInsertString(DCM_PhotometricInterpretation,
				    m.c_str());
				removeOldRep = OFTrue;
			}
			ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
		}
		return EC_Normal;
	}

	OFCondition decodeFrame(const DcmRepresentationParameter *,
	    DcmPixelSequence *seq, const DcmCodecParameter *cp, DcmItem *ds,
	    Uint32 no, Uint32 &start, void *buffer, Uint32 bufsz,
	    OFString &model) const
	{
		j2k_frame_desc d;
		std::vector<Uint8> cs;
		Uint32 next = 0;
		OFCondition c;

		if (ds == NULL)
			return EC_IllegalParameter;
		if ((c = describe(ds, d)).bad())
			return c;
		if (no >= d.frames || bufsz < d.frame_bytes)
			return EC_IllegalCall;
		if ((c = frame_codestream(seq, d.frames, no, start, cs, &next)).bad() ||
		    (c = decode_buffer(cs.data(), cs.size(), d, threads(cp),
		    static_cast<Uint8 *>(buffer))).bad())
			return c;
		start = next;
		model = decoded_model(d.photometric).c_str();
		return EC_Normal;
	}

	OFCondition encode(const Uint16 *, const Uint32,
	    const DcmRepresentationParameter *, DcmPixelSequence *&,
	    const DcmCodecParameter *, DcmStack &, OFBool &) const
	{
		return EC_IllegalCall;
	}

	OFCondition encode(const E_TransferSyntax,
	    const DcmRepresentationParameter *, DcmPixelSequence *,
	    const DcmRepresentationParameter *, DcmPixelSequence *&,
	    const DcmCodecParameter *, DcmStack &, OFBool &) const
	{
		return EC_IllegalCall;
	}

	OFBool canChangeCoding(const E_TransferSyntax from,
	    const E_TransferSyntax to) const
	{
		return (from == EXS_JPEG2000LosslessOnly || from == EXS_JPEG2000) &&
		    DcmXfer(to).isNotEncapsulated();
	}

	OFCondition determineDecompressedColorModel(
	    const DcmRepresentationParameter *, DcmPixelSequence *,
	    const DcmCodecParameter *, DcmItem *ds, OFString &model) const
	{
		OFString pi;

		if (ds == NULL ||
		    ds->findAndGetOFString(DCM_PhotometricInterpretation, pi).bad())
			return EC_IllegalParameter;
		model = decoded_model(pi.c_str()).c_str();
		return EC_Normal;
	}

private:
	static int threads(const DcmCodecParameter *cp)
	{
		const J2kParam *p = dynamic_cast<const J2kParam *>(cp);

		return p != NULL ? p->threads() : 1;
	}
};

static J2kDecoder *decoder;
static J2kParam *param;

/* j2k_register - JPEG 2000 decoding into DCMTK's codec list */
void
j2k_register(int threads)
{
	if (decoder != NULL)
		return;
	decoder = new J2kDecoder();
	param = new J2kParam(threads > 0 ? threads : 1);
	if (DcmCodecList::registerCodec(decoder, NULL, param).bad()) {
		log_err("cannot register the JPEG 2000 decoder");
		delete decoder;
		delete param;
		decoder = NULL;
		param = NULL;
	}
}

/* j2k_deregister - take it out again */
void
j2k_deregister(void)
{
	if (decoder == NULL)
		return;
	DcmCodecList::deregisterCodec(decoder);
	delete decoder;
	delete param;
	decoder = NULL;
	param = NULL;
}
