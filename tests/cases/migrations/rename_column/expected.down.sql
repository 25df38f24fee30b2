-- pggit-migration: 1
-- direction: down
-- name: rename_column
-- version: 20261124120000
-- parents: (none)
-- branch: case/rename-column
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- renamed: {"kind": "column", "new": "email_address", "old": "email", "schema": "public", "table": "users"}
-- hazards: none
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE "users" RENAME COLUMN "email_address" TO "email";

COMMIT;
