/* SPDX-License-Identifier: GPL-2.0-or-later */
/* instances - studies and instances rows: index, lookups, purge. */
#include <stdio.h>
#include <string.h>

#include "store/db_sql.h"
#include "store/instances.h"
