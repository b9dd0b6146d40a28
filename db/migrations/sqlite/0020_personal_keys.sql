-- Personal API keys (IAM-6): a person's own keys, each with a mandatory
-- expiry. A key authenticates as its person with the person's current
-- role; only a hash of its secret is stored. They live apart from service
-- accounts' api_keys so that nothing counting machine keys (the bootstrap
-- check of a system administrator) counts a person's.
CREATE TABLE personal_keys (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	tenant_id    TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	hash         BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER,
	revoked_why  TEXT
);
CREATE INDEX personal_keys_user ON personal_keys (user_id, created_at);
