-- Each audit entry keeps, in its own row, the Merkle nodes its append
-- completed (levels 1 and up, 32 bytes each, lowest first) and, on the last
-- entry of each commit, the tree's right edge. A commit then writes the
-- entries' pages only, instead of pages of three tables. Entries appended
-- before this migration keep theirs in audit_nodes and audit_tree, which
-- stay for them and are no longer written.
ALTER TABLE audit_entries ADD COLUMN nodes BYTEA;
ALTER TABLE audit_entries ADD COLUMN tree BYTEA;
