/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog - the read model behind radscribe list, show, report and stats:
 * queries over studies, jobs, reports and events that change nothing.
 * Callers pass their own struct db; results are the caller's.
 */
#ifndef RS_CATALOG_H
#define RS_CATALOG_H

#include <stdint.h>

#include "store/db.h"

#endif
