CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
CREATE TABLE teams (id integer PRIMARY KEY, name text);
CREATE TABLE memberships (user_id integer NOT NULL, team_id integer NOT NULL,
    CONSTRAINT memberships_team_fkey FOREIGN KEY (team_id) REFERENCES teams (id));
