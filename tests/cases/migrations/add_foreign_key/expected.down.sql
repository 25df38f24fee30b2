-- pggit-migration: 1
-- direction: down
-- name: add_foreign_key
-- version: 20261124120000
-- parents: (none)
-- branch: case/add-foreign-key
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: none
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE orders DROP CONSTRAINT orders_user_fk;

ALTER TABLE orders DROP CONSTRAINT orders_id_positive;

COMMIT;
