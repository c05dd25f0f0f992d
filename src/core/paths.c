/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * paths - installed data files, else the source tree's copies (see
 * paths.h).  Shared by radscribed and radscribe so both find the same
 * template, schema and default model.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "core/paths.h"

/* paths_data_file - pkgdatadir first, then the source tree */
const char *
paths_data_file(char *buf, const char *installed, const char *in_tree)
{
	snprintf(buf, PATHS_MAX, "%s/%s", RS_PKGDATADIR, installed);
	if (access(buf, R_OK) == 0)
		return buf;
	snprintf(buf, PATHS_MAX, "%s/%s", RS_SRCDIR, in_tree);
	return buf;
}

/* paths_sr_template - the configured template or the installed one */
const char *
paths_sr_template(const struct conf *conf, char *buf)
{
	if (conf->sr_template != NULL)
		return conf->sr_template;
	return paths_data_file(buf, "templates/tid2000.xml",
	    "dicom/templates/tid2000.xml");
}

/* paths_sr_schema - the template schema */
const char *
paths_sr_schema(char *buf)
{
	return paths_data_file(buf, "sr-template.rng", "dicom/sr-template.rng");
}

/* paths_models - the default model's directory */
const char *
paths_models(char *buf)
{
	return paths_data_file(buf, "models", "models");
}
