CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE TYPE address AS (street text, city text);
CREATE TABLE people (id integer PRIMARY KEY, email email, home address);
