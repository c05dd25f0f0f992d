/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qr_schema - the table of Query/Retrieve attributes: the required and
 * unique keys of PS3.4 C.6.1.1 and C.6.2.1 at each level, the optional
 * keys an SR header carries, and the computed study attributes.
 */
#include <stddef.h>

#include "store/qr_schema.h"

#define T DCM_QR_TAG
const struct qr_attr qr_schema_attrs[] = {
	/* PATIENT: Patient's Name R, Patient ID U */
	{ T(0x0010, 0x0010), "PatientName",		DCM_QR_PATIENT, QR_PN, NULL },
	{ T(0x0010, 0x0020), "PatientID",		DCM_QR_PATIENT, QR_TEXT, NULL },
	{ T(0x0010, 0x0021), "IssuerOfPatientID",	DCM_QR_PATIENT, QR_TEXT, NULL },
	{ T(0x0010, 0x0030), "PatientBirthDate",	DCM_QR_PATIENT, QR_DA, NULL },
	{ T(0x0010, 0x0040), "PatientSex",		DCM_QR_PATIENT, QR_TEXT, NULL },
	{ T(0x0020, 0x1200), "NumberOfPatientRelatedStudies", DCM_QR_PATIENT, QR_COUNT,
	  "count(DISTINCT StudyInstanceUID)" },
	{ T(0x0020, 0x1202), "NumberOfPatientRelatedSeries", DCM_QR_PATIENT, QR_COUNT,
	  "count(DISTINCT SeriesInstanceUID)" },
	{ T(0x0020, 0x1204), "NumberOfPatientRelatedInstances", DCM_QR_PATIENT, QR_COUNT,
	  "count(*)" },
	/* STUDY: Study Date, Time, Accession Number, Study ID R; Study Instance UID U */
	{ T(0x0020, 0x000d), "StudyInstanceUID",	DCM_QR_STUDY, QR_UI, NULL },
	{ T(0x0008, 0x0020), "StudyDate",		DCM_QR_STUDY, QR_DA, NULL },
	{ T(0x0008, 0x0030), "StudyTime",		DCM_QR_STUDY, QR_TM, NULL },
	{ T(0x0008, 0x0050), "AccessionNumber",		DCM_QR_STUDY, QR_TEXT, NULL },
	{ T(0x0020, 0x0010), "StudyID",			DCM_QR_STUDY, QR_TEXT, NULL },
	{ T(0x0008, 0x1030), "StudyDescription",	DCM_QR_STUDY, QR_TEXT, NULL },
	{ T(0x0008, 0x0090), "ReferringPhysicianName",	DCM_QR_STUDY, QR_PN, NULL },
	{ T(0x0010, 0x1010), "PatientAge",		DCM_QR_STUDY, QR_TEXT, NULL },
	{ T(0x0008, 0x0061), "Modality",		DCM_QR_STUDY, QR_INSTUDY, NULL },
	{ T(0x0008, 0x0062), "SOPClassUID",		DCM_QR_STUDY, QR_INSTUDY, NULL },
	{ T(0x0020, 0x1206), "NumberOfStudyRelatedSeries", DCM_QR_STUDY, QR_COUNT,
	  "count(DISTINCT SeriesInstanceUID)" },
	{ T(0x0020, 0x1208), "NumberOfStudyRelatedInstances", DCM_QR_STUDY, QR_COUNT,
	  "count(*)" },
	/* SERIES: Modality, Series Number R; Series Instance UID U */
	{ T(0x0020, 0x000e), "SeriesInstanceUID",	DCM_QR_SERIES, QR_UI, NULL },
	{ T(0x0008, 0x0060), "Modality",		DCM_QR_SERIES, QR_TEXT, NULL },
	{ T(0x0020, 0x0011), "SeriesNumber",		DCM_QR_SERIES, QR_IS, NULL },
	{ T(0x0008, 0x103e), "SeriesDescription",	DCM_QR_SERIES, QR_TEXT, NULL },
	{ T(0x0008, 0x0021), "SeriesDate",		DCM_QR_SERIES, QR_DA, NULL },
	{ T(0x0008, 0x0031), "SeriesTime",		DCM_QR_SERIES, QR_TM, NULL },
	{ T(0x0020, 0x1209), "NumberOfSeriesRelatedInstances", DCM_QR_SERIES, QR_COUNT,
	  "count(*)" },
	/* IMAGE: Instance Number R; SOP Instance UID U (PS3.4 C.6.1.1.5) */
	{ T(0x0008, 0x0018), "SOPInstanceUID",		DCM_QR_IMAGE, QR_UI, NULL },
	{ T(0x0008, 0x0016), "SOPClassUID",		DCM_QR_IMAGE, QR_UI, NULL },
	{ T(0x0020, 0x0013), "InstanceNumber",		DCM_QR_IMAGE, QR_IS, NULL },
	{ T(0x0008, 0x0023), "ContentDate",		DCM_QR_IMAGE, QR_DA, NULL },
	{ T(0x0008, 0x0033), "ContentTime",		DCM_QR_IMAGE, QR_TM, NULL },
	{ T(0x0008, 0x0012), "InstanceCreationDate",	DCM_QR_IMAGE, QR_DA, NULL },
	{ T(0x0008, 0x0013), "InstanceCreationTime",	DCM_QR_IMAGE, QR_TM, NULL },
	/* SR Document General Module (PS3.4 C.6.1.1.5.1, Table C.6-5) */
	{ T(0x0040, 0xa491), "CompletionFlag",		DCM_QR_IMAGE, QR_TEXT, NULL },
	{ T(0x0040, 0xa493), "VerificationFlag",	DCM_QR_IMAGE, QR_TEXT, NULL },
	{ T(0x0040, 0xa496), "PreliminaryFlag",		DCM_QR_IMAGE, QR_TEXT, NULL },
};
#undef T
const size_t qr_schema_nattrs = sizeof(qr_schema_attrs) / sizeof(qr_schema_attrs[0]);

/* qr_schema_find - the table entry of a tag */
const struct qr_attr *
qr_schema_find(uint32_t tag)
{
	for (size_t i = 0; i < qr_schema_nattrs; i++)
		if (qr_schema_attrs[i].tag == tag)
			return &qr_schema_attrs[i];
	return NULL;
}

/* qr_schema_stored - read from the file, not computed */
int
qr_schema_stored(const struct qr_attr *a)
{
	return a->kind != QR_COUNT && a->kind != QR_INSTUDY;
}
