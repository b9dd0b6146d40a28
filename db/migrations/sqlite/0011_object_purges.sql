-- Attachment objects whose rows were purged (BCK-3, GOV-5). A purge deletes
-- the row first, in the audited transaction that re-checks the attachment
-- is still due (a restore racing the purge keeps row and object), and
-- queues its object here in the same transaction; the object is deleted
-- next and its entry removed, retried until the store confirms.
CREATE TABLE object_purges (
	object_key TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	queued_at  INTEGER NOT NULL
);
