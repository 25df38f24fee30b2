ALTER DOMAIN email ADD CONSTRAINT email_short CHECK (length(VALUE) < 200);
ALTER DOMAIN email SET DEFAULT 'nobody@example.com';
ALTER TYPE address ADD ATTRIBUTE zip text;
CREATE DOMAIN percent AS numeric(5,2) NOT NULL CHECK (VALUE BETWEEN 0 AND 100);
ALTER TABLE people ADD COLUMN share percent DEFAULT 0;
