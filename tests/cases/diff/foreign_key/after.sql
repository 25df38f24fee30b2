ALTER TABLE memberships DROP CONSTRAINT memberships_team_fkey;
ALTER TABLE memberships ADD CONSTRAINT memberships_team_fkey FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE;
ALTER TABLE memberships ADD CONSTRAINT memberships_user_fkey FOREIGN KEY (user_id) REFERENCES users (id);
CREATE TABLE sessions (id bigserial PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE);
