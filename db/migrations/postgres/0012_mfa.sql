-- Second factors (IAM-4). A TOTP factor's secret is sealed (AES-256-GCM)
-- under the deployment's MFA key, itself wrapped by the root key; it is
-- never stored in clear. last_step is the last TOTP time step accepted: a
-- code is accepted only for a later step (compare-and-set), so never twice.
-- A security key (WebAuthn) keeps its credential ID, the credential as
-- go-webauthn records it (JSON: the COSE public key, flags, AAGUID; no
-- secret) and its signature counter, for clone detection. confirmed_at is NULL while an
-- enrolment waits for its first code.
CREATE TABLE mfa_factors (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	kind          TEXT NOT NULL,
	name          TEXT NOT NULL,
	secret        BYTEA,
	last_step     BIGINT NOT NULL DEFAULT 0,
	credential_id BYTEA,
	webauthn      BYTEA,
	sign_count    BIGINT NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	confirmed_at  BIGINT,
	last_used_at  BIGINT
);
CREATE INDEX mfa_factors_user ON mfa_factors (user_id, created_at);
CREATE UNIQUE INDEX mfa_factors_credential ON mfa_factors (credential_id);

-- Recovery codes: only version || salt || SHA-256 of each (identity/recovery);
-- a used code is deleted.
CREATE TABLE mfa_recovery_codes (
	id      TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
	hash    BYTEA NOT NULL
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

-- When a session last proved a second factor (step-up), and whether it may
-- only enrol one (staff, or a tenant that requires MFA, without a factor).
ALTER TABLE sessions ADD COLUMN mfa_at BIGINT;
ALTER TABLE sessions ADD COLUMN enrol_only BIGINT NOT NULL DEFAULT 0;

-- Tenants that require their users to have a second factor.
CREATE TABLE tenant_mfa_policies (
	tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
	required  BIGINT NOT NULL
);
