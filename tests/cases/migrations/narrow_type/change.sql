ALTER TABLE products ALTER COLUMN code TYPE character varying(10);
ALTER TABLE products ALTER COLUMN price TYPE numeric(14,2);
