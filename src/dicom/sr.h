/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sr - the draft report as a DICOM Structured Report (TID 2000), written
 * with DCMTK's dcmsr from a content template (srtemplate.h).  C face of
 * sr.cc; no DCMTK type crosses it.  Any thread; nothing is shared.
 */
#ifndef RS_SR_H
#define RS_SR_H

#include <stddef.h>

#include "dicom/qr.h"
#include "report/srtemplate.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sr_class { SR_BASIC, SR_ENHANCED, SR_COMPREHENSIVE };	/* = conf_sr_class */

/* Everything one report needs; all strings borrowed for the call. */
struct sr_request {
	const struct sr_template *tmpl;
	enum sr_class	 sop_class;
	/* every instance of the study (Current Requested Procedure Evidence);
	 * patient and study modules are copied from sources[0] */
	const char *const *sources;		/* DICOM file paths */
	size_t		 nsources;
	/* the views the model read: IMAGE references in the Findings */
	const size_t	*used;			/* indexes into sources */
	size_t		 nused;			/* 0: no IMAGE items */
	/* UTF-8; an invalid sequence becomes U+FFFD, control characters
	 * other than TAB, LF, FF and CR are dropped */
	const char	*findings;
	const char	*impression;
	/* nothing said the views show the chest: the template's
	 * body-part-note follows the disclaimer */
	int		 body_part_unknown;
	/* the device observer (TID 1004) and Contributing Equipment */
	const char	*model_name;		/* general.name of the LLM file */
	const char	*model_version;		/* general.version, or "" */
	const char	*device_uid;		/* Device Observer UID */
	const char	*software_version;	/* radscribe's */
	/* the new objects' identity, made by the caller under uid_root */
	const char	*series_uid;
	const char	*sop_instance_uid;
	int		 series_number;
	const char	*series_description;	/* LO: cut at 64 bytes */
	int		 instance_number;
	/* the report this one replaces (Predecessor Documents): all four,
	 * or all NULL */
	const char	*pred_study_uid;
	const char	*pred_series_uid;
	const char	*pred_sop_class_uid;
	const char	*pred_sop_instance_uid;
	/* NULL, or the Query/Retrieve index values of the SR written: the
	 * caller sets n and tags (qr_index_attrs_init) with every value
	 * NULL; sr_write fills the values from the data set it wrote, so
	 * the file need not be read again.  Freed by dcm_qr_attrs_clear. */
	struct dcm_qr_attrs *qr;	/* OUT */
};

/*
 * sr_write - write the report as a Part 10 file at path (created; the
 * caller fsyncs and renames it), Explicit VR Little Endian, Specific
 * Character Set ISO_IR 192: the copied patient and study attributes are
 * converted from the source's character set (a source without one but
 * with 8-bit text is read as UTF-8 if valid, else as ISO_IR 100, and a
 * warning is logged).  0, or -1 with err set and nothing left at path:
 * a source that cannot be read or lacks a valid SOP Class, SOP Instance,
 * Study or Series Instance UID; source text that cannot be converted
 * (e.g. ISO 2022 IR 87, which DCMTK's iconv back end cannot open); a bad
 * request (UID, index, missing model name); a write error.  Only the
 * last is transient.  On success r->qr (if any) holds the SR's index
 * values; on failure none.  Any thread; no exception escapes.
 */
int	sr_write(const struct sr_request *r, const char *path, char *err,
	    size_t errsz);

/* sr_sop_class_uid - the UID of an sr_class (static), NULL if unknown. */
const char *sr_sop_class_uid(enum sr_class c);

#ifdef __cplusplus
}
#endif

#endif
