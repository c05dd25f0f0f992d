/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_recv - libFuzzer harness for what a peer's bytes meet first:
 *
 * (a) the input as a data set in four transfer syntaxes (explicit VR
 *     little endian, implicit, deflated, JPEG baseline for encapsulated
 *     pixel data): dsscan_buf, and when it accepts, DCMTK's parser on the
 *     same bytes, as DIMSE would read them.  Whatever DCMTK builds must
 *     not nest sequences deeper than dsscan allowed (DSSCAN_MAX_DEPTH):
 *     a deeper nest means the walk and the parser disagree on the
 *     structure, which is where a stack overflow could hide.
 *
 * (b) the input as the PDUs a peer sends after the association is
 *     accepted, through the guard's connection (guard.cc is compiled into
 *     this file to reach its GuardConn, which has no entry point of its
 *     own and no test-only hook): the bytes go into one end of a
 *     socketpair, a GuardConn reads the other, with presentation
 *     contexts 1, 3, 5 and 7 accepted in those four syntaxes.  What the
 *     guard releases to DCMTK must be a prefix of the input made of whole
 *     PDUs, P-DATA-TF no longer than announced, command sets flat, every
 *     identifier sent on one context and accepted by dsscan in its
 *     syntax; each released command set and data set is then parsed by
 *     DCMTK fragment by fragment, as DIMSE_receiveCommand and
 *     DIMSE_receiveDataSetInMemory do (in the syntax of the first
 *     fragment's context), under the same depth check.
 *
 * Any violation aborts, so libFuzzer records the input.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdatset.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/oflog/oflog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

/* The guard, whole: its GuardConn lives in an anonymous namespace. */
#include "../../src/dicom/guard.cc"

extern "C" {
#include "core/log.h"
}
#include "dicom/dsscan.h"
#include "fuzz_depth.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

namespace {

/* The syntaxes, and the presentation context each is accepted on. */
const struct {
	const char		*uid;
	E_TransferSyntax	 xfer;
	unsigned char		 pcid;
} syntaxes[] = {
	{ UID_LittleEndianExplicitTransferSyntax, EXS_LittleEndianExplicit, 1 },
	{ UID_LittleEndianImplicitTransferSyntax, EXS_LittleEndianImplicit, 3 },
	{ UID_DeflatedExplicitVRLittleEndianTransferSyntax,
	  EXS_DeflatedLittleEndianExplicit, 5 },
	{ UID_JPEGProcess1TransferSyntax, EXS_JPEGProcess1, 7 },
};
const size_t nsyntaxes = sizeof(syntaxes) / sizeof(syntaxes[0]);

/* What the SCP announces (conf max_pdu); small, so long PDUs are cheap. */
const size_t MAX_PDU = 16384;

[[noreturn]] void
bug(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_recv: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * parse - frags (one or more fragments of one data set) through DCMTK the
 * way DIMSE feeds a PDV at a time; then the depth check.
 */
void
parse(const std::vector<std::string> &frags, E_TransferSyntax xfer,
    const char *what)
{
	DcmInputBufferStream buf;
	DcmDataset ds;
	OFCondition c = EC_Normal;

	ds.transferInit();
	for (size_t i = 0; i < frags.size(); i++) {
		buf.releaseBuffer();
		if (!frags[i].empty())
			buf.setBuffer(frags[i].data(), (offile_off_t)frags[i].size());
		if (i + 1 == frags.size())
			buf.setEos();
		c = ds.read(buf, xfer);
		if (c.bad() && c != EC_StreamNotifyClient)
			break;
	}
	ds.transferEnd();
	int d = fuzz_depth(&ds);
	if (d > DSSCAN_MAX_DEPTH)
		bug("%s: dsscan accepted it, DCMTK nests sequences %d deep "
		    "(limit %d)", what, d, DSSCAN_MAX_DEPTH);
}

/* scan_parse - dsscan, then DCMTK if it accepted; 1 when it did. */
int
scan_parse(const std::string &data, size_t k, const char *what)
{
	char why[256];

	if (dsscan_buf(data.data(), data.size(), syntaxes[k].uid,
	    DSSCAN_MAX_DEPTH, why, sizeof(why)) == -1) {
		if (why[0] == '\0')
			bug("%s: dsscan refused without a reason", what);
		return 0;
	}
	parse(std::vector<std::string>(1, data), syntaxes[k].xfer, what);
	return 1;
}

/* ---- (b): the guard ---- */

/* run_guard - data through a GuardConn; what it released. */
std::string
run_guard(const uint8_t *data, size_t n)
{
	int sv[2];
	std::thread writer;
	std::string out;
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		bug("socketpair: %s", strerror(errno));
	/* Write what the socket takes now; a thread writes any rest. */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	while (off < n) {
		ssize_t k = write(sv[0], data + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0)
			bug("write: %s", strerror(errno));
		off += (size_t)k;
	}
	if (off < n) {
		fcntl(sv[0], F_SETFL, 0);
		writer = std::thread([=]() {
			size_t o = off;

			while (o < n) {
				ssize_t k = write(sv[0], data + o, n - o);

				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					break;	/* the reader refused and closed */
				o += (size_t)k;
			}
			close(sv[0]);
		});
	} else
		close(sv[0]);
	{
		limits lim = { MAX_PDU, 2000 };
		GuardConn conn(sv[1], lim);
		char buf[4096];
		ssize_t k;

		for (size_t i = 0; i < nsyntaxes; i++)
			conn.context(syntaxes[i].pcid, syntaxes[i].uid);
		while ((k = conn.read(buf, sizeof(buf))) > 0)
			out.append(buf, (size_t)k);
		/* A second read after a failure fails at once. */
		if (conn.read(buf, sizeof(buf)) != -1)
			bug("guard: read after the end did not fail");
	}	/* closes sv[1], which ends a blocked writer */
	if (writer.joinable())
		writer.join();
	return out;
}

/*
 * check_released - the oracle over what the guard let DCMTK see (be32,
 * le16 and le32 are guard.cc's).
 */
void
check_released(const uint8_t *data, size_t n, const std::string &rel)
{
	const unsigned char *p = reinterpret_cast<const unsigned char *>(rel.data());
	size_t left = rel.size();
	/* the message being assembled, as DIMSE would */
	std::vector<std::string> cmd, ds;
	size_t cmdlen = 0;
	bool want_ds = false, store = false;
	int ds_pc = -1;

	if (rel.size() > n || memcmp(rel.data(), data, rel.size()) != 0)
		bug("guard: released bytes are not a prefix of the input");
	while (left > 0) {
		/* the guard releases whole PDUs only */
		if (left < 6)
			bug("guard: released a partial PDU header");
		uint32_t len = be32(p + 2);
		if (len > left - 6)
			bug("guard: released a partial PDU");
		if (p[0] == 0x04 && len > MAX_PDU + 6)
			bug("guard: released a P-DATA-TF of %u bytes", len);
		if (p[0] != 0x04) {
			p += 6 + len;
			left -= 6 + len;
			continue;
		}
		const unsigned char *v = p + 6;
		size_t vl = len;

		while (vl > 0) {
			if (vl < 6)
				bug("guard: released a truncated PDV item");
			uint32_t il = be32(v);
			if (il < 2 || il > vl - 4)
				bug("guard: released a PDV item of a bad length");
			unsigned char pcid = v[4], mch = v[5];
			std::string frag(reinterpret_cast<const char *>(v) + 6, il - 2);
			bool last = (mch & 0x02) != 0;

			if (mch & 0x01) {
				if (want_ds)
					bug("guard: released a command inside a "
					    "data set");
				cmd.push_back(frag);
				cmdlen += frag.size();
				if (cmdlen > GUARD_MAX_COMMAND)
					bug("guard: released a command set of %zu "
					    "bytes", cmdlen);
				if (last) {
					std::string all;
					uint16_t field = 0, type = 0x0101;

					for (size_t i = 0; i < cmd.size(); i++)
						all += cmd[i];
					/* the guard's reading: flat group 0000 */
					for (size_t o = 0; o + 8 <= all.size();) {
						const unsigned char *e =
						    reinterpret_cast<const unsigned char *>(all.data()) + o;
						uint32_t el = le32(e + 4);

						if (le16(e) != 0x0000 ||
						    el > all.size() - o - 8)
							bug("guard: released a command "
							    "set that is not flat");
						if (le16(e + 2) == 0x0100 && el == 2)
							field = le16(e + 8);
						if (le16(e + 2) == 0x0800 && el == 2)
							type = le16(e + 8);
						o += 8 + el;
					}
					parse(cmd, EXS_LittleEndianImplicit,
					    "command set");
					cmd.clear();
					cmdlen = 0;
					want_ds = type != 0x0101;
					store = field == 0x0001;
					ds_pc = -1;
				}
			} else {
				if (!want_ds)
					bug("guard: released a data set fragment "
					    "with no command");
				if (ds_pc == -1)
					ds_pc = pcid;
				else if (pcid != ds_pc && !store)
					bug("guard: released an identifier sent on "
					    "contexts %d and %d", ds_pc, pcid);
				ds.push_back(frag);
				if (last) {
					std::string all;
					size_t k;

					for (size_t i = 0; i < ds.size(); i++)
						all += ds[i];
					for (k = 0; k < nsyntaxes; k++)
						if (syntaxes[k].pcid == ds_pc)
							break;
					if (!store && k == nsyntaxes)
						bug("guard: released an identifier "
						    "on context %d", ds_pc);
					if (!store) {
						char why[256];

						if (dsscan_buf(all.data(), all.size(),
						    syntaxes[k].uid, DSSCAN_MAX_DEPTH,
						    why, sizeof(why)) == -1)
							bug("guard: released an "
							    "identifier dsscan "
							    "refuses: %s", why);
						/* DCMTK reads it in PDV fragments */
						parse(ds, syntaxes[k].xfer,
						    "identifier");
					} else if (k < nsyntaxes)
						/* scp_store: to a file, dsscan_file,
						 * then DCMTK */
						scan_parse(all, k, "C-STORE data set");
					ds.clear();
					want_ds = false;
				}
			}
			v += 4 + il;
			vl -= 4 + il;
		}
		p += 6 + len;
		left -= 6 + len;
	}
}

}	/* namespace */

extern "C" int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_recv", 1, LOG_LV_CRIT);
	OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
	if (!dcmDataDict.isDictionaryLoaded()) {
		fprintf(stderr, "fuzz_recv: no DICOM data dictionary "
		    "(DCMDICTPATH)\n");
		exit(1);
	}
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	std::string in(reinterpret_cast<const char *>(data), n);

	/* (a) a data set in each syntax */
	for (size_t k = 0; k < nsyntaxes; k++)
		scan_parse(in, k, syntaxes[k].uid);
	/* (b) a PDU stream through the guard */
	check_released(data, n, run_guard(data, n));
	return 0;
}
