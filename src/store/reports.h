/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reports - the only writer of tables reports, report_views and
 * deliveries: a drafted report recorded (superseding the last one), its
 * views, each archive's delivery, and purge.  Callers pass their own
 * thread's struct db; nothing is kept.
 */
#ifndef RS_REPORTS_H
#define RS_REPORTS_H

#include <stdint.h>

#include "store/db.h"

#endif
