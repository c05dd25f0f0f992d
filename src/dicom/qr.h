/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr - the C face of the Query/Retrieve SCP (scp_qr.cc) and of the header
 * reader that fills its index (qr_attrs.cc).  The bridge turns a C-FIND,
 * C-MOVE or C-GET identifier into a struct dcm_qr_query (UTF-8 values,
 * plain tags) and asks the daemon through struct dcm_qr_ops, on the
 * association's thread, with the association's context.  No DCMTK type
 * and no C++ exception crosses this header.  struct dcm_qr_attrs carries
 * an object's index values from where the bridge holds its data set (a
 * C-STORE, sr_write) to the index, so no file is read twice.
 */
#ifndef RS_DICOM_QR_H
#define RS_DICOM_QR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A data element tag as one number: group in the high 16 bits. */
#define DCM_QR_TAG(g, e)	(((uint32_t)(g) << 16) | (uint32_t)(e))

enum dcm_qr_model {
	DCM_QR_PATIENT_ROOT,		/* PS3.4 C.6.1 */
	DCM_QR_STUDY_ROOT		/* PS3.4 C.6.2 */
};

enum dcm_qr_level {			/* Query/Retrieve Level (0008,0052) */
	DCM_QR_PATIENT,
	DCM_QR_STUDY,
	DCM_QR_SERIES,
	DCM_QR_IMAGE
};

/* One attribute of the request identifier. */
struct dcm_qr_key {
	uint32_t	 tag;
	/*
	 * UTF-8, leading and trailing spaces removed, values separated by
	 * backslashes as encoded; "" asks for the value only (universal
	 * matching).  Never NULL.
	 */
	const char	*value;
	int		 sequence;	/* an SQ: never matched, returned empty */
};

/*
 * What the requester asked.  For C-FIND the bridge has already checked
 * the level against the model and the unique keys of the levels above
 * (present, single value); for C-MOVE and C-GET the unique key of the
 * level too.  The bridge adds the unique keys of the level and the
 * levels above as return keys when the requester left them out.
 */
struct dcm_qr_query {
	enum dcm_qr_model	 model;
	enum dcm_qr_level	 level;
	const struct dcm_qr_key	*keys;
	size_t			 nkeys;
};

/*
 * The matches of a C-FIND: n rows of the query's nkeys values, row i's
 * value of keys[k] at v[i * nkeys + k]; NULL where the attribute is not
 * supported at this level (it is returned zero length).  v and every
 * string in it are malloc'd by whoever filled the struct and freed by
 * the bridge with free().
 */
struct dcm_qr_matches {
	size_t	  n;
	char	**v;
	int	  unsupported;	/* a key was neither matched nor returned: 0xFF01 */
	int	  truncated;	/* more than max_query_results matched */
};

/* One instance a C-MOVE or C-GET sends; path malloc'd, freed by the bridge. */
struct dcm_qr_file {
	char	*path;
	char	 sop_class_uid[65];
	char	 sop_instance_uid[65];
	char	 transfer_syntax[65];
};

enum dcm_qr_rc {
	DCM_QR_OK,
	DCM_QR_BAD_IDENTIFIER,		/* 0xA900: not valid for the SOP class */
	DCM_QR_CANNOT_PROCESS,		/* 0xC000: e.g. a malformed date range */
	DCM_QR_NO_RESOURCES		/* 0xA700 (find), 0xA701 (move, get) */
};

/* Called on association threads with the context assoc_open returned. */
struct dcm_qr_ops {
	/*
	 * find - the matches of q into *m (OUT, zeroed by the caller).  On
	 * anything but DCM_QR_OK, *m holds nothing and why says what went
	 * wrong (it becomes the Error Comment).
	 */
	enum dcm_qr_rc	(*find)(void *ctx, const struct dcm_qr_query *q,
			    struct dcm_qr_matches *m /* OUT */, char *why,
			    size_t whysz);
	/*
	 * retrieve - the instances q selects: *files (OUT) a malloc'd array
	 * of *nfiles, freed by the bridge with free() after each path.
	 */
	enum dcm_qr_rc	(*retrieve)(void *ctx, const struct dcm_qr_query *q,
			    struct dcm_qr_file **files /* OUT */,
			    size_t *nfiles /* OUT */, char *why, size_t whysz);
	/*
	 * destination - a C-MOVE destination by AE title: 0 with host (OUT)
	 * and *port (OUT) filled, or -1 when it is not configured.
	 */
	int		(*destination)(void *ctx, const char *ae, char *host,
			    size_t hostsz, int *port /* OUT */);
};

/* Most tags one struct dcm_qr_attrs carries. */
#define DCM_QR_ATTRS_MAX	64

/*
 * Chosen top-level attributes of one DICOM object as UTF-8 strings, as
 * dcm_attrs_read gives them (the same conversion and trimming), taken
 * from a data set the bridge holds.  Whoever asks sets n and tags (the
 * index's: qr_index_attrs_init); the bridge fills values: malloc'd, NULL
 * when absent or empty, freed by dcm_qr_attrs_clear (or free() each).
 */
struct dcm_qr_attrs {
	size_t		 n;
	uint32_t	 tags[DCM_QR_ATTRS_MAX];
	char		*values[DCM_QR_ATTRS_MAX];
};

/* dcm_qr_attrs_clear - free a's values and set them NULL; tags stay. */
void	dcm_qr_attrs_clear(struct dcm_qr_attrs *a);

/*
 * dcm_attrs_read - the values of ntags top-level attributes of the DICOM
 * file at path, read up to its pixel data and converted to UTF-8 from its
 * Specific Character Set: values[i] (OUT) is a malloc'd string (spaces
 * trimmed, multiple values joined by backslashes) or NULL when absent or
 * empty; the caller frees each with free().  DCM_QR_TAG(0x0002, 0x0010)
 * yields the file's transfer syntax.  0, or -1 with err set and nothing
 * to free.  Any thread.
 */
int	dcm_attrs_read(const char *path, const uint32_t *tags, size_t ntags,
	    char **values /* OUT */, char *err, size_t errsz);

#ifdef __cplusplus
}
#endif

#endif
