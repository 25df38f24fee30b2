-- pggit-migration: 1
-- direction: up
-- name: enum_value
-- version: 20261124120000
-- parents: (none)
-- branch: case/enum-value
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: none
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

ALTER TYPE mood ADD VALUE 'ok' AFTER 'happy';

COMMIT;
