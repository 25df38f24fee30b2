CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
CREATE TABLE sessions (id integer PRIMARY KEY, user_id integer REFERENCES users (id));
