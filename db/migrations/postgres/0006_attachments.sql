-- Attachments (call recordings, documents) of records. The content is one
-- object of the attachments store (object_key), sealed with the streaming
-- AES-256-GCM of package keys under the tenant's data key data_key_id; meta,
-- the plaintext's hex SHA-256 and the file name, is sealed under the same key
-- (ENC-2, TEN-2: a digest of service data would let anyone holding the
-- database confirm a file they have). size is the plaintext's length in
-- bytes. Backups copy the object of every row (SELECT object_key FROM
-- attachments).
CREATE TABLE attachments (
	tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	collection   TEXT NOT NULL,
	record_id    TEXT NOT NULL,
	id           TEXT NOT NULL,
	object_key   TEXT NOT NULL UNIQUE,
	data_key_id  TEXT NOT NULL,
	meta         BYTEA NOT NULL,
	content_type TEXT NOT NULL,
	size         BIGINT NOT NULL,
	created_at   BIGINT NOT NULL,
	deleted_at   BIGINT,
	PRIMARY KEY (tenant_id, collection, record_id, id),
	FOREIGN KEY (tenant_id, collection, record_id) REFERENCES records (tenant_id, collection, id)
);
CREATE INDEX attachments_deleted ON attachments (deleted_at) WHERE deleted_at IS NOT NULL;

-- Tenants deleted whose attachment objects are still to be removed from the
-- attachments store (GOV-5). A row is added in the transaction that deletes
-- the tenant and removed once every object under the tenant's prefix is gone.
CREATE TABLE attachment_tenant_purges (
	tenant_id  TEXT PRIMARY KEY,
	deleted_at BIGINT NOT NULL
);
