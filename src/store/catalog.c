/* SPDX-License-Identifier: GPL-2.0-or-later */
/* catalog - read-only queries for the CLI. */
#include <stdio.h>
#include <string.h>

#include "store/catalog.h"
#include "store/db_sql.h"
