/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * instance - the identifying attributes of one received SOP instance, as
 * the DICOM bridge reads them and the index records them.  Plain data.
 */
#ifndef RS_INSTANCE_H
#define RS_INSTANCE_H

#define INSTANCE_UID_MAX 64	/* PS3.5 9.1 */

struct dcm_qr_attrs;	/* dicom/qr.h */

struct instance_meta {
	char	sop_class_uid[INSTANCE_UID_MAX + 1];
	char	sop_instance_uid[INSTANCE_UID_MAX + 1];
	char	study_uid[INSTANCE_UID_MAX + 1];
	char	series_uid[INSTANCE_UID_MAX + 1];
	char	transfer_syntax[INSTANCE_UID_MAX + 1];
	char	patient_id[65];		/* LO, trimmed; "" when absent */
	char	calling_ae[17];
	/*
	 * The Query/Retrieve index values of the instance, taken by the
	 * C-STORE handler from the data set it received (the tags of
	 * dcm_scp_params.qr_attrs); borrowed for the store call.  NULL: the
	 * instance gets no index row (query_images = no, or they could not
	 * be read).
	 */
	const struct dcm_qr_attrs *qr;
};

#endif
