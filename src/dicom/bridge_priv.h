/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bridge_priv - helpers shared by the bridge's C++ files; never included from C. */
#ifndef RS_BRIDGE_PRIV_H
#define RS_BRIDGE_PRIV_H

#include <stddef.h>
#include <stdint.h>

class DcmFileFormat;
class DcmItem;
class DcmTagKey;

/* bridge_load_header - read path up to its pixel data into ff; -1 + err. */
int	bridge_load_header(DcmFileFormat &ff, const char *path, char *err,
	    size_t errsz);

/*
 * bridge_grey - the first frame of ff as 8-bit grey (pixels.cc), decoding
 * compressed pixel data first.  *px (OUT) is malloc'd, freed by the caller
 * with free().  0, or -1 with err set (no path in it).
 */
int	bridge_grey(DcmFileFormat &ff, unsigned char **px, int *w, int *h,
	    char *err, size_t errsz);

/* bridge_get_lo - a text element, trimmed, into out ("" when absent). */
void	bridge_get_lo(DcmItem *item, const DcmTagKey &tag, char *out, size_t outsz);

/* bridge_get_uid - a UID element into out; -1 if absent, empty or too long. */
int	bridge_get_uid(DcmItem *item, const DcmTagKey &tag, char *out, size_t outsz);

/*
 * bridge_attrs - the values of ntags top-level attributes of ff (group
 * 0002 from its meta information) as dcm_attrs_read gives them: values[i]
 * (OUT) malloc'd or NULL.  Converts ff's data set to UTF-8 in place.
 * what names ff in err.  0, or -1 with err set and every values[i] NULL;
 * no exception escapes (qr_attrs.cc).
 */
int	bridge_attrs(DcmFileFormat &ff, const char *what, const uint32_t *tags,
	    size_t ntags, char **values /* OUT */, char *err, size_t errsz);

#endif
