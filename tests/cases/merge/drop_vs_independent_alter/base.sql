CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, nickname text, age integer);
