/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * instances - the only writer of tables studies (identity columns) and
 * instances: the receive index, the lookups recovery and the worker need,
 * and purge.  Settle state (job_created_at, redraft) belongs to settle.c.
 * Callers pass their own thread's struct db; nothing is kept.
 */
#ifndef RS_INSTANCES_H
#define RS_INSTANCES_H

#include <stdint.h>

#include "store/db.h"

#endif
