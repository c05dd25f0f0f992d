/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control - the daemon's end of the control socket (see control.h). */
#define _GNU_SOURCE	/* struct ucred, accept4 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "node/control.h"
#include "core/log.h"
#include "core/xmem.h"

#define REQ_MAX		64
#define IO_TIMEOUT_S	2

struct control {
	int	 fd;
	char	*path;
};

int
control_peer_allowed(uid_t peer, uid_t self)
{
	return peer == 0 || peer == self;
}

static int
path_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errsz)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errsz, "control socket %s: longer than %zu bytes; "
		    "set control_socket to a shorter path", path,
		    sizeof(sa->sun_path) - 1);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

int
control_path(const struct conf *c, char *buf, size_t bufsz, char *err,
    size_t errsz)
{
	struct sockaddr_un sa;

	if (c->control_socket != NULL)
		snprintf(buf, bufsz, "%s", c->control_socket);
	else if (snprintf(buf, bufsz, "%s/control.sock", c->spool_dir) >= (int)bufsz) {
		snprintf(err, errsz, "control socket: spool_dir is too long; "
		    "set control_socket");
		return -1;
	}
	return path_addr(buf, &sa, err, errsz);
}

struct control *
control_open(const char *path, char *err, size_t errsz)
{
	struct sockaddr_un sa;
	struct control *c;
	struct stat sb;
	mode_t old;
	int fd, probe;

	if (path_addr(path, &sa, err, errsz) == -1)
		return NULL;
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errsz, "control socket %s: exists and is "
			    "not a socket", path);
			return NULL;
		}
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
			snprintf(err, errsz, "socket: %s", strerror(errno));
			return NULL;
		}
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errsz, "control socket %s answers: another "
			    "radscribed runs with this spool_dir", path);
			return NULL;
		}
		close(probe);
		if (unlink(path) == -1) {	/* a crash left it */
			snprintf(err, errsz, "control socket %s: cannot remove "
			    "the stale one: %s", path, strerror(errno));
			return NULL;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return NULL;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 8) == -1) {
		umask(old);
		snprintf(err, errsz, "control socket %s: %s", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old);
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->path = xstrdup(path);
	return c;
}

int
control_fd(const struct control *c)
{
	return c->fd;
}

static void
reply(int fd, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s), off = 0;
	ssize_t w;

	while (off < n) {
		if ((w = write(fd, s + off, n - off)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return;	/* the client went away: its loss */
		}
		off += (size_t)w;
	}
	(void)!write(fd, "\n", 1);
}

static json_object *
failure(const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(why));
	return o;
}

/* read_request - one line of at most REQ_MAX bytes; 0 or -1. */
static int
read_request(int fd, char *buf, size_t bufsz)
{
	size_t n = 0;
	ssize_t r;

	while (n < bufsz - 1) {
		if ((r = read(fd, buf + n, bufsz - 1 - n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	buf[n] = '\0';
	if (strchr(buf, '\n') == NULL)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/*
 * discard - what the client sent beyond its request (at most 64 KiB): a
 * UNIX socket closed with unread data resets the peer, reply unread.
 */
static void
discard(int fd)
{
	char buf[4096];

	for (int i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

void
control_serve(struct control *c, const struct control_ops *ops, void *arg)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char req[REQ_MAX + 2], err[512];
	json_object *o;
	int fd;

	if ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;		/* EAGAIN: another poll round took it */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		log_warn("control: no peer credentials: %s", strerror(errno));
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_request(fd, req, sizeof(req)) == -1)
		req[0] = '\0';
	if (!control_peer_allowed(cr.uid, geteuid())) {
		log_warn("control: uid %ld (pid %ld) refused: only root and "
		    "uid %ld may control radscribed", (long)cr.uid,
		    (long)cr.pid, (long)geteuid());
		o = failure("permission denied");
	} else if (req[0] == '\0') {
		o = failure("a request is one line: status, wake or reload");
	} else if (strcmp(req, CONTROL_STATUS) == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		ops->status(arg, o);
	} else if (strcmp(req, CONTROL_WAKE) == 0) {
		ops->wake(arg);
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	} else if (strcmp(req, CONTROL_RELOAD) == 0) {
		log_info("control: reload asked by uid %ld", (long)cr.uid);
		if (ops->reload(arg, err, sizeof(err)) == -1)
			o = failure(err);
		else {
			o = json_object_new_object();
			json_object_object_add(o, "ok", json_object_new_boolean(1));
		}
	} else
		o = failure("unknown request (status, wake or reload)");
	reply(fd, o);
	json_object_put(o);
	shutdown(fd, SHUT_WR);
	discard(fd);
	close(fd);
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
