-- pggit-migration: 1
-- direction: up
-- name: drop_column
-- version: 20261124120000
-- parents: (none)
-- branch: case/drop-column
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH102 error: drops column public.users.legacy_flag and its data
--     advice: Its data is lost and old application code that reads it breaks. Ship code that no longer uses the column first, back the data up, then drop it in a later migration.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH102 error: drops column public.users.legacy_flag and its data
ALTER TABLE users DROP COLUMN legacy_flag;

COMMIT;
