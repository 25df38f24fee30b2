-- pggit-migration: 1
-- direction: down
-- name: widen_type
-- version: 20261124120000
-- parents: (none)
-- branch: case/widen-type
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH103 error: narrows public.events.id from bigint to integer
--     advice: Values that do not fit fail the migration or are truncated/rounded. Check the data first (SELECT ... WHERE the value does not fit), or add a new column, backfill and switch over.
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE events DROP CONSTRAINT events_pkey;

-- PGH103 error: narrows public.events.id from bigint to integer
ALTER TABLE events ALTER COLUMN id TYPE integer USING id::integer;

ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);

COMMIT;
