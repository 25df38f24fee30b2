-- pggit-migration: 1
-- direction: up
-- name: add_foreign_key
-- version: 20261124120000
-- parents: (none)
-- branch: case/add-foreign-key
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 1 (0 errors, 1 warning)
--   PGH205 warning: adds foreign key public.orders.orders_user_fk to existing table public.orders and validates it
--     advice: Validating the key scans both tables while holding locks. Add it with NOT VALID, then run ALTER TABLE ... VALIDATE CONSTRAINT in a separate step.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE orders ADD CONSTRAINT orders_id_positive CHECK (id > 0) NOT VALID;

-- PGH205 warning: adds foreign key public.orders.orders_user_fk to existing table public.orders and validates it
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users(id);

COMMIT;
