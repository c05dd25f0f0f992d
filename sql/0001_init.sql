-- 0001_init.sql - receive, queue and audit tables (issue 2).
-- Times are milliseconds since the epoch (UTC).

CREATE TABLE studies (
	id			INTEGER PRIMARY KEY,
	study_uid		TEXT NOT NULL UNIQUE,
	first_received_at	INTEGER NOT NULL,
	last_received_at	INTEGER NOT NULL,
	-- set when the study settled and its infer job was made
	job_created_at		INTEGER,
	-- 1: an instance arrived after the job was made; draft again
	redraft			INTEGER NOT NULL DEFAULT 0 CHECK (redraft IN (0, 1))
);
CREATE INDEX studies_unsettled ON studies(last_received_at) WHERE job_created_at IS NULL;

CREATE TABLE instances (
	id			INTEGER PRIMARY KEY,
	sop_instance_uid	TEXT NOT NULL UNIQUE,
	study_id		INTEGER NOT NULL REFERENCES studies(id),
	series_uid		TEXT NOT NULL,
	sop_class_uid		TEXT NOT NULL,
	transfer_syntax		TEXT NOT NULL,
	path			TEXT NOT NULL,
	size			INTEGER NOT NULL,
	received_at		INTEGER NOT NULL,
	calling_ae		TEXT NOT NULL,
	-- how often the same instance was received again (each replaced the file)
	replaced		INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instances_study ON instances(study_id);

-- One row per study and stage; see radscribed(8), QUEUE.
CREATE TABLE jobs (
	id			INTEGER PRIMARY KEY,
	study_id		INTEGER NOT NULL REFERENCES studies(id),
	stage			TEXT NOT NULL CHECK (stage IN ('infer', 'send')),
	state			TEXT NOT NULL CHECK (state IN
				    ('INCOMING', 'ACTIVE', 'DEFERRED', 'DONE', 'FAILED', 'HOLD')),
	attempts		INTEGER NOT NULL DEFAULT 0,
	next_try		INTEGER,
	last_error		TEXT,
	created_at		INTEGER NOT NULL,
	updated_at		INTEGER NOT NULL,
	UNIQUE (study_id, stage)
);
CREATE INDEX jobs_claim ON jobs(stage, state, next_try);

-- Audit trail: security events and admin actions.
CREATE TABLE events (
	id			INTEGER PRIMARY KEY,
	at			INTEGER NOT NULL,
	kind			TEXT NOT NULL,
	calling_ae		TEXT,
	called_ae		TEXT,
	peer			TEXT,
	detail			TEXT
);
CREATE INDEX events_at ON events(at);
