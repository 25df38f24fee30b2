ALTER TABLE users ADD COLUMN nickname text DEFAULT ''::text NOT NULL;
COMMENT ON COLUMN users.nickname IS 'shown in the UI';
ALTER TABLE users ADD COLUMN age integer;
ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);
