-- pggit-migration: 1
-- direction: up
-- name: narrow_type
-- version: 20261124120000
-- parents: (none)
-- branch: case/narrow-type
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH103 error: narrows public.products.code from character varying(50) to character varying(10)
--     advice: Values that do not fit fail the migration or are truncated/rounded. Check the data first (SELECT ... WHERE the value does not fit), or add a new column, backfill and switch over.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH103 error: narrows public.products.code from character varying(50) to character varying(10)
ALTER TABLE products ALTER COLUMN code TYPE character varying(10) USING code::character varying(10);

ALTER TABLE products ALTER COLUMN price TYPE numeric(14,2) USING price::numeric(14,2);

COMMIT;
