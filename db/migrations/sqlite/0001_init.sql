-- rempart schema v1 (SQLite). Times are Unix nanoseconds (UTC).
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);

CREATE TABLE tenants (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	status     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- Per-tenant keys (ENC-3, TEN-2): the KEK wrapped by the root key, the data
-- key wrapped by the KEK. Deleting these rows crypto-shreds the tenant.
CREATE TABLE tenant_keys (
	tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	data_key_id TEXT NOT NULL,
	root_key_id TEXT NOT NULL,
	wrapped_kek BLOB NOT NULL,
	wrapped_dek BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	active      INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, data_key_id)
);

CREATE TABLE principals (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	deleted_at INTEGER
);
CREATE INDEX principals_tenant ON principals (tenant_id, created_at);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	tenant_id    TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	hash         BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER
);
CREATE INDEX api_keys_principal ON api_keys (principal_id);

CREATE TABLE records (
	tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	collection  TEXT NOT NULL,
	id          TEXT NOT NULL,
	version     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	deleted_at  INTEGER,
	data_key_id TEXT NOT NULL,
	ciphertext  BLOB NOT NULL,
	PRIMARY KEY (tenant_id, collection, id)
);
CREATE INDEX records_created ON records (tenant_id, collection, created_at, id);
CREATE INDEX records_updated ON records (tenant_id, collection, updated_at, id);
CREATE INDEX records_deleted ON records (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE idempotency_keys (
	tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	principal_id TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash BLOB NOT NULL,
	collection   TEXT NOT NULL,
	record_id    TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, principal_id, key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

-- The audit log (AUD-1, AUD-2): entries are leaves of an RFC 6962 Merkle tree.
-- body holds the exact canonical bytes that were hashed.
CREATE TABLE audit_entries (
	idx          INTEGER PRIMARY KEY,
	time         INTEGER NOT NULL,
	tenant_id    TEXT,
	principal_id TEXT,
	action       TEXT NOT NULL,
	outcome      TEXT NOT NULL,
	body         BLOB NOT NULL,
	leaf_hash    BLOB NOT NULL
);
CREATE INDEX audit_tenant ON audit_entries (tenant_id, idx);

-- Perfect-subtree hashes at level >= 1, so proofs read O(log n) rows.
CREATE TABLE audit_nodes (
	level INTEGER NOT NULL,
	idx   INTEGER NOT NULL,
	hash  BLOB NOT NULL,
	PRIMARY KEY (level, idx)
);

CREATE TABLE audit_tree (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	size  INTEGER NOT NULL,
	state BLOB NOT NULL
);

CREATE TABLE audit_checkpoints (
	size       INTEGER PRIMARY KEY,
	root       BLOB NOT NULL,
	note       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
