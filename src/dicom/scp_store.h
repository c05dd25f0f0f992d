/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scp_store - the C-STORE service of the associations scp_server.cc
 * serves, for scp_server.cc only (C++; never included from C).
 */
#ifndef RS_SCP_STORE_H
#define RS_SCP_STORE_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"

#include <stdint.h>

#include <vector>

#include "dicom/dcmbridge.h"

/* What the C-STORE service needs of its server; set by dcm_scp_new. */
struct scp_store_conf {
	const dcm_scp_ops	*ops;
	int			 dimse_timeout;
	uint64_t		 max_instance_size;	/* 0: none */
	/* the index values to take from each data set (instance_meta.qr);
	 * empty: none */
	std::vector<uint32_t>	 qr_tags;
};

/*
 * scp_store - one C-STORE request (its data set still to be read) on the
 * presentation context pid: received into a temporary file, checked,
 * handed to sc.ops->store with ctx, and answered with the status that
 * applies.  0, or -1 when the association must be aborted.
 */
int	scp_store(const scp_store_conf &sc, void *ctx, T_ASC_Association *as,
	    T_ASC_PresentationContextID pid, T_DIMSE_C_StoreRQ &req,
	    const char *calling_ae);

#endif
