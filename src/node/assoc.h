/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * assoc - the daemon's side of each DICOM association: the verdict on a
 * calling AE (allow, allow_query), the C-STORE commit through the receive
 * path, and the Q/R look-ups.  The bridge calls these on association
 * threads; each association opens its own database connection.  The allow
 * lists are swapped whole by assoc_set_acl (reload), under a lock.
 */
#ifndef RS_ASSOC_H
#define RS_ASSOC_H

#include <stddef.h>

#include "core/conf.h"
#include "dicom/dcmbridge.h"
#include "store/spool.h"

struct assoc_ctx;

/*
 * assoc_ctx_new - conf and sp (may be NULL until assoc_set_spool) are
 * borrowed and must outlive it; the allow lists are built from conf now,
 * so a bad list stops start-up.  NULL with err set.  Main thread.
 */
struct assoc_ctx *assoc_ctx_new(const struct conf *conf, struct spool *sp,
	    char *err, size_t errsz);
/* assoc_set_spool - the spool, opened after the configuration check. */
void	assoc_set_spool(struct assoc_ctx *a, struct spool *sp);
/* assoc_warn_query - warn (once logging runs) when Q/R is open to all. */
void	assoc_warn_query(struct assoc_ctx *a);
/* assoc_ctx_free - after the SCP has stopped and drained. */
void	assoc_ctx_free(struct assoc_ctx *a);
/*
 * assoc_set_acl - allow and allow_query from nc, for associations that
 * start from now on (and the warning of assoc_warn_query).  0, or -1
 * with err and the running lists kept.
 */
int	assoc_set_acl(struct assoc_ctx *a, const struct conf *nc, char *err,
	    size_t errsz);
/* assoc_acl_counts - entries in allow and allow_query now. */
void	assoc_acl_counts(struct assoc_ctx *a, size_t *allow /* OUT */,
	    size_t *allow_query /* OUT */);
/* The callbacks to hand to dcm_scp_new, with the ctx as its app. */
const struct dcm_scp_ops *assoc_scp_ops(void);
const struct dcm_qr_ops *assoc_qr_ops(void);

#endif
