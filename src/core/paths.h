/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * paths - where the node's data files are: the installed copy under
 * pkgdatadir, else the source tree's, so that radscribed and radscribe
 * run from the build tree before make install.  Pure; any thread.
 */
#ifndef RS_PATHS_H
#define RS_PATHS_H

#include "core/conf.h"

#define PATHS_MAX	4096

/*
 * paths_data_file - "pkgdatadir/installed" when readable, else
 * "srcdir/in_tree", into buf (PATHS_MAX bytes, the caller's).  Returns buf.
 */
const char *paths_data_file(char *buf, const char *installed,
	    const char *in_tree);
/* paths_sr_template - conf's sr_template, else the installed TID 2000
 * template; returns buf or the borrowed conf string. */
const char *paths_sr_template(const struct conf *conf, char *buf);
/* paths_sr_schema - the RelaxNG schema of SR templates, into buf. */
const char *paths_sr_schema(char *buf);
/* paths_models - the directory of the default model, into buf. */
const char *paths_models(char *buf);

#endif
