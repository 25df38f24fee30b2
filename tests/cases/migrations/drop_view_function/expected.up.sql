-- pggit-migration: 1
-- direction: up
-- name: drop_view_function
-- version: 20261124120000
-- parents: (none)
-- branch: case/drop-view-function
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 2 (0 errors, 2 warnings)
--   PGH303 warning: removes view public.t_big
--     advice: Clients that still call it break. Remove its callers first; the down migration recreates it.
--   PGH303 warning: removes function public.t_count()
--     advice: Clients that still call it break. Remove its callers first; the down migration recreates it.
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH303 warning: removes view public.t_big
DROP VIEW t_big;

-- PGH303 warning: removes function public.t_count()
DROP FUNCTION t_count();

COMMIT;
