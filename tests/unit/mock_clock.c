/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mock_clock - link substitute for src/core/clock.c: time moves when a test says. */
#include "core/clock.h"

static int64_t now_ms = 1700000000000LL;

void	mock_clock_set(int64_t ms);

void
mock_clock_set(int64_t ms)
{
	now_ms = ms;
}

int64_t
clock_now_ms(void)
{
	return now_ms;
}
