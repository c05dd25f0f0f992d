/* SPDX-License-Identifier: GPL-2.0-or-later */
/* recovery - the start-up pass over the queue, the spool and the index. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "dicom/dcmbridge.h"
#include "dicom/qr.h"
#include "node/receive.h"
#include "node/recovery.h"
#include "store/events.h"
#include "store/instances.h"
#include "store/qr_index.h"
#include "store/queue.h"
#include "store/reports.h"

struct reindex {
	struct db	*db;
	int		 indexed, unreadable;
};

static int
reindex_one(void *arg, const char *path)
{
	struct reindex *ri = arg;
	struct instance_meta m;
	char uid[INSTANCE_UID_MAX + 8], err[512], held[4096] = "";
	struct stat sb;

	if (spool_path_uid(path, uid, sizeof(uid)) == -1)
		snprintf(uid, sizeof(uid), "%s", "");
	if (instances_path(ri->db, uid, held, sizeof(held)) == -1)
		return -1;
	if (strcmp(held, path) == 0)
		return 0;
	/* A resend renamed beside the file it replaces, whose commit a crash
	 * prevented: never acknowledged, so the indexed file stands. */
	if (held[0] != '\0' && stat(held, &sb) == 0) {
		if (spool_unlink(path) == -1)
			return -1;
		log_info("recovery: removed %s, an unacknowledged resend of "
		    "sop=%s", path, uid);
		return 0;
	}
	/* A file renamed into place whose commit a crash prevented. */
	if (dcm_file_meta(path, &m, err, sizeof(err)) == -1 ||
	    strcmp(m.sop_instance_uid, uid) != 0 || stat(path, &sb) == -1) {
		log_warn("recovery: spool file %s is not a readable instance "
		    "(%s); left in place", path, err);
		events_add(ri->db, "spool-unreadable", NULL, NULL, NULL, path);
		ri->unreadable++;
		return 0;
	}
	snprintf(m.calling_ae, sizeof(m.calling_ae), "%s", "");
	if (receive_index(ri->db, &m, path, (int64_t)sb.st_size, NULL) == -1)
		return -1;
	log_info("recovery: indexed sop=%s study=%s", m.sop_instance_uid,
	    m.study_uid);
	ri->indexed++;
	return 0;
}

/*
 * orphan_one - a report renamed into spool_dir/reports whose commit a
 * crash prevented: its job was still ACTIVE, so the study is drafted again
 * and this file, never recorded nor sent, is removed.
 */
struct orphans {
	struct db	*db;
	int		 n;
};

static int
orphan_one(void *arg, const char *path)
{
	struct orphans *o = arg;
	size_t len = strlen(path);
	int rc;

	if (len < 5 || strcmp(path + len - 4, ".dcm") != 0)
		return 0;
	if ((rc = reports_has_path(o->db, path)) == -1)
		return -1;
	if (rc == 0 && spool_unlink(path) == 0) {
		log_info("recovery: removed unrecorded report %s", path);
		o->n++;
	}
	return 0;
}

void
recovery_run(struct db *db, struct spool *sp, const struct conf *conf)
{
	struct reindex ri = { db, 0, 0 };
	struct orphans o = { db, 0 };
	int n;

	if ((n = queue_recover(db)) == -1)
		fatal("recovery: %s", db_errmsg(db));
	if (n > 0)
		log_info("recovery: %d ACTIVE jobs back to INCOMING", n);
	if ((n = spool_clean_tmp(sp)) == -1)
		fatal("recovery: cannot clean %s/tmp: %s", spool_dir(sp),
		    strerror(errno));
	if (n > 0)
		log_info("recovery: removed %d partial files", n);
	(void)o.n;	/* each removal is logged */
	if (spool_walk_reports(sp, orphan_one, &o) == -1)
		fatal("recovery: checking %s/reports: %s", conf->spool_dir,
		    db_errmsg(db));
	if ((n = qr_index_missing(db, conf->query_images,
	    dcm_attrs_read)) == -1)
		fatal("recovery: indexing for query/retrieve: %s", db_errmsg(db));
	if (n > 0)
		log_info("recovery: %d report(s)%s added to the query/retrieve "
		    "index", n, conf->query_images ? " and instance(s)" : "");
	if (spool_walk(sp, reindex_one, &ri) == -1)
		fatal("recovery: re-indexing the spool: %s", db_errmsg(db));
	if (ri.indexed || ri.unreadable)
		log_info("recovery: %d spool files re-indexed, %d unreadable",
		    ri.indexed, ri.unreadable);
}
