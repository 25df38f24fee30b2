CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
CREATE INDEX users_email_idx ON users (email);
