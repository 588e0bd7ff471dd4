-- Every refresh of a registration changes its `expires_at`, and each
-- index on that column costs a b-tree delete and insert per refresh. The
-- only reader by expiry is the location's load at start, a scan of a
-- table with a row per binding: the index goes.
DROP INDEX registrations_expiry;
