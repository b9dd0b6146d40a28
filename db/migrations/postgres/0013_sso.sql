-- Single sign-on (IAM-5). sso_providers are the OpenID providers of a tenant
-- (tenant_id NULL for the staff's). client_secret is sealed under the root
-- key (ENC-3), never stored in clear; settings is JSON (domains, JIT
-- provisioning, role mapping).
CREATE TABLE sso_providers (
	id            TEXT PRIMARY KEY,
	tenant_id     TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	issuer        TEXT NOT NULL,
	client_id     TEXT NOT NULL,
	client_secret BYTEA NOT NULL,
	settings      TEXT NOT NULL,
	enabled       BIGINT NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX sso_providers_tenant ON sso_providers (tenant_id, created_at);

-- An email domain signs in through one provider of the deployment.
CREATE TABLE sso_domains (
	domain      TEXT PRIMARY KEY,
	provider_id TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
	tenant_id   TEXT REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_provider ON sso_domains (provider_id);

-- Identities at a provider, (issuer, subject), linked to users.
CREATE TABLE sso_identities (
	issuer      TEXT NOT NULL,
	subject     TEXT NOT NULL,
	user_id     TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	provider_id TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
	tenant_id   TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);

-- Sign-ins in progress: hashes of the state and of the browser's binding
-- secret, never the secrets; a callback uses a row once (used_at).
CREATE TABLE sso_logins (
	state_hash   BYTEA PRIMARY KEY,
	binding_hash BYTEA NOT NULL,
	provider_id  TEXT NOT NULL REFERENCES sso_providers(id) ON DELETE CASCADE,
	return_to    TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	used_at      BIGINT
);
CREATE INDEX sso_logins_expiry ON sso_logins (expires_at);
