-- pggit-migration: 1
-- direction: up
-- name: rename_table
-- version: 20261124120000
-- parents: (none)
-- branch: case/rename-table
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- renamed: {"kind": "table", "new": "members", "old": "users", "schema": "public", "table": null}
-- hazards: 1 (0 errors, 1 warning)
--   PGH301 warning: renames table public.users to members
--     advice: Clients that use the old name break the moment the migration runs. Deploy code that accepts both names first (for a table: a view with the old name), or rename in a later release.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH301 warning: renames table public.users to members
ALTER TABLE "users" RENAME TO "members";

COMMIT;
