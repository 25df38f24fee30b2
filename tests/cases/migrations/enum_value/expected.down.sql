-- pggit-migration: 1
-- direction: down
-- name: enum_value
-- version: 20261124120000
-- parents: (none)
-- branch: case/enum-value
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (1 error, 0 warnings)
--   PGH105 error: removes values ok from enum public.mood
--     advice: Rows holding a removed value make the type change fail. Update those rows first, then change the type.
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH105 error: removes values ok from enum public.mood
ALTER TYPE mood RENAME TO mood__pggit_replaced;

CREATE TYPE mood AS ENUM ('happy', 'sad');

ALTER TABLE people ALTER COLUMN mood TYPE mood USING mood::text::mood;

DROP TYPE mood__pggit_replaced;

COMMIT;
