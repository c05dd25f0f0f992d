/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dsscan - an iterative walk over a data set's raw element structure that
 * bounds how deeply sequences nest, before DCMTK's recursive parser sees
 * the bytes (PS3.5 7.1 to 7.5, A.4).  It only follows the structure: values
 * are skipped, never interpreted.  Whatever it cannot follow the way DCMTK
 * would is refused rather than guessed at, since a guess is where a deep
 * nest could hide.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctag.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcvr.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "dicom/dsscan.h"

#define UNDEF_LEN	0xffffffffU
#define NO_END		UINT64_MAX

namespace {

/* A byte source: read returns how many bytes it gave (fewer at the end),
 * or -1 on an error; skip fails when the data ends first. */
class Src {
public:
	virtual ~Src() {}
	virtual ssize_t read(void *dst, size_t n) = 0;
	virtual bool skip(uint64_t n) = 0;
	uint64_t pos = 0;
};

class BufSrc : public Src {
public:
	BufSrc(const unsigned char *p, size_t n) : p_(p), n_(n) {}
	ssize_t read(void *dst, size_t n)
	{
		size_t left = n_ - (size_t)pos;

		if (n > left)
			n = left;
		memcpy(dst, p_ + pos, n);
		pos += n;
		return (ssize_t)n;
	}
	bool skip(uint64_t n)
	{
		if (n > n_ - pos)
			return false;
		pos += n;
		return true;
	}
private:
	const unsigned char *p_;
	size_t n_;
};

class FileSrc : public Src {
public:
	FileSrc(int fd, uint64_t size) : fd_(fd), size_(size), have_(0), at_(0) {}
	ssize_t read(void *dst, size_t n)
	{
		unsigned char *d = static_cast<unsigned char *>(dst);
		size_t got = 0;

		while (got < n) {
			if (at_ == have_) {
				ssize_t r = ::read(fd_, buf_, sizeof(buf_));

				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0)
					return -1;
				if (r == 0)
					break;
				have_ = (size_t)r;
				at_ = 0;
			}
			size_t k = have_ - at_ < n - got ? have_ - at_ : n - got;
			memcpy(d + got, buf_ + at_, k);
			at_ += k;
			got += k;
		}
		pos += got;
		return (ssize_t)got;
	}
	bool skip(uint64_t n)
	{
		if (n > size_ - pos)
			return false;
		if (n <= have_ - at_) {
			at_ += (size_t)n;
		} else {
			uint64_t beyond = n - (have_ - at_);

			if (lseek(fd_, (off_t)beyond, SEEK_CUR) == (off_t)-1)
				return false;
			at_ = have_ = 0;
		}
		pos += n;
		return true;
	}
private:
	int fd_;
	uint64_t size_;
	unsigned char buf_[65536];
	size_t have_, at_;
};

/* Deflated Explicit VR Little Endian: raw deflate (PS3.5 A.5). */
class InflateSrc : public Src {
public:
	explicit InflateSrc(Src &in) : in_(in), ok_(true), end_(false),
	    eof_(false), have_(0), at_(0)
	{
		memset(&z_, 0, sizeof(z_));
		ok_ = inflateInit2(&z_, -MAX_WBITS) == Z_OK;
	}
	~InflateSrc() { inflateEnd(&z_); }
	bool good() const { return ok_; }
	ssize_t read(void *dst, size_t n)
	{
		unsigned char *d = static_cast<unsigned char *>(dst);
		size_t got = 0;

		while (got < n) {
			if (at_ == have_ && !fill())
				return got > 0 ? (ssize_t)got : (ok_ ? 0 : -1);
			size_t k = have_ - at_ < n - got ? have_ - at_ : n - got;
			memcpy(d + got, out_ + at_, k);
			at_ += k;
			got += k;
			pos += k;
		}
		return (ssize_t)got;
	}
	bool skip(uint64_t n)
	{
		while (n > 0) {
			if (at_ == have_ && !fill())
				return false;
			uint64_t k = have_ - at_ < n ? have_ - at_ : n;
			at_ += (size_t)k;
			pos += k;
			n -= k;
		}
		return true;
	}
private:
	bool fill()
	{
		while (ok_ && !end_) {
			if (z_.avail_in == 0 && !eof_) {
				ssize_t r = in_.read(inb_, sizeof(inb_));

				if (r < 0) {
					ok_ = false;
					end_ = true;
					return false;
				}
				if (r == 0) {
					/* DCMTK (DcmZLibInputFilter) inflates a zero
					 * byte after the end of the input, which can
					 * decode to more data: so do we. */
					eof_ = true;
					inb_[0] = 0;
					r = 1;
				}
				z_.next_in = inb_;
				z_.avail_in = (uInt)r;
			}
			z_.next_out = out_;
			z_.avail_out = sizeof(out_);
			int rc = inflate(&z_, Z_NO_FLUSH);
			if (rc == Z_STREAM_END)
				end_ = true;
			else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				ok_ = false;
				return false;
			}
			have_ = sizeof(out_) - z_.avail_out;
			at_ = 0;
			if (have_ > 0)
				return true;
			/* no input left and nothing more to drain */
			if (eof_ && z_.avail_in == 0)
				end_ = true;
		}
		return false;
	}
	Src &in_;
	z_stream z_;
	bool ok_, end_, eof_;
	unsigned char inb_[65536], out_[65536];
	size_t have_, at_;
};

enum kind { K_SEQ, K_ITEM, K_FRAGS };

/* A private creator: group << 8 | block, and the name DCMTK keeps. */
typedef std::vector<std::pair<uint32_t, std::string> > creators;

struct frame {
	enum kind	kind;
	uint64_t	end;		/* NO_END: undefined length */
	bool		explicit_vr;	/* of the data sets in (or under) it */
	creators	pc;		/* K_ITEM: its private creators */
};

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * PS3.5 7.1.2: the VRs with a reserved field and a 32-bit length.  As
 * DCMTK reads them (DcmVR): two capital letters it does not know are a
 * future VR, with a 32-bit length, and read like UN.
 */
static bool
long_vr(const char *vr)
{
	return DcmVR(vr).usesExtendedLengthEncoding();
}

static bool
un_vr(const char *vr)
{
	DcmEVR v = DcmVR(vr).getEVR();

	return v == EVR_UN || v == EVR_UNKNOWN;
}

/* dict_vr - the data dictionary's VR; pc: the private creator. */
static DcmEVR
dict_vr(uint16_t g, uint16_t e, const char *pc = NULL)
{
	DcmTag t(g, e, pc);

	return t.getEVR();
}

class Walk {
public:
	Walk(Src &s, int max_depth, char *why, size_t whysz)
	    : s_(s), max_(max_depth), why_(why), whysz_(whysz), depth_(0) {}

	int run(bool explicit_vr)
	{
		for (;;) {
			unsigned char h[8];
			ssize_t n;

			if (pop_ended() == -1)
				return -1;
			if ((n = s_.read(h, 4)) < 0)
				return fail("read error");
			if (n < 4)
				return end();	/* or a stub DCMTK rejects flat */
			uint16_t g = le16(h), e = le16(h + 2);

			if (g == 0xfffe) {
				if (delimiter(e) == -1)
					return -1;
				continue;
			}
			if (!st_.empty() && st_.back().kind != K_ITEM)
				return fail("(%04x,%04x) where an item was expected", g, e);
			if (element(g, e, st_.empty() ? explicit_vr :
			    st_.back().explicit_vr) == -1)
				return -1;
		}
	}

private:
	int fail(const char *fmt, ...) __attribute__((format(printf, 2, 3)))
	{
		va_list ap;
		char msg[192];

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(why_, whysz_, "%s at byte %llu", msg,
		    (unsigned long long)s_.pos);
		return -1;
	}

	/*
	 * end - the data ends; not inside a sequence or item of defined
	 * length: we may have walked into a value DCMTK reads flat (UN), and
	 * it allocates a value's whole length before reading it.
	 */
	int end()
	{
		for (size_t i = 0; i < st_.size(); i++)
			if (st_[i].end != NO_END)
				return fail("data set ends inside a sequence or item "
				    "of defined length");
		return 0;
	}

	int pop_ended()
	{
		while (!st_.empty() && st_.back().end != NO_END &&
		    s_.pos >= st_.back().end) {
			if (s_.pos > st_.back().end)
				return fail("an element runs past the end of its "
				    "sequence or item");
			pop();
		}
		return 0;
	}

	void pop()
	{
		if (st_.back().kind == K_SEQ)
			depth_--;
		st_.pop_back();
	}

	int push(enum kind k, uint32_t len, bool explicit_vr)
	{
		frame f = { k, len == UNDEF_LEN ? NO_END : s_.pos + len,
		    explicit_vr, creators() };

		if (k == K_SEQ && ++depth_ > max_)
			return fail("sequences nested deeper than %d", max_);
		if (!st_.empty() && st_.back().end != NO_END && f.end != NO_END &&
		    f.end > st_.back().end)
			return fail("a sequence or item longer than its parent");
		st_.push_back(f);
		return 0;
	}

	int len32(uint32_t *len)
	{
		unsigned char b[4];

		if (s_.read(b, 4) != 4)
			return fail("data set ends inside an element header");
		*len = le32(b);
		return 0;
	}

	/* (FFFE,E000) item, (FFFE,E00D) item end, (FFFE,E0DD) sequence end. */
	int delimiter(uint16_t e)
	{
		uint32_t len = 0;

		if (len32(&len) == -1)
			return -1;
		if (e == 0xe000) {
			if (st_.empty() || st_.back().kind == K_ITEM)
				return fail("an item outside a sequence");
			if (st_.back().kind == K_FRAGS) {
				if (len == UNDEF_LEN)
					return fail("a pixel data fragment of "
					    "undefined length");
				if (!s_.skip(len))
					return fail("a fragment runs past the end "
					    "of the data set");
				return 0;
			}
			return push(K_ITEM, len, st_.back().explicit_vr);
		}
		if (e == 0xe00d || e == 0xe0dd) {
			bool item = e == 0xe00d;

			/* DCMTK passes over a stray delimiter at the top level. */
			if (st_.empty())
				return 0;
			if (st_.back().end == NO_END &&
			    (item ? st_.back().kind == K_ITEM :
			    st_.back().kind != K_ITEM)) {
				pop();
				return 0;
			}
			return fail("an unexpected %s delimiter", item ? "item" :
			    "sequence");
		}
		return fail("unknown tag (fffe,%04x)", e);
	}

	/* creator - the private creator of (g,e) in this item, or NULL. */
	const char *creator(uint16_t g, uint16_t e)
	{
		const creators &pc = st_.empty() ? top_pc_ : st_.back().pc;
		uint32_t key = (uint32_t)g << 8 | e >> 8;

		if (!(g & 1) || e < 0x1000)
			return NULL;
		for (size_t i = 0; i < pc.size(); i++)
			if (pc[i].first == key)
				return pc[i].second.c_str();
		return NULL;
	}

	/*
	 * private_creator - (gggg,0010-00ff) in implicit VR: DCMTK looks up
	 * the VR of (gggg,xx00-xxff) in this item with its value (trailing
	 * spaces removed, up to a NUL; the first for a block counts), and
	 * may find SQ, so keep it.
	 */
	int private_creator(uint16_t g, uint16_t e, uint32_t len)
	{
		creators &pc = st_.empty() ? top_pc_ : st_.back().pc;
		uint32_t key = (uint32_t)g << 8 | (e & 0xff);
		std::string v(len <= 1024 ? len : 0, '\0');

		if (len > 1024)
			return fail("private creator (%04x,%04x) longer than "
			    "1024 bytes", g, e);
		if (len > 0 && s_.read(&v[0], len) != (ssize_t)len)
			return fail("(%04x,%04x) runs past the end of the data set",
			    g, e);
		if (len == 0)
			return 0;	/* no value, no creator */
		while (!v.empty() && v[v.size() - 1] == ' ')
			v.resize(v.size() - 1);
		v.resize(strlen(v.c_str()));
		for (size_t i = 0; i < pc.size(); i++)
			if (pc[i].first == key)
				return 0;
		pc.push_back(std::make_pair(key, v));
		return 0;
	}

	int element(uint16_t g, uint16_t e, bool explicit_vr)
	{
		char vr[3] = "";
		uint32_t len = 0;
		bool sq, un = false;

		if (explicit_vr) {
			unsigned char b[4];

			if (s_.read(b, 2) != 2)
				return fail("data set ends inside an element header");
			vr[0] = (char)b[0];
			vr[1] = (char)b[1];
			if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z')
				return fail("(%04x,%04x) has no valid VR", g, e);
			if (long_vr(vr)) {
				if (s_.read(b, 2) != 2 || len32(&len) == -1)
					return fail("data set ends inside an "
					    "element header");
			} else {
				if (s_.read(b, 2) != 2)
					return fail("data set ends inside an "
					    "element header");
				len = le16(b);
			}
			un = un_vr(vr);
			sq = strcmp(vr, "SQ") == 0 || (un && dict_vr(g, e) == EVR_SQ);
		} else {
			if (len32(&len) == -1)
				return -1;
			DcmEVR v = dict_vr(g, e, creator(g, e));
			sq = v == EVR_SQ;
			un = v == EVR_UN || v == EVR_UNKNOWN;
		}
		if (len == UNDEF_LEN) {
			/* DCMTK's pixel sequence: OB or OW (or OX, which it takes
			 * for OW here), or implicit VR */
			if (g == 0x7fe0 && e == 0x0010 && (explicit_vr ?
			    strcmp(vr, "OB") == 0 || strcmp(vr, "OW") == 0 ||
			    strcmp(vr, "OX") == 0 : !sq))
				return push(K_FRAGS, len, explicit_vr);
			/* PS3.5 6.2.2: undefined-length UN is an implicit VR
			 * sequence (DCMTK: any VR it does not know, too) */
			if (sq || un)
				return push(K_SEQ, len, explicit_vr && !un);
			/* DCMTK takes any other for a value of 4 GiB, which it
			 * hands on incomplete (OB and OW: refuses) */
			return fail("(%04x,%04x) has an undefined length", g, e);
		}
		if (sq)
			return push(K_SEQ, len, explicit_vr && !un);
		if (!explicit_vr && (g & 1) && e >= 0x0010 && e <= 0x00ff)
			return private_creator(g, e, len);
		if (!s_.skip(len))
			return fail("(%04x,%04x) runs past the end of the data set",
			    g, e);
		return 0;
	}

	Src &s_;
	int max_;
	char *why_;
	size_t whysz_;
	int depth_;
	std::vector<frame> st_;
	creators top_pc_;		/* the data set's private creators */
};

/* syntax - how the data set is encoded; -1 for what we do not read. */
static int
syntax(const char *ts, bool *explicit_vr, bool *deflated)
{
	DcmXfer x(ts);

	if (x.getXfer() == EXS_Unknown || x.isBigEndian())
		return -1;
	*explicit_vr = x.isExplicitVR();
	*deflated = x.getStreamCompression() == ESC_zlib;
	return 0;
}

}	/* namespace */

/* dsscan_file - bound the nesting of a data set on disk */
int
dsscan_file(const char *path, uint64_t off, const char *ts, int max_depth,
    char *why, size_t whysz)
{
	bool ex, defl;
	struct stat sb;
	int fd, rc;

	if (syntax(ts, &ex, &defl) == -1) {
		snprintf(why, whysz, "transfer syntax %s not supported", ts);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1 || (uint64_t)sb.st_size < off ||
	    lseek(fd, (off_t)off, SEEK_SET) == (off_t)-1) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	try {
		FileSrc f(fd, (uint64_t)sb.st_size - off);

		if (defl) {
			InflateSrc z(f);

			rc = z.good() ? Walk(z, max_depth, why, whysz).run(ex) : -1;
			if (!z.good() && rc == 0) {
				snprintf(why, whysz, "deflated data set is corrupt");
				rc = -1;
			}
		} else
			rc = Walk(f, max_depth, why, whysz).run(ex);
	} catch (...) {
		snprintf(why, whysz, "out of memory walking the data set");
		rc = -1;
	}
	close(fd);
	return rc;
}

/* dsscan_buf - bound the nesting of a data set in memory */
int
dsscan_buf(const void *p, size_t n, const char *ts, int max_depth, char *why,
    size_t whysz)
{
	bool ex, defl;

	if (syntax(ts, &ex, &defl) == -1) {
		snprintf(why, whysz, "transfer syntax %s not supported", ts);
		return -1;
	}
	try {
		BufSrc b(static_cast<const unsigned char *>(p), n);

		if (defl) {
			InflateSrc z(b);

			if (!z.good()) {
				snprintf(why, whysz, "cannot start inflating");
				return -1;
			}
			int rc = Walk(z, max_depth, why, whysz).run(ex);
			if (rc == 0 && !z.good()) {
				snprintf(why, whysz, "deflated data set is corrupt");
				return -1;
			}
			return rc;
		}
		return Walk(b, max_depth, why, whysz).run(ex);
	} catch (...) {
		snprintf(why, whysz, "out of memory walking the data set");
		return -1;
	}
}
