/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log - the one place messages leave the process: syslog (LOG_DAEMON) or
 * stderr in the foreground.  Any thread may call it.  Never log patient
 * data at LOG_INFO or above: UIDs and AE titles only.
 */
#ifndef RS_LOG_H
#define RS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LV_DEBUG, LOG_LV_INFO, LOG_LV_WARN, LOG_LV_ERR, LOG_LV_CRIT };

/* log_init - ident is borrowed for the life of the process. */
void	log_init(const char *ident, int to_stderr, enum log_level level);
/* log_set_level - safe from any thread (atomic); used by SIGHUP reload. */
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* log_level_parse - 0 and *out set on success, -1 on an unknown name. */
int	log_level_parse(const char *name, enum log_level *out /* OUT */);
const char *log_level_name(enum log_level level);

/*
 * log_last - the newest message at level (LOG_LV_WARN: warnings; LOG_LV_ERR:
 * errors and worse), whatever the log level, into buf and *at (ms since
 * the epoch, OUT).  1 if there was one, else 0 with buf empty.  Any thread.
 */
int	log_last(enum log_level level, char *buf, size_t bufsz,
	    int64_t *at /* OUT */);

void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_msg(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level level, const char *fmt, va_list ap);

/* fatal - start-up errors only (tier 2): logs at crit and exits 1. */
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* panic - broken contract (tier 3): logs and aborts, leaving a core. */
void	panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
