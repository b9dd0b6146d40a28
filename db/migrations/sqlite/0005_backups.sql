-- Backups (package backup, ADR 7): each backup's key, wrapped by a root key
-- version, is recorded before anything is written, so that the key of a
-- backup that exists is never lost; the key escrow is written from here.
-- Restore tests keep their evidence (BCK-2).
CREATE TABLE backups (
	id          TEXT PRIMARY KEY,
	status      TEXT NOT NULL,
	root_key_id TEXT NOT NULL,
	wrapped_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	finished_at INTEGER,
	data_bytes  INTEGER NOT NULL DEFAULT 0,
	row_count   INTEGER NOT NULL DEFAULT 0,
	objects     INTEGER NOT NULL DEFAULT 0,
	error       TEXT
);
CREATE INDEX backups_created ON backups (created_at);

CREATE TABLE restore_tests (
	id         TEXT PRIMARY KEY,
	backup_id  TEXT,
	started_at INTEGER NOT NULL,
	outcome    TEXT NOT NULL,
	report     TEXT NOT NULL
);
CREATE INDEX restore_tests_started ON restore_tests (started_at);
