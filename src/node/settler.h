/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * settler - the thread that turns quiet studies into infer jobs and, with
 * redraft = redraft, reopens the drafts of studies that got a new
 * instance (the rules are settle.c's).  It polls every second on its own
 * connection; settler_wake is a hint.
 */
#ifndef RS_SETTLER_H
#define RS_SETTLER_H

#include <stddef.h>

#include "core/conf.h"
#include "node/worker.h"

struct settler;

/*
 * settler_start - conf and w are borrowed until settler_stop; the worker
 * is woken when there is work.  NULL with err set.  Main thread.
 */
struct settler *settler_start(const struct conf *conf, struct worker *w,
	    char *err, size_t errsz);
/* settler_wake - any thread: look now rather than within a second. */
void	settler_wake(struct settler *s);
/* settler_stop - main thread: the thread joined, everything freed. */
void	settler_stop(struct settler *s);

#endif
