-- pggit-migration: 1
-- direction: up
-- name: drop_table
-- version: 20261124120000
-- parents: (none)
-- branch: case/drop-table
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH101 error: drops table public.audit_log and all of its rows
--     advice: Its rows are lost. Stop every reader and writer first, back the table up (or rename it and drop it in a later migration), then drop it.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE audit_log DROP CONSTRAINT audit_log_user_id_fkey;

-- PGH101 error: drops table public.audit_log and all of its rows
DROP TABLE audit_log;

COMMIT;
