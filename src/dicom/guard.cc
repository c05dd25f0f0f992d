/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard - the SCP's transport layer: DCMTK reads each peer's bytes from a
 * GuardConn, which reads whole PDUs from the socket, checks them (PS3.8
 * 9.3: PDU and PDV structure; PS3.7 6.3.1: command sets) and releases them
 * to DCMTK only once they are known to be safe to parse.  One connection
 * per association thread; nothing is shared but the immutable limits.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dcmlayer.h"
#include "dcmtk/dcmnet/dcmtrans.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <string>

extern "C" {
#include "core/log.h"
}
#include "dicom/dsscan.h"
#include "dicom/guard.h"

namespace {

struct limits {
	size_t	max_pdu;	/* P-DATA-TF body we accept */
	int	io_timeout_ms;
};

class GuardConn;

/* Set on an association's own thread: the prefetched request and the
 * connection DCMTK made for it. */
thread_local std::string *t_prefetch;
thread_local GuardConn *t_conn;

int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* read_full - n bytes from fd by deadline; 0, or -1 with *why. */
int
read_full(int fd, void *dst, size_t n, int64_t deadline,
    const std::atomic<bool> *stop, const char **why)
{
	unsigned char *p = static_cast<unsigned char *>(dst);

	while (n > 0) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();

		if (stop != NULL && stop->load()) {
			*why = "shutting down";
			return -1;
		}
		if (left <= 0) {
			*why = "timed out in the middle of a PDU";
			return -1;
		}
		int r = poll(&pfd, 1, left < 500 ? (int)left : 500);
		if (r < 0 && errno != EINTR) {
			*why = "poll failed";
			return -1;
		}
		if (r <= 0)
			continue;
		ssize_t k = recv(fd, p, n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			*why = k == 0 ? "peer closed the connection" :
			    "receive failed";
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

class GuardConn : public DcmTCPConnection {
public:
	GuardConn(DcmNativeSocketType s, const limits &lim)
	    : DcmTCPConnection(s), lim_(lim), off_(0), bad_(false),
	      ds_(NONE), ident_pc_(-1)
	{
		if (t_prefetch != NULL) {
			rel_.swap(*t_prefetch);
			t_prefetch = NULL;
		}
		t_conn = this;
	}
	~GuardConn()
	{
		if (t_conn == this)
			t_conn = NULL;
	}

	void context(unsigned char pcid, const char *ts) { ts_[pcid] = ts; }

	ssize_t read(void *buf, size_t n)
	{
		while (off_ == rel_.size()) {
			if (bad_ || fetch() == -1) {
				bad_ = true;
				return -1;
			}
		}
		size_t k = rel_.size() - off_ < n ? rel_.size() - off_ : n;
		memcpy(buf, rel_.data() + off_, k);
		off_ += k;
		if (off_ == rel_.size()) {
			rel_.clear();
			off_ = 0;
		}
		return (ssize_t)k;
	}

	OFBool networkDataAvailable(int timeout)
	{
		if (off_ < rel_.size() || bad_)
			return OFTrue;
		return DcmTCPConnection::networkDataAvailable(timeout);
	}

private:
	enum ds_kind { NONE, STORE, IDENT };

	int refuse(const char *why)
	{
		log_warn("connection closed: %s", why);
		return -1;
	}

	/* fetch - the next PDU from the socket; released, held or refused. */
	int fetch()
	{
		unsigned char h[6];
		const char *why = "";
		int64_t deadline;
		std::string pdu;

		/* DCMTK asked, so a PDU is due: wait as long as DIMSE would. */
		deadline = now_ms() + lim_.io_timeout_ms;
		if (read_full(getSocket(), h, 6, deadline, NULL, &why) == -1) {
			if (strcmp(why, "peer closed the connection") != 0)
				log_info("connection: %s", why);
			return -1;
		}
		uint32_t len = be32(h + 2);
		switch (h[0]) {
		case 0x04:	/* P-DATA-TF */
			if (len > lim_.max_pdu + 6)
				return refuse("P-DATA-TF PDU longer than the "
				    "maximum length announced");
			break;
		case 0x05: case 0x06: case 0x07:	/* release, abort */
			if (len != 4)
				return refuse("release or abort PDU of a wrong length");
			break;
		default:	/* DCMTK answers these itself */
			if (len > 65536)
				return refuse("unexpected PDU too long");
		}
		pdu.assign(reinterpret_cast<char *>(h), 6);
		pdu.resize(6 + (size_t)len);
		deadline = now_ms() + lim_.io_timeout_ms;
		if (len > 0 && read_full(getSocket(), &pdu[6], len, deadline,
		    NULL, &why) == -1)
			return refuse(why);
		bool touched = false;
		if (h[0] == 0x04 && pdvs(pdu, &touched) == -1)
			return -1;
		/* A PDU with part of an identifier waits for the rest of it. */
		if (held_.empty() && !touched) {
			rel_.append(pdu);
			return 0;
		}
		held_.append(pdu);
		if (ds_ != IDENT) {
			rel_.append(held_);
			held_.clear();
		}
		return 0;
	}

	/* pdvs - walk the PDVs of one P-DATA-TF (PS3.8 9.3.5). */
	int pdvs(const std::string &pdu, bool *touched)
	{
		const unsigned char *p = reinterpret_cast<const unsigned char *>(pdu.data()) + 6;
		size_t left = pdu.size() - 6;

		while (left > 0) {
			if (left < 6)
				return refuse("truncated PDV item");
			uint32_t n = be32(p);
			if (n < 2 || n > left - 4)
				return refuse("PDV item length out of bounds");
			unsigned char pcid = p[4], mch = p[5];
			const unsigned char *frag = p + 6;
			size_t fl = n - 2;

			if (mch & 0x01) {
				if (command(frag, fl, (mch & 0x02) != 0) == -1)
					return -1;
			} else if (dataset(pcid, frag, fl, (mch & 0x02) != 0,
			    touched) == -1)
				return -1;
			p += 4 + n;
			left -= 4 + n;
		}
		return 0;
	}

	int command(const unsigned char *f, size_t n, bool last)
	{
		if (ds_ != NONE)
			return refuse("a command began inside a data set");
		if (cmd_.size() + n > GUARD_MAX_COMMAND)
			return refuse("command set longer than 64 KiB");
		cmd_.append(reinterpret_cast<const char *>(f), n);
		if (!last)
			return 0;
		int rc = flat(reinterpret_cast<const unsigned char *>(cmd_.data()),
		    cmd_.size());
		cmd_.clear();
		return rc;
	}

	/* flat - a command set: group 0000 elements of defined length only. */
	int flat(const unsigned char *p, size_t n)
	{
		uint16_t field = 0, type = 0x0101;

		while (n > 0) {
			if (n < 8)
				return refuse("truncated command element");
			uint16_t g = le16(p), e = le16(p + 2);
			uint32_t len = le32(p + 4);

			if (g != 0x0000)
				return refuse("command set holds an element "
				    "outside group 0000");
			if (len > n - 8)
				return refuse("command element longer than the "
				    "command set");
			if (e == 0x0100 && len == 2)
				field = le16(p + 8);
			if (e == 0x0800 && len == 2)
				type = le16(p + 8);
			p += 8 + len;
			n -= 8 + len;
		}
		/* PS3.7 E.1: 0x0101 means no data set follows. */
		if (type != 0x0101)
			ds_ = field == 0x0001 ? STORE : IDENT;
		ident_.clear();
		ident_pc_ = -1;
		return 0;
	}

	int dataset(unsigned char pcid, const unsigned char *f, size_t n,
	    bool last, bool *touched)
	{
		char why[256];

		if (ds_ == NONE)
			return refuse("a data set fragment with no command");
		if (ds_ == STORE) {
			if (last)
				ds_ = NONE;
			return 0;	/* streamed to a file and walked there */
		}
		/* DIMSE reads an identifier in the syntax of its first
		 * fragment's context, and refuses another context only after
		 * parsing what came before: one context throughout. */
		if (ident_pc_ == -1)
			ident_pc_ = pcid;
		else if (pcid != ident_pc_)
			return refuse("identifier fragments on different "
			    "presentation contexts");
		if (ident_.size() + n > GUARD_MAX_IDENTIFIER)
			return refuse("identifier longer than 1 MiB");
		ident_.append(reinterpret_cast<const char *>(f), n);
		*touched = true;
		if (!last)
			return 0;
		std::map<unsigned char, std::string>::const_iterator it =
		    ts_.find(pcid);
		if (it == ts_.end())
			return refuse("identifier on a presentation context "
			    "not accepted");
		if (dsscan_buf(ident_.data(), ident_.size(), it->second.c_str(),
		    DSSCAN_MAX_DEPTH, why, sizeof(why)) == -1) {
			log_warn("connection closed: identifier refused: %s", why);
			return -1;
		}
		ident_.clear();
		ident_pc_ = -1;
		ds_ = NONE;
		return 0;
	}

	limits lim_;
	std::string rel_;		/* released to DCMTK, from off_ */
	size_t off_;
	bool bad_;
	std::string cmd_;		/* command fragments so far */
	enum ds_kind ds_;		/* the data set now arriving */
	std::string ident_;		/* identifier fragments so far */
	int ident_pc_;			/* their context; -1 before the first */
	std::string held_;		/* PDUs not yet released */
	std::map<unsigned char, std::string> ts_;
};

class GuardLayer : public DcmTransportLayer {
public:
	explicit GuardLayer(const limits &lim) : lim_(lim) {}
	DcmTransportConnection *createConnection(DcmNativeSocketType s,
	    OFBool secure)
	{
		if (secure)
			return NULL;
		return new GuardConn(s, lim_);
	}
private:
	limits lim_;
};

}	/* namespace */

int
guard_install(T_ASC_Network *net, int max_pdu, int io_timeout_s)
{
	limits lim = { (size_t)max_pdu, io_timeout_s * 1000 };
	GuardLayer *layer = new GuardLayer(lim);

	if (ASC_setTransportLayer(net, layer, 1).bad()) {
		delete layer;
		return -1;
	}
	return 0;
}

int
guard_read_rq(int fd, int timeout_s, size_t limit,
    const std::atomic<bool> &stop, std::string &buf, const char **why)
{
	unsigned char h[6];
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;

	if (read_full(fd, h, 6, deadline, &stop, why) == -1) {
		if (strcmp(*why, "timed out in the middle of a PDU") == 0)
			*why = "no complete association request before acse_timeout";
		return -1;
	}
	uint32_t len = be32(h + 2);
	if (h[0] != 0x01) {
		*why = "first PDU is not an association request";
		return -1;
	}
	if (len > limit) {
		*why = "association request longer than the limit";
		return -1;
	}
	buf.assign(reinterpret_cast<char *>(h), 6);
	buf.resize(6 + (size_t)len);
	if (len > 0 && read_full(fd, &buf[6], len, deadline, &stop, why) == -1) {
		if (strcmp(*why, "timed out in the middle of a PDU") == 0)
			*why = "no complete association request before acse_timeout";
		return -1;
	}
	return 0;
}

void
guard_prefetched(std::string *buf)
{
	t_prefetch = buf;
}

void
guard_context(unsigned char pcid, const char *ts)
{
	if (t_conn != NULL)
		t_conn->context(pcid, ts);
}
