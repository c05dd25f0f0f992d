/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * settle - a study becomes an infer job once no instance of it has
 * arrived for settle_time, across associations.  Called periodically by
 * the settler thread on its own connection.
 */
#ifndef RS_SETTLE_H
#define RS_SETTLE_H

#include <stdint.h>

#include "store/db.h"

/* settle_run - make jobs for studies quiet since settle_ms; count or -1. */
int	settle_run(struct db *db, int64_t settle_ms);

/*
 * settle_redraft - studies flagged by a late instance and quiet since
 * settle_ms: their finished infer job goes back to INCOMING.  Count or -1.
 */
int	settle_redraft(struct db *db, int64_t settle_ms);

#endif
