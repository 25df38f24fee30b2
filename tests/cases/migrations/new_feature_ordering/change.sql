CREATE TYPE session_state AS ENUM ('active', 'revoked');
CREATE TABLE sessions (id uuid PRIMARY KEY, user_id uuid NOT NULL REFERENCES users, state session_state NOT NULL DEFAULT 'active', touched_at timestamptz);
CREATE FUNCTION touch_session() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched_at := now(); RETURN NEW; END $$;
CREATE TRIGGER sessions_touch BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION touch_session();
CREATE VIEW active_sessions AS SELECT s.id, u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.state = 'active';
CREATE INDEX idx_sessions_user ON sessions (user_id);
