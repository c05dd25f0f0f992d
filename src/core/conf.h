/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conf - radscribed.conf: "name = value" lines, '#' comments.  One table
 * in conf.c lists every key with its type, default and range.  Parsing
 * happens in main before threads exist; the result is immutable after
 * start-up except through a whole new struct conf on SIGHUP.
 */
#ifndef RS_CONF_H
#define RS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

#define CONF_AET_MAX	16

/* One value of a repeatable key, with the line it came from. */
struct conf_item {
	char	*value;
	int	 line;
};

struct conf_allow {
	char	 ae[CONF_AET_MAX + 1];
	char	*host;		/* NULL: any host */
	int	 line;
};

/* An archive the reports are sent to: archive = NAME AE_TITLE HOST PORT. */
struct conf_archive {
	char	*name;
	char	 ae[CONF_AET_MAX + 1];
	char	*host;
	int	 port;
	int	 line;
};

/* A C-MOVE destination: move_destination = AE_TITLE HOST PORT. */
struct conf_dest {
	char	 ae[CONF_AET_MAX + 1];
	char	*host;
	int	 port;
	int	 line;
};

enum conf_redraft { CONF_REDRAFT, CONF_IGNORE };
/* a study whose images name no body part: draft it (with a note) or refuse */
enum conf_body_part { CONF_BP_DRAFT, CONF_BP_REFUSE };
enum conf_sr_class { CONF_SR_BASIC, CONF_SR_ENHANCED, CONF_SR_COMPREHENSIVE };

/* Model settings of one report section; NULL strings: not set. */
struct conf_section {
	char	*model;		/* LLM GGUF */
	char	*mmproj;	/* vision projector GGUF */
	char	*prompt;	/* NULL: the model file's, else built-in */
	int	 max_tokens;
};

struct conf {
	char			*path;
	char			 ae_title[CONF_AET_MAX + 1];
	char			*listen_addr;	/* "*" means any */
	int			 listen_port;
	char			*spool_dir;
	char			*database;
	char			*control_socket;	/* NULL: spool_dir/control.sock */
	int			 settle_time;
	int			 max_associations;
	int			 max_pdu;
	int			 acse_timeout;
	int			 dimse_timeout;
	int			 shutdown_timeout;
	enum log_level		 log_level;
	struct conf_allow	*allow;
	size_t			 nallow;
	struct conf_item	*sop_classes;	/* empty: the built-in list */
	size_t			 nsop_classes;

	/* query/retrieve: who may query (empty: any caller), where to move */
	struct conf_allow	*allow_query;
	size_t			 nallow_query;
	struct conf_dest	*move_dests;
	size_t			 nmove_dests;
	int			 query_images;	/* also serve received instances */

	/* report drafting; model/mmproj apply to both sections unless a
	 * section names its own; all NULL: the default model */
	char			*model;
	char			*mmproj;
	struct conf_section	 findings;
	struct conf_section	 impression;
	char			*prompt_layout;
	char			*lora;		/* adapter GGUF merged at load, or NULL */
	int			 beams;
	int			 threads;
	/* hostile-input bounds: a received instance, one decoded image */
	int64_t			 max_instance_size;
	int64_t			 max_decoded_size;
	int			 max_query_results;	/* C-FIND matches */
	enum conf_redraft	 redraft;
	enum conf_body_part	 unknown_body_part;

	/* the Structured Report */
	char			*sr_template;	/* NULL: the installed one */
	enum conf_sr_class	 sr_sop_class;
	int			 sr_series_number;
	char			*sr_series_description;
	char			*uid_root;	/* NULL: made once, kept in the database */

	/* drafting: transient failures (a busy database, a full disk) */
	int			 draft_retry_min;
	int			 draft_retry_max;
	int			 draft_max_attempts;	/* 0: no limit */
	int			 draft_max_age;		/* s after the job; 0: none */

	/* delivery */
	struct conf_archive	*archives;
	size_t			 narchives;
	int			 send_retry_min;
	int			 send_retry_max;
	int			 send_max_attempts;	/* 0: no limit */
	int			 send_max_age;
};

/*
 * conf_load - parse path into *conf (OUT, caller frees with conf_fini).
 * Returns 0, or -1 with "path:line: message" in err.  On error *conf
 * holds nothing to free.
 */
int	conf_load(const char *path, struct conf *conf /* OUT */, char *err,
	    size_t errsz);
/* conf_defaults - fill *conf with the defaults only (no file). */
void	conf_defaults(struct conf *conf /* OUT */);
void	conf_fini(struct conf *conf);
/* conf_print - the effective configuration, one "key = value" a line. */
void	conf_print(const struct conf *conf, FILE *fp);
/* conf_key_count/conf_key_name - the table, for the documentation test. */
size_t	conf_key_count(void);
const char *conf_key_name(size_t i);

#endif
