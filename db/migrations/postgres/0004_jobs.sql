-- Background jobs (package jobs), coordinated through the database so that
-- any node runs them and a job whose node dies resumes elsewhere from its
-- last saved state. unique_key names a scheduled job's period, so that it
-- is enqueued once however many nodes try.
CREATE TABLE jobs (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	unique_key  TEXT UNIQUE,
	params      TEXT NOT NULL,
	state       TEXT,
	status      TEXT NOT NULL,
	done        BIGINT NOT NULL DEFAULT 0,
	total       BIGINT NOT NULL DEFAULT 0,
	attempts    BIGINT NOT NULL DEFAULT 0,
	error       TEXT,
	run_after   BIGINT NOT NULL,
	lease_owner TEXT,
	lease_until BIGINT,
	created_at  BIGINT NOT NULL,
	started_at  BIGINT,
	finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs (status, run_after);
CREATE INDEX jobs_kind ON jobs (kind, created_at);
