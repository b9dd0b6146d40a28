-- Customer-managed keys (GOV-5): the tenant's own key that wraps its
-- key-encryption keys instead of the root key. wrapper is the ID its KEKs
-- record ("cmk:" and the key's ID); uri says where the key is (a PKCS#11
-- URI or a KMS URL, never with a secret in it). Backups copy this table, so
-- that a restore knows where to ask.
CREATE TABLE tenant_cmks (
	tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
	wrapper    TEXT NOT NULL,
	uri        TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX tenant_cmks_wrapper ON tenant_cmks (wrapper);
