/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dcmbridge - the C face of radscribe's DCMTK code.  No DCMTK type and no
 * C++ exception crosses this header: opaque handles, plain structs, int
 * returns.  Error text goes into caller buffers.  Call dcm_init from main
 * before any thread exists.
 */
#ifndef RS_DCMBRIDGE_H
#define RS_DCMBRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "node/instance.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dcm_init - data dictionary check, TCP_NODELAY, DCMTK logging into log.c. */
int	dcm_init(char *err, size_t errsz);

/*
 * dcm_sop_class_uid - the UID for a storage SOP class given by UID or by
 * DCMTK name; NULL when it is neither a known storage class nor a UID.
 * The string is static.
 */
const char *dcm_sop_class_uid(const char *name_or_uid);
/* dcm_xfer_name - DCMTK's name of a transfer syntax UID (static), or the UID. */
const char *dcm_xfer_name(const char *uid);
/* dcm_sop_class_name - a readable name for a UID (static), or the UID. */
const char *dcm_sop_class_name(const char *uid);
/* dcm_default_sop_classes - NULL-terminated static list: CR, DX x2, SC. */
const char *const *dcm_default_sop_classes(void);

/*
 * dcm_file_meta - read the identifying attributes of a DICOM file (Part 10
 * or raw dataset).  0, or -1 with err set.  calling_ae is left empty.
 */
int	dcm_file_meta(const char *path, struct instance_meta *m /* OUT */,
	    char *err, size_t errsz);

/* What the worker reads to pick views and recognise a chest study. */
struct dcm_image_info {
	char	modality[17];
	char	body_part[17];		/* Body Part Examined */
	char	view_position[17];	/* View Position (0018,5101) */
	char	laterality[3];		/* Image Laterality */
	char	series_description[65];
	char	study_description[65];
	char	protocol_name[65];
	char	image_comments[129];
	char	photometric[17];
	int	instance_number;	/* 0 when absent */
	int	rows, columns;		/* 0 when absent: not an image */
};

/*
 * dcm_image_info - those attributes of a DICOM file, read up to the pixel
 * data; strings trimmed, empty when absent.  0, or -1 with err set.
 */
int	dcm_image_info(const char *path, struct dcm_image_info *info /* OUT */,
	    char *err, size_t errsz);

/*
 * dcm_store_syntaxes - the transfer syntax UIDs radscribed accepts for
 * storage, NULL-terminated, static.  Every one has a decoder.
 */
const char *const *dcm_store_syntaxes(void);
/*
 * dcm_codecs_init - register the decoders of every accepted syntax:
 * DCMTK's JPEG, JPEG-LS and RLE, and OpenJPEG for JPEG 2000, which may
 * use threads threads per image (<= 0: one).  Main thread, before any
 * other thread exists; a second call does nothing.
 */
void	dcm_codecs_init(int threads);
/*
 * dcm_set_decoded_limit - bytes one image may decode to (all its frames,
 * from Rows, Columns, Samples per Pixel, Bits Allocated and Number of
 * Frames), checked before decoding; 0: no limit.  Main thread, before
 * any other thread exists.
 */
void	dcm_set_decoded_limit(uint64_t bytes);
/* dcm_codecs_fini - deregister them again (tests); main thread. */
void	dcm_codecs_fini(void);
/*
 * dcm_codecs_check - decode a built-in image (encoded by DCMTK's and
 * GDCM's tools) in every accepted syntax through the worker's pixel path
 * and compare it with what it should be: exact for lossless syntaxes,
 * within 1/16 of the range for lossy ones.  Returns how many syntaxes
 * passed, or -1 with the first failure in err.  Main thread, after
 * dcm_codecs_init.
 */
int	dcm_codecs_check(char *err, size_t errsz);
/*
 * dcm_read_grey - the first frame of a greyscale DICOM image as 8-bit grey:
 * Modality LUT, the first VOI window or min-max, MONOCHROME1 inverted as
 * displayed.  *px (OUT) is malloc'd, freed by the caller with free().
 * 0, or -1 with err set.
 */
int	dcm_read_grey(const char *path, unsigned char **px, int *w, int *h,
	    char *err, size_t errsz);

/* ---- Storage SCP (and Query/Retrieve SCP: dicom/qr.h) ---- */

struct dcm_assoc_info {
	char	calling_ae[17];
	char	called_ae[17];
	char	peer[64];		/* numeric address */
	int	called_ok;		/* called AE title is ours */
	/* what the requester proposed: storage (to send us instances, or
	 * any other class), Query/Retrieve (storage contexts in the SCP
	 * role, for C-GET, count as Query/Retrieve), verification */
	int	wants_store;
	int	wants_qr;
	int	wants_verification;
};

enum dcm_verdict {
	DCM_ACCEPT,			/* every service */
	DCM_REJECT_CALLED,		/* permanent, called AE not recognised */
	DCM_REJECT_CALLING,		/* permanent, calling AE not recognised */
	DCM_REJECT_TRANSIENT,		/* transient, no reason (e.g. database down) */
	DCM_ACCEPT_STORE,		/* storage and verification only */
	DCM_ACCEPT_QR			/* Query/Retrieve and verification only */
};

enum dcm_store_rc {
	DCM_STORE_OK,
	DCM_STORE_NO_RESOURCES,		/* 0xA700 */
	DCM_STORE_BAD_UID,		/* 0xC001 */
	DCM_STORE_CONFLICT		/* 0xA900: UID held by another study or patient */
};

/* Called on association threads; each association has its own ctx. */
struct dcm_scp_ops {
	/* assoc_open - decide on the association; return its context. */
	void	*(*assoc_open)(void *app, const struct dcm_assoc_info *ai,
		    enum dcm_verdict *verdict /* OUT */);
	/* tmp_open - an fd for a new temporary file, its path in path. */
	int	 (*tmp_open)(void *ctx, char *path, size_t pathsz);
	/* tmp_discard - drop a temporary file (closes fd if >= 0). */
	void	 (*tmp_discard)(void *ctx, int fd, const char *path);
	/* store - commit; takes ownership of fd and the temporary file.
	 * m and m->qr are borrowed for the call. */
	enum dcm_store_rc (*store)(void *ctx, const struct instance_meta *m,
		    int fd, const char *tmp_path);
	/* assoc_close - ctx (may be NULL) is no longer used. */
	void	 (*assoc_close)(void *ctx);
};

struct dcm_qr_ops;	/* dicom/qr.h */
struct dcm_qr_attrs;	/* dicom/qr.h */

struct dcm_scp_params {
	const char		 *ae_title;
	const char		 *listen_addr;	/* "*" or "0.0.0.0": any */
	int			  port;
	int			  max_associations;
	int			  max_pdu;
	int			  acse_timeout;
	int			  dimse_timeout;
	/* a C-STORE data set above this gets 0xA700 (0: no limit) */
	uint64_t		  max_instance_size;
	const char *const	 *sop_classes;	/* UIDs, NULL-terminated */
	/* Query/Retrieve on the same port; NULL: not offered.  Borrowed,
	 * called with the association's context from assoc_open. */
	const struct dcm_qr_ops	 *qr_ops;
	/* the Query/Retrieve index values a C-STORE takes from the data set
	 * it received and hands to ops->store (instance_meta.qr): the tags
	 * of this struct are copied, its values unused.  NULL: none. */
	const struct dcm_qr_attrs *qr_attrs;
};

struct dcm_scp;

/*
 * dcm_scp_new - bind and listen now (so start-up fails early).  params and
 * the strings in it are copied; ops, params->qr_ops and app are borrowed
 * for the life of the SCP.  NULL with err set.
 */
struct dcm_scp *dcm_scp_new(const struct dcm_scp_params *params,
	    const struct dcm_scp_ops *ops, void *app, char *err, size_t errsz);
/* dcm_scp_run - accept until dcm_scp_stop; one thread per association. */
int	dcm_scp_run(struct dcm_scp *scp);
/* dcm_scp_stop - any thread: the listener stops accepting within 1 s. */
void	dcm_scp_stop(struct dcm_scp *scp);
/* dcm_scp_drain - wait up to timeout_s for associations; returns how many remain. */
int	dcm_scp_drain(struct dcm_scp *scp, int timeout_s);
/* dcm_scp_active - associations now in progress. */
int	dcm_scp_active(struct dcm_scp *scp);
/* dcm_scp_free - after run returned and drain; closes the socket. */
void	dcm_scp_free(struct dcm_scp *scp);

#ifdef __cplusplus
}
#endif

#endif
