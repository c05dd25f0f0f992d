-- 0003_qr.sql - the Query/Retrieve index of the generated reports (issue 6).
-- One row per report, filled from the SR's header in the transaction that
-- records the report (and at start-up for reports that lack one); with
-- query_images = yes also one row per received instance.  Text is UTF-8
-- whatever the file's Specific Character Set; an absent attribute is
-- NULL.  Attribute columns carry their DICOM keyword; times (TM) are
-- stored as HHMMSS[.FFFFFF] so that ranges compare as text.
CREATE TABLE qr_index (
	id			INTEGER PRIMARY KEY,
	-- exactly one of the two
	report_id		INTEGER UNIQUE REFERENCES reports(id)
				    ON DELETE CASCADE,
	instance_id		INTEGER UNIQUE REFERENCES instances(id)
				    ON DELETE CASCADE,
	path			TEXT NOT NULL,
	transfer_syntax		TEXT NOT NULL,
	-- patient
	PatientName		TEXT,
	PatientID		TEXT,
	IssuerOfPatientID	TEXT,
	PatientBirthDate	TEXT,
	PatientSex		TEXT,
	-- study
	StudyInstanceUID	TEXT NOT NULL,
	StudyDate		TEXT,
	StudyTime		TEXT,
	AccessionNumber		TEXT,
	StudyID			TEXT,
	StudyDescription	TEXT,
	ReferringPhysicianName	TEXT,
	PatientAge		TEXT,
	-- series
	SeriesInstanceUID	TEXT NOT NULL,
	Modality		TEXT,
	SeriesNumber		TEXT,
	SeriesDescription	TEXT,
	SeriesDate		TEXT,
	SeriesTime		TEXT,
	-- instance
	SOPInstanceUID		TEXT NOT NULL UNIQUE,
	SOPClassUID		TEXT NOT NULL,
	InstanceNumber		TEXT,
	ContentDate		TEXT,
	ContentTime		TEXT,
	InstanceCreationDate	TEXT,
	InstanceCreationTime	TEXT,
	CompletionFlag		TEXT,
	VerificationFlag	TEXT,
	PreliminaryFlag		TEXT,
	CHECK ((report_id IS NULL) != (instance_id IS NULL))
);
-- Person names match without regard to ASCII case: upper() on both sides.
CREATE INDEX qr_index_patient_name ON qr_index(upper(PatientName));
CREATE INDEX qr_index_patient_id ON qr_index(PatientID);
CREATE INDEX qr_index_study ON qr_index(StudyInstanceUID);
CREATE INDEX qr_index_study_date ON qr_index(StudyDate, StudyTime);
CREATE INDEX qr_index_accession ON qr_index(AccessionNumber);
CREATE INDEX qr_index_series ON qr_index(SeriesInstanceUID);
CREATE INDEX qr_index_modality ON qr_index(Modality);
