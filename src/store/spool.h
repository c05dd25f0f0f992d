/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spool - every file radscribed keeps, and the only module that knows
 * where: partial files in DIR/tmp, received objects in
 * DIR/objects/XX/<SOP Instance UID>.dcm (XX from a hash of the UID), the
 * SRs drafted in DIR/reports/<SOP Instance UID>.dcm.  A file reaches its
 * place only by rename(2) after fsync, and the directory is fsync'd after.
 * Any thread may call these; struct spool is immutable after spool_open.
 */
#ifndef RS_SPOOL_H
#define RS_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#define SPOOL_PATH_MAX	4096

struct spool;

/*
 * spool_open - create DIR, DIR/tmp, DIR/objects and DIR/reports if
 * needed.  NULL + err.
 */
struct spool *spool_open(const char *dir, char *err, size_t errsz);
void	spool_close(struct spool *sp);
const char *spool_dir(const struct spool *sp);

enum spool_area { SPOOL_TMP, SPOOL_OBJECTS, SPOOL_REPORTS };
/*
 * spool_area_path - DIR/<area> for a spool at dir, without opening it
 * (the CLI reports disk space there).  -1 if it does not fit.
 */
int	spool_area_path(const char *dir, enum spool_area a, char *out /* OUT */,
	    size_t outsz);

/*
 * spool_tmp_open - a new, empty, exclusive file in DIR/tmp.  Returns an fd
 * the caller owns, its path in path (OUT), or -1 with errno set.
 */
int	spool_tmp_open(struct spool *sp, char *path /* OUT */, size_t pathsz);
/* spool_tmp_discard - close fd (if >= 0) and unlink path. */
void	spool_tmp_discard(int fd, const char *path);
/*
 * spool_final_path - where the object with this SOP Instance UID lives.
 * -1 if the UID is not a valid UID (it is used as a file name).
 */
int	spool_final_path(const struct spool *sp, const char *sop_uid,
	    char *path /* OUT */, size_t pathsz);
/*
 * spool_replace_path - the other of the object's two names (UID.dcm and
 * UID.r.dcm): a replacement is written there, so the file it replaces
 * survives until the new one is committed.  -1 if current is neither.
 */
int	spool_replace_path(const char *current, char *out /* OUT */, size_t outsz);
/* spool_path_uid - the SOP Instance UID a spool file is named for; -1 if none. */
int	spool_path_uid(const char *path, char *uid /* OUT */, size_t uidsz);
/*
 * spool_commit - fsync and close fd (always closed), rename tmp_path to
 * final_path, fsync the directory.  0, or -1 with errno set and the tmp
 * file removed.  *existed (OUT) tells whether final_path was replaced.
 */
int	spool_commit(int fd, const char *tmp_path, const char *final_path,
	    int *existed /* OUT */);
/*
 * spool_report_paths - for the report with this SOP Instance UID: a
 * temporary name in DIR/tmp for the SR writer and its final place in
 * DIR/reports.  -1 if the UID is not valid or a path does not fit.
 */
int	spool_report_paths(const struct spool *sp, const char *sop_uid,
	    char *tmp /* OUT */, size_t tmpsz, char *final /* OUT */,
	    size_t finalsz);
/*
 * spool_commit_file - spool_commit for a file another module wrote by
 * name (an SR): opened, fsync'd, renamed to final_path, directory
 * fsync'd.  0, or -1 with errno set and the tmp file removed.
 */
int	spool_commit_file(const char *tmp_path, const char *final_path);
/* spool_unlink - remove a committed file and fsync its directory. */
int	spool_unlink(const char *final_path);
/* spool_clean_tmp - start-up: remove every file in DIR/tmp; count or -1. */
int	spool_clean_tmp(struct spool *sp);

typedef int (*spool_walk_fn)(void *arg, const char *path);
/* spool_walk - call fn for each file in objects/; stops when fn returns -1. */
int	spool_walk(struct spool *sp, spool_walk_fn fn, void *arg);
/* spool_walk_reports - the same over the files in reports/. */
int	spool_walk_reports(struct spool *sp, spool_walk_fn fn, void *arg);
/* spool_uid_valid - PS3.5 9.1: digits and dots, at most 64 chars. */
int	spool_uid_valid(const char *uid);

#endif
