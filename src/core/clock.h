/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock - wall-clock time in milliseconds since the epoch.  Kept apart so
 * unit tests link tests/unit/mock_clock.c instead.  Thread-safe.
 */
#ifndef RS_CLOCK_H
#define RS_CLOCK_H

#include <stdint.h>

int64_t	clock_now_ms(void);

#endif
