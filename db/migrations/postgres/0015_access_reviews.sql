-- Role change requests (IAM-10): a role changes only when a second person
-- approves the request; both steps are kept. tenant_id is NULL for staff.
-- campaign_id is set when an access review decided the change.
CREATE TABLE role_changes (
	id            TEXT PRIMARY KEY,
	tenant_id     TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	principal_id  TEXT NOT NULL,
	subject_name  TEXT NOT NULL,
	from_role     TEXT NOT NULL,
	to_role       TEXT NOT NULL,
	reason        TEXT NOT NULL,
	requested_by  TEXT NOT NULL,
	requested_at  BIGINT NOT NULL,
	status        TEXT NOT NULL,
	decided_by    TEXT,
	decided_at    BIGINT,
	decision_note TEXT,
	campaign_id   TEXT
);
CREATE INDEX role_changes_tenant ON role_changes (tenant_id, requested_at);

-- Access review campaigns (IAM-9). period names the quarter of a scheduled
-- campaign ("2026-Q4"), NULL for one made on demand: the unique index keeps
-- one scheduled campaign per quarter and scope whichever node makes it.
CREATE TABLE review_campaigns (
	id               TEXT PRIMARY KEY,
	tenant_id        TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	period           TEXT,
	created_by       TEXT NOT NULL,
	created_at       BIGINT NOT NULL,
	due_at           BIGINT NOT NULL,
	closed_at        BIGINT
);
CREATE INDEX review_campaigns_tenant ON review_campaigns (tenant_id, created_at);
CREATE UNIQUE INDEX review_campaigns_period ON review_campaigns (COALESCE(tenant_id, ''), period);

-- The accounts of a campaign, as they were when it opened, and the
-- reviewer's decision on each. grants and flags are JSON arrays.
CREATE TABLE review_items (
	campaign_id    TEXT NOT NULL REFERENCES review_campaigns(id) ON DELETE CASCADE,
	principal_id   TEXT NOT NULL,
	tenant_id      TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	kind           TEXT NOT NULL,
	name           TEXT NOT NULL,
	email          TEXT NOT NULL,
	role           TEXT NOT NULL,
	status         TEXT NOT NULL,
	grants         TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	last_login_at  BIGINT,
	mfa            TEXT NOT NULL,
	flags          TEXT NOT NULL,
	decision       TEXT,
	new_role       TEXT,
	note           TEXT,
	decided_by     TEXT,
	decided_at     BIGINT,
	role_change_id TEXT,
	PRIMARY KEY (campaign_id, principal_id)
);

-- Reminders of overdue campaigns: at most one a day per campaign.
CREATE TABLE review_reminders (
	campaign_id TEXT NOT NULL REFERENCES review_campaigns(id) ON DELETE CASCADE,
	day         TEXT NOT NULL,
	tenant_id   TEXT REFERENCES tenants(id) ON DELETE CASCADE,
	pending     BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (campaign_id, day)
);
