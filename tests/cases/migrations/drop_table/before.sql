CREATE TABLE users (id integer PRIMARY KEY);
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id integer REFERENCES users (id), at timestamptz NOT NULL DEFAULT now());
