-- The audit log filtered by principal (who did what: an offboarding or a
-- suspected compromise, IAM-8) reads this index instead of the whole log.
CREATE INDEX audit_principal ON audit_entries (principal_id, idx);
