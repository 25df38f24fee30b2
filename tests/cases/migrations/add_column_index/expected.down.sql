-- pggit-migration: 1
-- direction: down
-- name: add_column_index
-- version: 20261124120000
-- parents: (none)
-- branch: case/add-column-index
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH102 error: drops column public.users.oauth_provider and its data
--     advice: Its data is lost and old application code that reads it breaks. Ship code that no longer uses the column first, back the data up, then drop it in a later migration.
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

DROP INDEX idx_users_oauth;

-- PGH102 error: drops column public.users.oauth_provider and its data
ALTER TABLE users DROP COLUMN oauth_provider;

COMMIT;
