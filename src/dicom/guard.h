/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard - every byte a peer sends to the SCP passes through here before
 * DCMTK reads it (a DcmTransportLayer of our own).  The association
 * request is read whole, with a deadline and no lock held, before DCMTK
 * sees it; afterwards each PDU is checked against the length we announced,
 * each command set must be flat (group 0000, defined lengths, at most
 * GUARD_MAX_COMMAND bytes), and each identifier (any data set other than
 * a C-STORE's) is held until it is complete, then walked by dsscan and
 * limited to GUARD_MAX_IDENTIFIER bytes.  A peer that breaks a rule gets
 * its connection closed, with the reason logged.  Bridge only.
 */
#ifndef RS_GUARD_H
#define RS_GUARD_H

#include <stddef.h>

#include <atomic>
#include <string>

struct T_ASC_Network;

#define GUARD_MAX_COMMAND	65536
#define GUARD_MAX_IDENTIFIER	(1 << 20)

/*
 * guard_install - put the guard between net's connections and DCMTK;
 * max_pdu is what the SCP announces, io_timeout_s bounds the wait for the
 * rest of a PDU once it began.  Main thread, before the listener runs.
 * 0, or -1.
 */
int	guard_install(T_ASC_Network *net, int max_pdu, int io_timeout_s);

/*
 * guard_read_rq - read the peer's first PDU from fd whole into buf (OUT),
 * within timeout_s, up to limit bytes, watching stop.  0, or -1 with
 * *why set (silence, a close, a PDU too large, an I/O error).  Any thread;
 * no lock may be held.
 */
int	guard_read_rq(int fd, int timeout_s, size_t limit,
	    const std::atomic<bool> &stop, std::string &buf, const char **why);

/*
 * guard_prefetched - hand *buf (from guard_read_rq) to the connection that
 * DCMTK creates next on this thread; its reads start with these bytes.
 * NULL withdraws it (after ASC_receiveAssociation, whatever happened).
 */
void	guard_prefetched(std::string *buf);

/*
 * guard_context - tell this thread's connection the transfer syntax of an
 * accepted presentation context, so it can walk identifiers sent on it.
 */
void	guard_context(unsigned char pcid, const char *ts);

#endif
