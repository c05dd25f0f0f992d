-- 0005_patient.sql - the Patient ID each instance arrived with (issue 13):
-- a SOP Instance UID stays with its study and patient, so a resend that
-- names another patient is refused.  NULL: received before this migration.

ALTER TABLE instances ADD COLUMN patient_id TEXT;
