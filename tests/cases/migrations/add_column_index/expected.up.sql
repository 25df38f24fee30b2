-- pggit-migration: 1
-- direction: up
-- name: add_column_index
-- version: 20261124120000
-- parents: (none)
-- branch: case/add-column-index
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (0 errors, 1 warning)
--   PGH201 warning: builds index public.idx_users_oauth on existing table public.users without CONCURRENTLY
--     advice: CREATE INDEX blocks writes to the table while it builds. Generate with --concurrent-indexes (the index is then built with CREATE INDEX CONCURRENTLY outside the transaction).
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE users ADD COLUMN oauth_provider text;

-- PGH201 warning: builds index public.idx_users_oauth on existing table public.users without CONCURRENTLY
CREATE INDEX idx_users_oauth ON users USING btree (oauth_provider);

COMMIT;
