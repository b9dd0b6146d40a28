-- Just-in-time access grants of the vendor's staff to a tenant's records
-- (IAM-7). A grant's status is not stored: it follows from its times, so
-- that no job is needed for a grant to expire. requester_id and the *_by
-- columns name principals (staff, or the tenant's admins) as the audit trail
-- does; they are not foreign keys, so that a grant's history outlives the
-- people in it. A deleted tenant's grants go with it; its audit trail keeps
-- their story.
CREATE TABLE grants (
	id                       TEXT PRIMARY KEY,
	tenant_id                TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	requester_id             TEXT NOT NULL,
	reason                   TEXT NOT NULL,
	scope                    TEXT NOT NULL,
	duration_minutes         INTEGER NOT NULL,
	tenant_approval_required INTEGER NOT NULL,
	created_at               INTEGER NOT NULL,
	approved_by              TEXT,
	approved_at              INTEGER,
	tenant_approved_by       TEXT,
	tenant_approved_at       INTEGER,
	denied_by                TEXT,
	denied_at                INTEGER,
	revoked_by               TEXT,
	revoked_at               INTEGER,
	active_from              INTEGER,
	expires_at               INTEGER
);
CREATE INDEX grants_tenant ON grants (tenant_id, created_at);
CREATE INDEX grants_requester ON grants (requester_id, tenant_id, expires_at);

-- A tenant's rule for grants: with require_approval, a tenant admin must
-- approve every grant on the tenant too.
CREATE TABLE grant_settings (
	tenant_id        TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
	require_approval INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);

-- Access transparency: the entries of one principal in one tenant's trail,
-- among which those that name a grant are the accesses made under it.
CREATE INDEX audit_tenant_principal ON audit_entries (tenant_id, principal_id, idx);
