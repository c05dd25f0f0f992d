/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spool - durable file placement.  The promise behind a C-STORE success
 * starts here: data fsync'd, name in place, directory entry fsync'd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/spool.h"
#include "core/xmem.h"

struct spool {
	char	*dir;
	char	*tmp;
	char	*objects;
	char	*reports;
};

static const char *const area_names[] = {
	[SPOOL_TMP] = "tmp", [SPOOL_OBJECTS] = "objects",
	[SPOOL_REPORTS] = "reports"
};

static atomic_uint_fast64_t tmp_seq;

static int
mkdir_p(const char *path)
{
	char buf[SPOOL_PATH_MAX];
	char *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0750) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(buf, 0750) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static char *
join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int
fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

struct spool *
spool_open(const char *dir, char *err, size_t errsz)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));

	sp->dir = xstrdup(dir);
	sp->tmp = join(dir, "tmp");
	sp->objects = join(dir, "objects");
	sp->reports = join(dir, "reports");
	if (mkdir_p(sp->tmp) == -1 || mkdir_p(sp->objects) == -1 ||
	    mkdir_p(sp->reports) == -1)
		goto fail;
	/* All 256 shards up front: no C-STORE waits on a mkdir and its fsync. */
	for (int i = 0; i < 256; i++) {
		char shard[SPOOL_PATH_MAX];

		if ((size_t)snprintf(shard, sizeof(shard), "%s/%02x", sp->objects,
		    i) >= sizeof(shard)) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (mkdir(shard, 0750) == -1 && errno != EEXIST)
			goto fail;
	}
	if (fsync_dir(sp->objects) == -1 || fsync_dir(sp->dir) == -1)
		goto fail;
	return sp;
fail:
	snprintf(err, errsz, "spool %s: %s", dir, strerror(errno));
	spool_close(sp);
	return NULL;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	free(sp->dir);
	free(sp->tmp);
	free(sp->objects);
	free(sp->reports);
	free(sp);
}

const char *
spool_dir(const struct spool *sp)
{
	return sp->dir;
}

int
spool_area_path(const char *dir, enum spool_area a, char *out, size_t outsz)
{
	return (size_t)snprintf(out, outsz, "%s/%s", dir, area_names[a]) <
	    outsz ? 0 : -1;
}

int
spool_report_paths(const struct spool *sp, const char *sop_uid, char *tmp,
    size_t tmpsz, char *final, size_t finalsz)
{
	if (!spool_uid_valid(sop_uid))
		return -1;
	if ((size_t)snprintf(tmp, tmpsz, "%s/sr-%s.tmp", sp->tmp, sop_uid) >=
	    tmpsz || (size_t)snprintf(final, finalsz, "%s/%s.dcm", sp->reports,
	    sop_uid) >= finalsz)
		return -1;
	return 0;
}

int
spool_commit_file(const char *tmp_path, const char *final_path)
{
	int fd, existed;

	if ((fd = open(tmp_path, O_RDONLY | O_CLOEXEC)) == -1) {
		int e = errno;

		unlink(tmp_path);
		errno = e;
		return -1;
	}
	return spool_commit(fd, tmp_path, final_path, &existed);
}

int
spool_tmp_open(struct spool *sp, char *path, size_t pathsz)
{
	uint64_t seq = atomic_fetch_add(&tmp_seq, 1);
	int n;

	n = snprintf(path, pathsz, "%s/%ld.%llu.part", sp->tmp, (long)getpid(),
	    (unsigned long long)seq);
	if (n < 0 || (size_t)n >= pathsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
}

void
spool_tmp_discard(int fd, const char *path)
{
	if (fd >= 0)
		close(fd);
	unlink(path);
}

int
spool_uid_valid(const char *uid)
{
	size_t n = strlen(uid);

	if (n == 0 || n > 64 || uid[0] == '.' || uid[n - 1] == '.')
		return 0;
	for (const char *p = uid; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] != '.'))
			return 0;
	return 1;
}

int
spool_final_path(const struct spool *sp, const char *uid, char *path,
    size_t pathsz)
{
	uint32_t h = 2166136261u;	/* FNV-1a: spreads files over 256 dirs */
	int n;

	if (!spool_uid_valid(uid))
		return -1;
	for (const char *p = uid; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	n = snprintf(path, pathsz, "%s/%02x/%s.dcm", sp->objects,
	    (unsigned)(h & 0xff), uid);
	return n < 0 || (size_t)n >= pathsz ? -1 : 0;
}

/* spool_replace_path - UID.dcm <-> UID.r.dcm */
int
spool_replace_path(const char *current, char *out, size_t outsz)
{
	size_t n = strlen(current);
	int k;

	if (n > 6 && strcmp(current + n - 6, ".r.dcm") == 0)
		k = snprintf(out, outsz, "%.*s.dcm", (int)(n - 6), current);
	else if (n > 4 && strcmp(current + n - 4, ".dcm") == 0)
		k = snprintf(out, outsz, "%.*s.r.dcm", (int)(n - 4), current);
	else
		return -1;
	return k < 0 || (size_t)k >= outsz ? -1 : 0;
}

/* spool_path_uid - the UID in a spool file's name */
int
spool_path_uid(const char *path, char *uid, size_t uidsz)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 6 && strcmp(base + n - 6, ".r.dcm") == 0)
		n -= 6;
	else if (n > 4 && strcmp(base + n - 4, ".dcm") == 0)
		n -= 4;
	else
		return -1;
	if (n >= uidsz)
		return -1;
	memcpy(uid, base, n);
	uid[n] = '\0';
	return spool_uid_valid(uid) ? 0 : -1;
}

/* parent_fsync - fsync the directory holding path. */
static int
parent_fsync(const char *path)
{
	char dir[SPOOL_PATH_MAX];
	char *slash;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		return fsync_dir(".");
	*slash = '\0';
	return fsync_dir(dir);
}

int
spool_commit(int fd, const char *tmp_path, const char *final_path, int *existed)
{
	char dir[SPOOL_PATH_MAX];
	char *slash;
	struct stat sb;
	int saved, created = 0;

	if (fsync(fd) == -1) {
		saved = errno;
		spool_tmp_discard(fd, tmp_path);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(tmp_path);
		errno = saved;
		return -1;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s", final_path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (mkdir(dir, 0750) == 0)
			created = 1;
		else if (errno != EEXIST)
			goto fail;
	}
	*existed = stat(final_path, &sb) == 0;
	if (rename(tmp_path, final_path) == -1)
		goto fail;
	/* A new shard directory must itself be durable in objects/. */
	if ((created && parent_fsync(dir) == -1) || parent_fsync(final_path) == -1) {
		saved = errno;
		if (!*existed)
			unlink(final_path);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	unlink(tmp_path);
	errno = saved;
	return -1;
}

int
spool_unlink(const char *final_path)
{
	if (unlink(final_path) == -1)
		return -1;
	return parent_fsync(final_path);
}

int
spool_clean_tmp(struct spool *sp)
{
	DIR *d;
	struct dirent *de;
	char path[SPOOL_PATH_MAX];
	int n = 0;

	if ((d = opendir(sp->tmp)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", sp->tmp,
		    de->d_name) >= sizeof(path))
			continue;
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
spool_walk_reports(struct spool *sp, spool_walk_fn fn, void *arg)
{
	char path[SPOOL_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(sp->reports)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", sp->reports,
		    de->d_name) >= sizeof(path))
			continue;
		rc = fn(arg, path);
	}
	closedir(d);
	return rc;
}

int
spool_walk(struct spool *sp, spool_walk_fn fn, void *arg)
{
	DIR *d, *sub;
	struct dirent *de, *fe;
	char dir[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX];
	int rc = 0;

	if ((d = opendir(sp->objects)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", sp->objects,
		    de->d_name) >= sizeof(dir) || (sub = opendir(dir)) == NULL)
			continue;
		while (rc == 0 && (fe = readdir(sub)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
			    fe->d_name) >= sizeof(path))
				continue;
			rc = fn(arg, path);
		}
		closedir(sub);
	}
	closedir(d);
	return rc;
}
