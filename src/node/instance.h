/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * instance - the identifying attributes of one received SOP instance, as
 * the DICOM bridge reads them and the index records them.  Plain data.
 */
#ifndef RS_INSTANCE_H
#define RS_INSTANCE_H

#define INSTANCE_UID_MAX 64	/* PS3.5 9.1 */

struct instance_meta {
	char	sop_class_uid[INSTANCE_UID_MAX + 1];
	char	sop_instance_uid[INSTANCE_UID_MAX + 1];
	char	study_uid[INSTANCE_UID_MAX + 1];
	char	series_uid[INSTANCE_UID_MAX + 1];
	char	transfer_syntax[INSTANCE_UID_MAX + 1];
	char	patient_id[65];		/* LO, trimmed; "" when absent */
	char	calling_ae[17];
};

#endif
