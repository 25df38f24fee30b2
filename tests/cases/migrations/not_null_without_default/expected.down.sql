-- pggit-migration: 1
-- direction: down
-- name: not_null_without_default
-- version: 20261124120000
-- parents: (none)
-- branch: case/not-null-without-default
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH102 error: drops column public.accounts.tier and its data
--     advice: Its data is lost and old application code that reads it breaks. Ship code that no longer uses the column first, back the data up, then drop it in a later migration.
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH102 error: drops column public.accounts.tier and its data
ALTER TABLE accounts DROP COLUMN tier;

ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL;

COMMIT;
