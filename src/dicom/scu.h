/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scu - the Storage SCU: C-STORE one DICOM file to a peer over DCMTK's
 * ASC/DIMSE layer, one association per call, released afterwards.  Used
 * by the sender thread; calls share nothing but DCMTK's process-wide
 * connect timeout.  No DCMTK type and no C++ exception crosses this
 * header.  It decides nothing: the caller classifies the outcome.
 */
#ifndef RS_SCU_H
#define RS_SCU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where to send; all strings borrowed for the call. */
struct dcm_scu_peer {
	const char	*calling_ae;	/* our AE title */
	const char	*called_ae;	/* the archive's */
	const char	*host;		/* name or IPv4 address */
	int		 port;
	int		 acse_timeout;	/* s: connect, and the A-ASSOCIATE-AC */
	int		 dimse_timeout;	/* s: waiting for the C-STORE-RSP */
};

/* What became of one dcm_scu_store call. */
enum dcm_scu_rc {
	DCM_SCU_STATUS = 0,		/* the peer answered: see status */
	DCM_SCU_FILE,			/* file unreadable; nothing sent */
	DCM_SCU_NETWORK,		/* no connection, timeout, lost */
	DCM_SCU_REJECTED_PERMANENT,	/* A-ASSOCIATE-RJ, rejected-permanent */
	DCM_SCU_REJECTED_TRANSIENT,	/* A-ASSOCIATE-RJ, rejected-transient */
	DCM_SCU_ABORTED,		/* the peer sent A-ABORT */
	DCM_SCU_NO_CONTEXT,		/* no presentation context accepted */
	DCM_SCU_INTERNAL		/* DCMTK or memory error on our side */
};

struct dcm_scu_result {
	enum dcm_scu_rc	 rc;
	unsigned	 status;	/* DIMSE status (rc DCM_SCU_STATUS) */
	char		 comment[65];	/* Error Comment (0000,0902), or "" */
	/* rc != DCM_SCU_STATUS: what happened, e.g. the reject reason */
	char		 detail[256];
	/* from the file (filled once it was read) */
	char		 sop_class_uid[65];
	char		 sop_instance_uid[65];
	char		 transfer_syntax[65];	/* the one it was sent in */
};

/*
 * dcm_scu_store - associate with peer proposing the file's SOP class with
 * the file's transfer syntax, and Explicit and Implicit VR Little Endian;
 * send the file (converted only where the archive accepted another
 * uncompressed syntax); release.  0 when the peer answered (res->status
 * holds its DIMSE status, success or not), -1 otherwise with res->rc and
 * res->detail set.  A response lost to a timeout or an abort counts as no
 * answer, although the peer may have kept the object.  Blocks for about
 * acse_timeout + dimse_timeout at most, plus DCMTK's socket send timeout
 * (60 s) while the peer reads nothing and its release timeout while a
 * peer that answered does not confirm the release.
 * Any thread; sets DCMTK's global dcmConnectionTimeout.
 */
int	dcm_scu_store(const struct dcm_scu_peer *peer, const char *path,
	    struct dcm_scu_result *res /* OUT */);

/* ---- one association, many files (C-MOVE sub-operations) ---- */

/* One SOP class, in one transfer syntax, the association must carry. */
struct dcm_scu_offer {
	const char	*sop_class_uid;
	const char	*transfer_syntax;
};

struct dcm_scu_assoc;

/*
 * dcm_scu_open - associate with peer proposing, for each distinct offer,
 * its SOP class with its transfer syntax and with Explicit and Implicit
 * VR Little Endian (128 presentation contexts at most).  The association,
 * or NULL with res->rc and res->detail set.  peer and its strings are
 * borrowed until dcm_scu_close.  Blocks for acse_timeout at most.  Any
 * thread; sets DCMTK's global dcmConnectionTimeout.
 */
struct dcm_scu_assoc *dcm_scu_open(const struct dcm_scu_peer *peer,
	    const struct dcm_scu_offer *offers, size_t n,
	    struct dcm_scu_result *res /* OUT */);
/*
 * dcm_scu_send - one C-STORE of the file at path on a, as dcm_scu_store
 * sends it; move_originator_ae (NULL: none) and move_originator_id fill
 * the Move Originator fields of the request (PS3.7 9.1.1.1).  0 when the
 * peer answered (res->status), -1 otherwise.  After DCM_SCU_NETWORK or
 * DCM_SCU_ABORTED the association is gone: later sends fail at once.
 */
int	dcm_scu_send(struct dcm_scu_assoc *a, const char *path,
	    const char *move_originator_ae, unsigned move_originator_id,
	    struct dcm_scu_result *res /* OUT */);
/* dcm_scu_close - release a (abort it if it broke) and free it; NULL: no-op. */
void	dcm_scu_close(struct dcm_scu_assoc *a);

/*
 * dcm_scu_echo - associate with peer proposing the Verification SOP Class
 * (Implicit VR Little Endian), send one C-ECHO, release (scu_echo.cc).
 * 0 when the peer answered (res->status holds its DIMSE status), -1
 * otherwise with res->rc and res->detail set.  Blocks for about
 * acse_timeout + dimse_timeout at most.  Any thread; sets DCMTK's global
 * dcmConnectionTimeout.  PS3.7 9.1.5.
 */
int	dcm_scu_echo(const struct dcm_scu_peer *peer,
	    struct dcm_scu_result *res /* OUT */);

enum dcm_status_class {
	DCM_STATUS_SUCCESS,		/* 0x0000 */
	DCM_STATUS_WARNING,		/* 0x0001, 0xBxxx, 0x0107, 0x0116 */
	DCM_STATUS_FAILURE		/* everything else, pending included */
};

/* dcm_status_class - PS3.7 Annex C classification of a C-STORE status. */
enum dcm_status_class dcm_status_class(unsigned status);
/* dcm_status_text - DCMTK's name for a C-STORE status (static string). */
const char *dcm_status_text(unsigned status);
/* dcm_scu_rc_name - a short name for rc, for logs (static string). */
const char *dcm_scu_rc_name(enum dcm_scu_rc rc);

#ifdef __cplusplus
}
#endif

#endif
