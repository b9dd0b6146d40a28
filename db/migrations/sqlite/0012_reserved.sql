-- Reserved: this number belongs to a change developed on another branch.
-- Delete this file when that branch's migration 0012 is merged.
SELECT 1;
