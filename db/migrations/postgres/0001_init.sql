-- rempart schema v1 (PostgreSQL). Times are Unix nanoseconds (UTC).
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BYTEA NOT NULL
);

CREATE TABLE tenants (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	status     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- Per-tenant keys (ENC-3, TEN-2): the KEK wrapped by the root key, the data
-- key wrapped by the KEK. Deleting these rows crypto-shreds the tenant.
CREATE TABLE tenant_keys (
	tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	data_key_id TEXT NOT NULL,
	root_key_id TEXT NOT NULL,
	wrapped_kek BYTEA NOT NULL,
	wrapped_dek BYTEA NOT NULL,
	created_at  BIGINT NOT NULL,
	active      BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, data_key_id)
);

CREATE TABLE principals (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	deleted_at BIGINT
);
CREATE INDEX principals_tenant ON principals (tenant_id, created_at);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	tenant_id    TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	hash         BYTEA NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	revoked_at   BIGINT
);
CREATE INDEX api_keys_principal ON api_keys (principal_id);

CREATE TABLE records (
	tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	collection  TEXT NOT NULL,
	id          TEXT NOT NULL,
	version     BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	deleted_at  BIGINT,
	data_key_id TEXT NOT NULL,
	ciphertext  BYTEA NOT NULL,
	PRIMARY KEY (tenant_id, collection, id)
);
CREATE INDEX records_created ON records (tenant_id, collection, created_at, id);
CREATE INDEX records_updated ON records (tenant_id, collection, updated_at, id);
CREATE INDEX records_deleted ON records (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE idempotency_keys (
	tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	principal_id TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash BYTEA NOT NULL,
	collection   TEXT NOT NULL,
	record_id    TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, principal_id, key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

-- The audit log (AUD-1, AUD-2): entries are leaves of an RFC 6962 Merkle tree.
-- body holds the exact canonical bytes that were hashed.
CREATE TABLE audit_entries (
	idx          BIGINT PRIMARY KEY,
	time         BIGINT NOT NULL,
	tenant_id    TEXT,
	principal_id TEXT,
	action       TEXT NOT NULL,
	outcome      TEXT NOT NULL,
	body         BYTEA NOT NULL,
	leaf_hash    BYTEA NOT NULL
);
CREATE INDEX audit_tenant ON audit_entries (tenant_id, idx);

-- Perfect-subtree hashes at level >= 1, so proofs read O(log n) rows.
CREATE TABLE audit_nodes (
	level BIGINT NOT NULL,
	idx   BIGINT NOT NULL,
	hash  BYTEA NOT NULL,
	PRIMARY KEY (level, idx)
);

CREATE TABLE audit_tree (
	id    SMALLINT PRIMARY KEY CHECK (id = 1),
	size  BIGINT NOT NULL,
	state BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints (
	size       BIGINT PRIMARY KEY,
	root       BYTEA NOT NULL,
	note       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
