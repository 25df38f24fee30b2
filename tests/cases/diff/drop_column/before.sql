CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, legacy_code text, score integer);
CREATE INDEX users_legacy_idx ON users (legacy_code);
