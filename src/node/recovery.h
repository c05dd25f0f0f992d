/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recovery - start-up, before any thread claims work: ACTIVE jobs back to
 * INCOMING, partial files removed, reports and spool files a crash left
 * unrecorded removed or indexed, missing Q/R rows added.  Main thread
 * only; a failure here is fatal() (STYLE.md 4).
 */
#ifndef RS_RECOVERY_H
#define RS_RECOVERY_H

#include "core/conf.h"
#include "store/db.h"
#include "store/spool.h"

/* recovery_run - everything above, on the main thread's connection. */
void	recovery_run(struct db *db, struct spool *sp, const struct conf *conf);

#endif
