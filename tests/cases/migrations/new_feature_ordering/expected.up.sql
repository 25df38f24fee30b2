-- pggit-migration: 1
-- direction: up
-- name: new_feature_ordering
-- version: 20261124120000
-- parents: (none)
-- branch: case/new-feature-ordering
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: none
-- applies <from_snapshot> -> <to_snapshot>; `pggit migrate apply` refuses a database whose schema is not from_snapshot.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

CREATE TYPE session_state AS ENUM ('active', 'revoked');

CREATE FUNCTION touch_session() RETURNS trigger LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE COST 100
AS $pggit$ BEGIN NEW.touched_at := now(); RETURN NEW; END $pggit$;

CREATE TABLE sessions (id uuid NOT NULL, user_id uuid NOT NULL, state session_state DEFAULT 'active'::session_state NOT NULL, touched_at timestamp with time zone);

ALTER TABLE sessions ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

CREATE INDEX idx_sessions_user ON sessions USING btree (user_id);

ALTER TABLE sessions ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);

CREATE VIEW active_sessions AS SELECT s.id,
    u.email
   FROM sessions s
     JOIN users u ON u.id = s.user_id
  WHERE s.state = 'active'::session_state;

CREATE TRIGGER sessions_touch BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION touch_session();

COMMIT;
