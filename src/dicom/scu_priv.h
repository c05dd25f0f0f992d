/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scu_priv - the association request every SCU of the bridge makes
 * (storage, verification); C++ only, never included from C.
 */
#ifndef RS_SCU_PRIV_H
#define RS_SCU_PRIV_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"

#include "dicom/scu.h"

/* scu_ctx_fn - put the presentation contexts to propose into params. */
typedef OFCondition (*scu_ctx_fn)(T_ASC_Parameters *params, void *arg);

/*
 * scu_associate - network, parameters, the contexts add() proposes, and
 * the association request, every failure classified into res (rejected,
 * aborted, network, internal).  0 with *net and *as the caller's (end them
 * with scu_end after release, abort or drop), or -1 with nothing open.
 */
int	scu_associate(const dcm_scu_peer *peer, scu_ctx_fn add, void *arg,
	    T_ASC_Network **net, T_ASC_Association **as, dcm_scu_result *res);
/* scu_end - destroy the association and drop the network (either may be NULL). */
void	scu_end(T_ASC_Network **net, T_ASC_Association **as);

#endif
