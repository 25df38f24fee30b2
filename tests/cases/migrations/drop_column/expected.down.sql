-- pggit-migration: 1
-- direction: down
-- name: drop_column
-- version: 20261124120000
-- parents: (none)
-- branch: case/drop-column
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: none
-- reversible: no, 1 part cannot be undone:
--   table:public.users: column public.users.legacy_flag is re-added empty: its data was dropped by the up migration and is not restored
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- DATA LOSS (irreversible): column public.users.legacy_flag is re-added empty: its data was dropped by the up migration and is not restored
ALTER TABLE users ADD COLUMN legacy_flag boolean DEFAULT false NOT NULL;

COMMIT;
