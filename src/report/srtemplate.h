/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * srtemplate - the report's content template (an XML file in dicom/templates),
 * validated with libxml2 against dicom/sr-template.rng and read into a
 * plain immutable struct at start-up; shared read-only by the worker.
 */
#ifndef RS_SRTEMPLATE_H
#define RS_SRTEMPLATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sr_code {
	char	value[17];	/* Code Value (SH) */
	char	scheme[17];	/* Coding Scheme Designator (SH) */
	char	meaning[65];	/* Code Meaning (LO) */
};

/* The concepts and fixed texts of the TID 2000 tree; see the schema. */
struct sr_template {
	struct sr_code	 title;			/* root: (18748-4, LN) */
	struct sr_code	 language;		/* TID 1204 value, e.g. (en-US, RFC5646) */
	struct sr_code	 findings_section;	/* CID 7001 heading */
	struct sr_code	 findings_item;		/* TEXT in the section, CID 7002 */
	struct sr_code	 impression_section;
	struct sr_code	 impression_item;
	struct sr_code	 image_purpose;		/* CID 7003, e.g. (121080, DCM) */
	/* first TEXT of the Findings section; whitespace collapsed */
	char		*disclaimer;		/* TEXT, e.g. "machine-generated draft ..." */
	struct sr_code	 disclaimer_concept;	/* e.g. (121106, DCM, "Comment") */
	/* TEXT after the disclaimer when no view said it shows the chest
	 * (unknown_body_part = draft); SR_BODY_PART_NOTE when the template
	 * has none */
	char		*body_part_note;
	struct sr_code	 body_part_concept;
	char		*manufacturer;		/* of the device observer */
	/* Purpose of Reference of the Contributing Equipment item, IHE AIR
	 * (Newcode1, 99IHE, "Processing Algorithm") */
	struct sr_code	 equipment_purpose;
	char		*path;			/* the file it came from */
};

#define SR_BODY_PART_NOTE "The images did not state the body part examined; " \
	"they were read as a chest radiograph."

/*
 * sr_template_load - parse xml_path, validate it against rng_path, fill a
 * new template.  NULL with "file:line: message" in err (the template's
 * line, or the schema's when the schema is at fault; "file: message" when
 * a file cannot be read).  Every string is checked against its DICOM VR
 * (SH/LO, in bytes of UTF-8).  Main thread, start-up: nothing
 * is printed and no libxml2 global is changed.  The template is the
 * caller's, immutable, freed with sr_template_free.
 */
struct sr_template *sr_template_load(const char *xml_path,
	    const char *rng_path, char *err, size_t errsz);
/* sr_template_free - NULL does nothing. */
void	sr_template_free(struct sr_template *t);

#ifdef __cplusplus
}
#endif

#endif
