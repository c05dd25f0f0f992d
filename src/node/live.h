/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live - what only the running daemon knows (pid, uptime, associations,
 * models, the study being drafted, the last warning), for the control
 * socket's status request.  No patient data: UIDs only.  Main thread.
 */
#ifndef RS_LIVE_H
#define RS_LIVE_H

#include <stdint.h>

#include <json-c/json.h>

#include "core/conf.h"
#include "dicom/dcmbridge.h"
#include "node/worker.h"

/* Borrowed views of the daemon's parts. */
struct live {
	const struct conf	*conf;
	struct dcm_scp		*scp;
	struct worker		*worker;
	int64_t			 started_at;	/* ms */
};

/* live_status - add the daemon's fields to o. */
void	live_status(const struct live *l, json_object *o);

#endif
