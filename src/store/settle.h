/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * settle - a study becomes an infer job once no instance of it has
 * arrived for settle_time, across associations; a study that gets a new
 * instance after that is drafted again.  Owns the studies columns
 * job_created_at and redraft for their whole life: set by the receive
 * path, acted on by the settler thread, cleared when the worker starts.
 * Each caller passes its own thread's connection.
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

/*
 * settle_note_arrival - a new instance of study_id was indexed (in the
 * caller's transaction): if the study was already handed to the queue it
 * is flagged for a new draft.  1 flagged, 0 not, -1 database error.
 */
int	settle_note_arrival(struct db *db, int64_t study_id);

/*
 * settle_drafting - the worker starts drafting study_id: the flag is
 * cleared now, so an instance arriving during the draft sets it again.
 * uid (OUT) gets the study's UID.  0, or -1 (database error, no study).
 */
int	settle_drafting(struct db *db, int64_t study_id, char *uid /* OUT */,
	    size_t uidsz);

#endif
