/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xmem - allocation that treats out-of-memory as fatal, the one fatal()
 * allowed after threads start.  Memory returned is the caller's, freed
 * with free().
 */
#ifndef RS_XMEM_H
#define RS_XMEM_H

#include <stddef.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
/* xasprintf - *out gets a new formatted string. */
void	 xasprintf(char **out, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
