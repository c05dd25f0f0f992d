/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * receive - the commit step of a C-STORE: a received temporary file is
 * placed durably in the spool and indexed in SQLite, in that order, and
 * only a RECEIVE_OK may become a success status.  One struct receive per
 * association thread (it owns that thread's database connection).
 */
#ifndef RS_RECEIVE_H
#define RS_RECEIVE_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "node/instance.h"
#include "store/spool.h"


enum receive_rc {
	RECEIVE_OK,
	RECEIVE_NO_RESOURCES,	/* disk, file system or database: 0xA700 */
	RECEIVE_BAD_UID,	/* a UID unusable as a key: 0xC001 */
	RECEIVE_CONFLICT	/* the UID is held by another study or patient:
				 * 0xA900, nothing changed, an events row */
};

struct receive;

/* receive_new - opens its own connection to dbpath; sp is borrowed. */
struct receive *receive_new(struct spool *sp, const char *dbpath, char *err,
	    size_t errsz);
void	receive_free(struct receive *rc);
/* receive_db - the connection, borrowed (for audit events). */
struct db *receive_db(struct receive *rc);

/* receive_tmp_open - a temporary file in the spool; see spool_tmp_open. */
int	receive_tmp_open(struct receive *rc, char *path /* OUT */, size_t pathsz);

/*
 * receive_commit - fsync, rename into the spool, index.  Takes ownership
 * of fd and tmp_path's file: on return both are gone (moved or removed).
 * A resend of a stored UID with the same study and patient replaces it
 * atomically (the old file is removed only after the commit); one that
 * names another study or patient is RECEIVE_CONFLICT.  With m->qr set,
 * the instance's Query/Retrieve index row is written in the same
 * transaction (see receive_index).  Calls for one UID are serialised
 * across threads.
 */
enum receive_rc receive_commit(struct receive *rc, const struct instance_meta *m,
	    int fd, const char *tmp_path);

/*
 * receive_index - record an instance already at path (size bytes) in its
 * own transaction: its studies and instances rows, the study flagged for
 * a new draft when a new instance arrives after its job was made, and
 * when m->qr is set its Query/Retrieve index row (a failure there is
 * logged and costs only that row; start-up recovery makes it).  Also
 * used by start-up recovery.  *is_new (OUT, may be NULL) tells whether
 * the instance was new.  0 or -1 (see db_errmsg).
 */
int	receive_index(struct db *db, const struct instance_meta *m,
	    const char *path, int64_t size, int *is_new /* OUT */);

#endif
