-- Invitations for privileged roles (IAM-10): a second person approves or
-- rejects them before their link exists. approval is not_required (an
-- invitation for a writer or reader, or one made before this migration),
-- pending, approved or rejected; decided_by and decided_at name the second
-- person and when they decided.
ALTER TABLE invitations ADD COLUMN approval TEXT NOT NULL DEFAULT 'not_required';
ALTER TABLE invitations ADD COLUMN decided_by TEXT;
ALTER TABLE invitations ADD COLUMN decided_at BIGINT;
ALTER TABLE invitations ADD COLUMN decision_note TEXT;
