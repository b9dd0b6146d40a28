-- Tenants' retention rules (GOV-5, BCK-3). A rule governs one collection of
-- a tenant or, with collection '' (no collection is named so), the tenant's
-- collections without a rule of their own. restorable is how long a
-- soft-deleted record or attachment stays restorable before it is purged;
-- max_age, if set, how long a live record is kept after its last update
-- before the purge job deletes it (it is then restorable for restorable).
-- Durations are in nanoseconds. Without a rule, the deployment's retention
-- setting applies.
CREATE TABLE retention_rules (
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	collection TEXT NOT NULL,
	restorable BIGINT NOT NULL,
	max_age    BIGINT,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, collection)
);

-- When a soft-deleted row is purged under its tenant's rule: deleted_at plus
-- the rule's restorable, set when the row is deleted and again for every
-- deleted row a rule change governs. NULL for live rows and for deleted rows
-- under the deployment's retention, which the purge job finds by deleted_at.
-- Either way the hourly purge reads through an index only the rows that are
-- due, however long other tenants keep theirs.
ALTER TABLE records ADD COLUMN purge_at BIGINT;
ALTER TABLE attachments ADD COLUMN purge_at BIGINT;
CREATE INDEX records_purge ON records (purge_at) WHERE purge_at IS NOT NULL;
CREATE INDEX attachments_purge ON attachments (purge_at) WHERE purge_at IS NOT NULL;
DROP INDEX records_deleted;
CREATE INDEX records_deleted ON records (deleted_at) WHERE deleted_at IS NOT NULL AND purge_at IS NULL;
DROP INDEX attachments_deleted;
CREATE INDEX attachments_deleted ON attachments (deleted_at) WHERE deleted_at IS NOT NULL AND purge_at IS NULL;
-- The deleted rows of one collection, re-stamped when its rule changes.
CREATE INDEX records_collection_deleted ON records (tenant_id, collection, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX attachments_collection_deleted ON attachments (tenant_id, collection, deleted_at) WHERE deleted_at IS NOT NULL;
