-- Tenant key-encryption keys get a table of their own: rempart's backups
-- never copy it, so that a deleted tenant's data stays sealed in every
-- backup (ADR 7, GOV-5). wrapper is the root key version (or the tenant's
-- own key) that wraps the KEK. Data keys record their KEK, how many seals
-- were leased under them (ENC-3: rotation before the nonce bound) and when
-- they were retired by a rotation.
CREATE TABLE tenant_keks (
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	kek_id     TEXT NOT NULL,
	wrapper    TEXT NOT NULL,
	wrapped    BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	active     BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, kek_id)
);
CREATE INDEX tenant_keks_wrapper ON tenant_keks (wrapper);

INSERT INTO tenant_keks (tenant_id, kek_id, wrapper, wrapped, created_at, active)
	SELECT tenant_id, 'kek_' || substr(data_key_id, 4), root_key_id, wrapped_kek, created_at, 1 FROM tenant_keys;

ALTER TABLE tenant_keys ADD COLUMN kek_id TEXT NOT NULL DEFAULT '';
UPDATE tenant_keys SET kek_id = 'kek_' || substr(data_key_id, 4);
ALTER TABLE tenant_keys DROP COLUMN root_key_id;
ALTER TABLE tenant_keys DROP COLUMN wrapped_kek;
ALTER TABLE tenant_keys ADD COLUMN seals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenant_keys ADD COLUMN retired_at BIGINT;
