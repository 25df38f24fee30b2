-- pggit-migration: 1
-- direction: down
-- name: new_feature_ordering
-- version: 20261124120000
-- parents: (none)
-- branch: case/new-feature-ordering
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: 3 (1 error, 2 warnings)
--   PGH303 warning: removes view public.active_sessions
--     advice: Clients that still call it break. Remove its callers first; the down migration recreates it.
--   PGH101 error: drops table public.sessions and all of its rows
--     advice: Its rows are lost. Stop every reader and writer first, back the table up (or rename it and drop it in a later migration), then drop it.
--   PGH303 warning: removes function public.touch_session()
--     advice: Clients that still call it break. Remove its callers first; the down migration recreates it.
-- reversible: yes
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- PGH303 warning: removes view public.active_sessions
DROP VIEW active_sessions;

ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey;

-- PGH101 error: drops table public.sessions and all of its rows
DROP TABLE sessions;

-- PGH303 warning: removes function public.touch_session()
DROP FUNCTION touch_session();

DROP TYPE session_state;

COMMIT;
