/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sender - the send stage: a thread with its own database connection
 * claims send jobs and C-STOREs each study's latest report to every
 * archive that has not accepted it yet.  A delivery is recorded as
 * accepted only on a success or warning status from the archive; refused
 * associations, failure statuses and network errors defer the job with
 * backoff under the stage's retry policy (queue_retry: send_retry_min,
 * send_retry_max, send_max_attempts, and send_max_age counted from when
 * the report was made).
 */
#ifndef RS_SENDER_H
#define RS_SENDER_H

#include <stddef.h>

#include "core/conf.h"
#include "store/queue.h"

/* Everything is copied by sender_start; the caller may free it after. */
struct sender_params {
	const char		 *database;
	const char		 *ae_title;	/* our calling AE title */
	const struct conf_archive *archives;	/* copied by sender_start */
	size_t			  narchives;
	struct queue_retry	  retry;	/* max_age_s: after the report was made */
	int			  acse_timeout;	/* s: connect and negotiation */
	int			  dimse_timeout; /* s: each C-STORE response */
	/* a relative reports.path is taken from here; NULL: as it is */
	const char		 *spool_dir;
};

struct sender;

/*
 * sender_start - start the thread, which opens its own connection to an
 * existing, migrated database (DB_EXISTING); returns once it has.  NULL
 * with err set when the database cannot be opened or the thread not
 * started.  Main thread, after dcm_init.  Free with sender_stop.
 */
struct sender *sender_start(const struct sender_params *p, char *err,
	    size_t errsz);
/*
 * sender_wake - any thread: look for work now (a send job was queued).
 * Only a hint: the thread also polls every few seconds and wakes by itself
 * at the earliest next_try of a deferred send job.  NULL does nothing.
 */
void	sender_wake(struct sender *s);
/*
 * sender_stop - main thread: finish or abort the C-STORE in progress
 * (within dimse_timeout), join and free; within a second when idle.  A
 * job cut short goes back to INCOMING (or DEFERRED if a delivery failed);
 * one left ACTIVE by a crash becomes INCOMING at the next start
 * (queue_recover).  NULL does nothing.
 */
void	sender_stop(struct sender *s);

#endif
