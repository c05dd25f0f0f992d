/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reports - reports, their views and deliveries. */
#include <stdio.h>
#include <string.h>

#include "store/db_sql.h"
#include "store/reports.h"
