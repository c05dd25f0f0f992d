/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dsscan - a walk over the raw bytes of a data set, before DCMTK parses
 * it: DCMTK 3.6.7 parses nested sequences recursively with no limit, so a
 * peer's deeply nested data set would overflow a thread's stack and kill
 * the daemon.  The walk is iterative, follows the element structure the
 * way DCMTK reads it (explicit or implicit VR little endian, deflated,
 * encapsulated pixel data, undefined-length UN as an implicit sequence,
 * defined-length sequences found through the data dictionary) and refuses
 * more than a set nesting depth, or a structure it cannot follow.  Bridge
 * only; any thread (the data dictionary is read under DCMTK's own lock).
 */
#ifndef RS_DSSCAN_H
#define RS_DSSCAN_H

#include <stddef.h>
#include <stdint.h>

/* Nested sequences allowed; real CR, DX and SR data sets stay far below. */
#define DSSCAN_MAX_DEPTH	64

/*
 * dsscan_file - the data set in path from byte off on, in transfer syntax
 * ts (a UID; little endian explicit, implicit or deflated, or an
 * encapsulated syntax).  0 when it may be parsed, -1 with the reason in
 * why (too deep, a structure that cannot be followed, a read error).
 */
int	dsscan_file(const char *path, uint64_t off, const char *ts,
	    int max_depth, char *why, size_t whysz);

/* dsscan_buf - the same for n bytes in memory. */
int	dsscan_buf(const void *p, size_t n, const char *ts, int max_depth,
	    char *why, size_t whysz);

#endif
