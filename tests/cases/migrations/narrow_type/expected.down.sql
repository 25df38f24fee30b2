-- pggit-migration: 1
-- direction: down
-- name: narrow_type
-- version: 20261124120000
-- parents: (none)
-- branch: case/narrow-type
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH103 error: narrows public.products.price from numeric(14,2) to numeric(12,2)
--     advice: Values that do not fit fail the migration or are truncated/rounded. Check the data first (SELECT ... WHERE the value does not fit), or add a new column, backfill and switch over.
-- reversible: no, 1 part cannot be undone:
--   table:public.products: column public.products.code goes back to character varying(50), but values narrowed to character varying(10) by the up migration (truncated or rounded) stay as they are
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- DATA LOSS (irreversible): column public.products.code goes back to character varying(50), but values narrowed to character varying(10) by the up migration (truncated or rounded) stay as they are
-- PGH103 error: narrows public.products.price from numeric(14,2) to numeric(12,2)
ALTER TABLE products ALTER COLUMN code TYPE character varying(50) USING code::character varying(50);

ALTER TABLE products ALTER COLUMN price TYPE numeric(12,2) USING price::numeric(12,2);

COMMIT;
