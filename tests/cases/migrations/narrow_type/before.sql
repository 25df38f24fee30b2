CREATE TABLE products (id integer PRIMARY KEY, code character varying(50) NOT NULL, price numeric(12,2));
