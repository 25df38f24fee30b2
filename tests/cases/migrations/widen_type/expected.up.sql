-- pggit-migration: 1
-- direction: up
-- name: widen_type
-- version: 20261124120000
-- parents: (none)
-- branch: case/widen-type
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (0 errors, 1 warning)
--   PGH204 warning: changes public.events.id from integer to bigint, rewriting the table
--     advice: ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock. For a large table add a new column, backfill it in batches and switch over.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE events DROP CONSTRAINT events_pkey;

-- PGH204 warning: changes public.events.id from integer to bigint, rewriting the table
ALTER TABLE events ALTER COLUMN id TYPE bigint USING id::bigint;

ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);

COMMIT;
