-- 0002_reports.sql - drafted reports and their delivery (issue 5).

-- Node-wide values made once and kept (e.g. the default UID root).
CREATE TABLE settings (
	name			TEXT PRIMARY KEY,
	value			TEXT NOT NULL
);

-- One row per Structured Report made; a redraft adds a row that names
-- the previous one.
CREATE TABLE reports (
	id			INTEGER PRIMARY KEY,
	study_id		INTEGER NOT NULL REFERENCES studies(id),
	sop_instance_uid	TEXT NOT NULL UNIQUE,
	series_uid		TEXT NOT NULL,
	sop_class_uid		TEXT NOT NULL,
	path			TEXT NOT NULL,
	size			INTEGER NOT NULL,
	created_at		INTEGER NOT NULL,
	predecessor_id		INTEGER REFERENCES reports(id),
	superseded_by		INTEGER REFERENCES reports(id),
	model			TEXT NOT NULL,
	findings		TEXT NOT NULL,
	impression		TEXT NOT NULL
);
CREATE INDEX reports_study ON reports(study_id);

-- One row per report and configured archive.  accepted_at is set only
-- when the archive answered a C-STORE with success or a warning.
CREATE TABLE deliveries (
	id			INTEGER PRIMARY KEY,
	report_id		INTEGER NOT NULL REFERENCES reports(id),
	archive			TEXT NOT NULL,
	accepted_at		INTEGER,
	status			INTEGER,
	attempts		INTEGER NOT NULL DEFAULT 0,
	last_error		TEXT,
	UNIQUE (report_id, archive)
);
CREATE INDEX deliveries_pending ON deliveries(report_id) WHERE accepted_at IS NULL;
