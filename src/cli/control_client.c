/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control_client - the CLI's end of the control socket (see control.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "node/control.h"

#define REPLY_MAX	(256 * 1024)
#define TIMEOUT_S	10

int
control_request(const char *path, const char *req, json_object **out,
    char *err, size_t errsz)
{
	struct timeval tv = { TIMEOUT_S, 0 };
	struct sockaddr_un sa;
	json_object *o, *ok, *why;
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, rc = CONTROL_FAIL;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "control socket %s: path too long", path);
		return CONTROL_FAIL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return CONTROL_FAIL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(err, errsz, "control socket %s: %s", path,
		    strerror(errno));
		close(fd);
		/* no socket, or nobody listening on it: not running */
		return errno == ENOENT || errno == ECONNREFUSED ?
		    CONTROL_DOWN : CONTROL_FAIL;
	}
	if (dprintf(fd, "%s\n", req) < 0) {
		snprintf(err, errsz, "control socket %s: %s", path,
		    strerror(errno));
		goto out;
	}
	buf = malloc(REPLY_MAX + 1);
	while (buf != NULL && n < REPLY_MAX &&
	    (r = read(fd, buf + n, REPLY_MAX - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsz, "control socket %s: %s", path,
			    strerror(errno));
			goto out;
		}
		n += (size_t)r;
	}
	if (buf == NULL || n == 0) {
		snprintf(err, errsz, "control socket %s: no reply", path);
		goto out;
	}
	buf[n] = '\0';
	if ((o = json_tokener_parse(buf)) == NULL ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "ok", &ok)) {
		json_object_put(o);
		snprintf(err, errsz, "control socket %s: not a reply", path);
		goto out;
	}
	if (!json_object_get_boolean(ok)) {
		snprintf(err, errsz, "radscribed: %s",
		    json_object_object_get_ex(o, "error", &why) ?
		    json_object_get_string(why) : "request failed");
		json_object_put(o);
		goto out;
	}
	*out = o;
	rc = CONTROL_OK;
out:
	free(buf);
	close(fd);
	return rc;
}
