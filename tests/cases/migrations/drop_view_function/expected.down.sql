-- pggit-migration: 1
-- direction: down
-- name: drop_view_function
-- version: 20261124120000
-- parents: (none)
-- branch: case/drop-view-function
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: none
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

CREATE FUNCTION t_count() RETURNS bigint LANGUAGE sql VOLATILE PARALLEL UNSAFE COST 100
AS $pggit$SELECT count(*) FROM t$pggit$;

CREATE VIEW t_big AS SELECT t.id
   FROM t
  WHERE t.n > 10;

COMMIT;
