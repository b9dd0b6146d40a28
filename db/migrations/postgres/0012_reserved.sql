-- Number 0012 is held by a change developed in parallel; this empty
-- placeholder keeps the numbering contiguous until it lands and replaces it.
SELECT 1;
