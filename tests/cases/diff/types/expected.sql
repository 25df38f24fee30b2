ALTER TYPE address ADD ATTRIBUTE zip text;
ALTER DOMAIN email SET DEFAULT 'nobody@example.com'::text;
ALTER DOMAIN email ADD CONSTRAINT email_short CHECK (length(VALUE) < 200);
CREATE DOMAIN percent AS numeric(5,2) NOT NULL CONSTRAINT percent_check CHECK (VALUE >= 0::numeric AND VALUE <= 100::numeric);
ALTER TABLE people ADD COLUMN share percent DEFAULT 0;
