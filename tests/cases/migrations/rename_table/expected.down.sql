-- pggit-migration: 1
-- direction: down
-- name: rename_table
-- version: 20261124120000
-- parents: (none)
-- branch: case/rename-table
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- renamed: {"kind": "table", "new": "members", "old": "users", "schema": "public", "table": null}
-- hazards: none
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TABLE "members" RENAME TO "users";

COMMIT;
