/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control - the daemon's UNIX control socket: `radscribe status` asks the
 * running radscribed what only it knows (models loaded, what it drafts,
 * its last error), and `radscribe reload` / the queue-changing commands
 * wake or reload it.  One request line, one JSON reply line, then close.
 * Only root and the daemon's own user are served (SO_PEERCRED).
 *
 * Server side (control_open .. control_close): radscribed's main thread.
 * Client side (control_request): the CLI.
 */
#ifndef RS_CONTROL_H
#define RS_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "core/conf.h"

/* Requests, one per connection. */
#define CONTROL_STATUS	"status"
#define CONTROL_WAKE	"wake"
#define CONTROL_RELOAD	"reload"

/* control_path - conf's control_socket, else spool_dir/control.sock, into
 * buf.  0, or -1 when it does not fit a sockaddr_un (err says so). */
int	control_path(const struct conf *conf, char *buf, size_t bufsz,
	    char *err, size_t errsz);

/* What the daemon does for each request; arg is theirs. */
struct control_ops {
	/* status: add the daemon's facts to o (borrowed) */
	void	(*status)(void *arg, json_object *o);
	/* wake: the worker, settler and sender look at the queue now */
	void	(*wake)(void *arg);
	/* reload: re-read the config; 0, or -1 with err */
	int	(*reload)(void *arg, char *err, size_t errsz);
};

struct control;

/*
 * control_open - bind path (mode 0600).  A stale socket left by a crash is
 * replaced; one that answers means another radscribed runs on this spool,
 * and that is an error, as is a path that exists and is not a socket.
 * NULL with err set.
 */
struct control *control_open(const char *path, char *err, size_t errsz);
/* control_fd - the listening descriptor, for poll(2). */
int	control_fd(const struct control *c);
/*
 * control_serve - accept one waiting client and answer it (reads and
 * writes time out after 2 s, so a stuck client cannot stall main).
 */
void	control_serve(struct control *c, const struct control_ops *ops,
	    void *arg);
/* control_close - close and unlink the socket; NULL does nothing. */
void	control_close(struct control *c);

/* control_peer_allowed - the rule: root, or the daemon's own user. */
int	control_peer_allowed(uid_t peer, uid_t self);

/* control_request results */
#define CONTROL_OK	0
#define CONTROL_DOWN	(-1)	/* nothing answers at path: daemon not running */
#define CONTROL_FAIL	(-2)	/* refused, an error reply, or a broken reply */

/*
 * control_request - send req to the daemon at path; on CONTROL_OK *reply
 * (OUT, caller puts) is the JSON reply with "ok": true.  Otherwise err
 * says why and *reply is NULL.
 */
int	control_request(const char *path, const char *req,
	    json_object **reply /* OUT */, char *err, size_t errsz);

#endif
