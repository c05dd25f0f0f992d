/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log - syslog or stderr.  The level is an atomic so SIGHUP can change it
 * while association threads log.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/log.h"

static atomic_int log_level = LOG_LV_INFO;
static int log_stderr;
static const char *log_ident = "radscribe";

/* The newest warning and error, for `radscribe status` (control socket). */
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char	 text[512];
	int64_t	 at;
} last[2];		/* [0] warn, [1] err or worse */

static const char *const level_names[] = { "debug", "info", "warn", "err", "crit" };
static const int syslog_prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT };

void
log_init(const char *ident, int to_stderr, enum log_level level)
{
	log_ident = ident;
	log_stderr = to_stderr;
	atomic_store(&log_level, level);
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	atomic_store(&log_level, level);
}

enum log_level
log_get_level(void)
{
	return atomic_load(&log_level);
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

int
log_last(enum log_level level, char *buf, size_t bufsz, int64_t *at)
{
	int i = level >= LOG_LV_ERR;

	pthread_mutex_lock(&last_mu);
	snprintf(buf, bufsz, "%s", last[i].text);
	*at = last[i].at;
	pthread_mutex_unlock(&last_mu);
	return *at != 0;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	struct timespec ts;

	if ((int)level < atomic_load(&log_level) && level < LOG_LV_WARN)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Peers control some of this text (AE titles, DCMTK's messages). */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = *p == '\n' ? ' ' : '?';
	clock_gettime(CLOCK_REALTIME, &ts);
	if (level >= LOG_LV_WARN) {
		int i = level >= LOG_LV_ERR;

		pthread_mutex_lock(&last_mu);
		snprintf(last[i].text, sizeof(last[i].text), "%.511s", buf);
		last[i].at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		pthread_mutex_unlock(&last_mu);
	}
	if ((int)level < atomic_load(&log_level))
		return;
	if (log_stderr) {
		struct tm tm;
		char when[32];

		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		/* One fprintf per line keeps lines from threads whole. */
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when,
		    ts.tv_nsec / 1000000, log_ident, level_names[level], buf);
	} else
		syslog(syslog_prio[level], "%s: %s", level_names[level], buf);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, lv) \
void \
name(const char *fmt, ...) \
{ \
	va_list ap; \
	va_start(ap, fmt); \
	log_vmsg(lv, fmt, ap); \
	va_end(ap); \
}
LOG_FN(log_debug, LOG_LV_DEBUG)
LOG_FN(log_info, LOG_LV_INFO)
LOG_FN(log_warn, LOG_LV_WARN)
LOG_FN(log_err, LOG_LV_ERR)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atomic_store(&log_level, LOG_LV_DEBUG);
	log_vmsg(LOG_LV_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LV_CRIT, fmt, ap);
	va_end(ap);
	abort();
}
