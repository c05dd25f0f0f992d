/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * worker - the infer stage: a thread with its own database connection
 * claims settled studies, picks the views, decodes them, runs the model
 * for Findings and for Impression, has the spool commit the Structured
 * Report durably and, in one transaction, records it (reports.c), indexes
 * it for Q/R, wakes the send job and marks the infer job DONE.  A study
 * it cannot draft ends FAILED with the reason; transient errors defer the
 * job under the drafting retry policy (draft_* keys).  Log lines about a
 * job start with J<id>:.
 */
#ifndef RS_WORKER_H
#define RS_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "store/spool.h"

struct worker_params {
	const struct conf *conf;	/* borrowed; must outlive the worker */
	const char	*models_dir;	/* where the default model is */
	const char	*sr_template;	/* XML template path */
	const char	*sr_schema;	/* its RelaxNG schema */
	const char	*uid_root;
	struct spool	*spool;		/* borrowed; where reports go */
	/* called after a report was queued for delivery (any thread) */
	void		(*queued)(void *arg);
	void		*arg;
};

struct worker;

/*
 * worker_new - load the model(s) and the SR template (main thread,
 * start-up): a model or template that does not load is an error here,
 * not later.  NULL with err set.
 */
struct worker *worker_new(const struct worker_params *p, char *err,
	    size_t errsz);
/* worker_start - open the database and start the thread; -1 + err. */
int	worker_start(struct worker *w, char *err, size_t errsz);
/* worker_wake - any thread: a job may be waiting. */
void	worker_wake(struct worker *w);
/*
 * worker_stop - main thread: the study being drafted is finished (its
 * job stays ACTIVE if the stop comes first and is recovered at the next
 * start), the thread joined, everything freed.  Also for a worker that
 * was never started.
 */
void	worker_stop(struct worker *w);

/* One section's model as loaded; strings borrowed until worker_stop. */
struct worker_model {
	const char	*section;	/* "findings", "impression" */
	const char	*model, *mmproj;
	const char	*name, *version;	/* general.*; NULL if absent */
	const char	*prompt;
	const char	*lora;		/* NULL: none */
	int		 shared;	/* the findings model, loaded once */
};

/* worker_model - section i (0, 1) into *m (OUT); -1 past the last.
 * Any thread: the models do not change after worker_new. */
int	worker_model(const struct worker *w, int i, struct worker_model *m /* OUT */);
/* worker_drafting - 1 and the study UID being drafted (buf) and since
 * when (*since, ms), or 0 when idle.  Any thread. */
int	worker_drafting(struct worker *w, char *buf, size_t bufsz,
	    int64_t *since /* OUT */);

/* worker_default_model - the shipped model's files under dir (static buffers). */
void	worker_default_model(const char *dir, const char **model,
	    const char **mmproj);

#endif
