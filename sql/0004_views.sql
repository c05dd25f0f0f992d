-- 0004_views.sql - what `radscribe show` tells of a draft (issue 7): the
-- views the worker chose and how long the model took.  NULL timings:
-- a report drafted before this migration.

CREATE TABLE report_views (
	report_id		INTEGER NOT NULL REFERENCES reports(id)
				    ON DELETE CASCADE,
	-- 1: the frontal (or unknown) view, 2: the lateral
	ordinal			INTEGER NOT NULL CHECK (ordinal IN (1, 2)),
	sop_instance_uid	TEXT NOT NULL,
	kind			TEXT NOT NULL,
	-- View Position (0018,5101) as received; '' when absent
	view_position		TEXT NOT NULL,
	PRIMARY KEY (report_id, ordinal)
);

-- milliseconds: the whole draft (claim to report on disk) and each section
ALTER TABLE reports ADD COLUMN draft_ms INTEGER;
ALTER TABLE reports ADD COLUMN findings_ms INTEGER;
ALTER TABLE reports ADD COLUMN impression_ms INTEGER;
