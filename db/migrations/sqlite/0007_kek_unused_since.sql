-- When a retired key-encryption key stopped wrapping any data key (after a
-- rotation re-encrypted its tenant's data). It is destroyed once every
-- restorable backup was taken after that moment: older backups still need
-- it (ADR 7).
ALTER TABLE tenant_keks ADD COLUMN unused_since INTEGER;
