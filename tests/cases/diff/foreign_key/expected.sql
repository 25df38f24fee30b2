ALTER TABLE memberships DROP CONSTRAINT memberships_team_fkey;
CREATE SEQUENCE sessions_id_seq AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE;
CREATE TABLE sessions (id bigint DEFAULT nextval('sessions_id_seq'::regclass) NOT NULL, user_id integer NOT NULL);
ALTER SEQUENCE sessions_id_seq OWNED BY sessions.id;
ALTER TABLE sessions ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);
ALTER TABLE memberships ADD CONSTRAINT memberships_team_fkey FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE;
ALTER TABLE memberships ADD CONSTRAINT memberships_user_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE sessions ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
