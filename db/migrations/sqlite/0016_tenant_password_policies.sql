-- A tenant's overrides of the deployment's password policy (IAM-3). A NULL
-- column inherits the deployment's value; max_age_seconds 0 turns expiry off
-- for the tenant's users.
CREATE TABLE tenant_password_policies (
	tenant_id       TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
	min_length      INTEGER,
	max_age_seconds INTEGER,
	history         INTEGER
);
