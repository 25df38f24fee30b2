CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, legacy_flag boolean NOT NULL DEFAULT false);
