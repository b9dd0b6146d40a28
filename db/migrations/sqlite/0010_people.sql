-- People (IAM-1, IAM-3, IAM-6): staff and tenant users are principals, like
-- service accounts, so that API keys, grants and the audit trail name them
-- the same way; users holds what only a person has. email is stored
-- lowercased and is unique across the deployment: it is what a person signs
-- in with. password_hash is a PHC argon2id string, never the password.
CREATE TABLE users (
	id                  TEXT PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
	tenant_id           TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	email               TEXT NOT NULL UNIQUE,
	status              TEXT NOT NULL,
	password_hash       TEXT,
	password_changed_at INTEGER,
	last_login_at       INTEGER,
	created_at          INTEGER NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id, created_at);

-- The hashes of a user's previous passwords, for the no-reuse rule (IAM-3).
CREATE TABLE password_history (
	user_id    TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	hash       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

-- Sessions of people (IAM-6): the console's cookie sessions and the
-- short-lived API access tokens. token_hash is SHA-256 of the secret part of
-- the token; the token itself is never stored. A session ends at expires_at
-- (absolute), after idle_timeout seconds without use, or when revoked.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	tenant_id    TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	kind         TEXT NOT NULL,
	token_hash   BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	idle_timeout INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER,
	revoked_why  TEXT,
	ip           TEXT NOT NULL,
	user_agent   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Invitations (IAM-1): a one-time, expiring link. token_hash is SHA-256 of
-- the link's secret. tenant_id is NULL for staff.
CREATE TABLE invitations (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	email       TEXT NOT NULL,
	role        TEXT NOT NULL,
	token_hash  BLOB NOT NULL,
	invited_by  TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	accepted_at INTEGER,
	revoked_at  INTEGER
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, created_at);
