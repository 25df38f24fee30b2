-- pggit-migration: 1
-- direction: up
-- name: not_null_without_default
-- version: 20261124120000
-- parents: (none)
-- branch: case/not-null-without-default
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 2 (1 error, 1 warning)
--   PGH202 error: adds column public.accounts.tier NOT NULL without a default
--     advice: The statement fails as soon as the table has a row. Add the column nullable (or with a DEFAULT), backfill it, then SET NOT NULL.
--   PGH203 warning: sets public.accounts.name NOT NULL
--     advice: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock and fails on NULLs. Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (it uses the validated check).
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH202 error: adds column public.accounts.tier NOT NULL without a default
-- PGH203 warning: sets public.accounts.name NOT NULL
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;

ALTER TABLE accounts ADD COLUMN tier text NOT NULL;

COMMIT;
