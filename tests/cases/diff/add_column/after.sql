ALTER TABLE users ADD COLUMN nickname text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN age integer CONSTRAINT users_age_check CHECK (age >= 0);
COMMENT ON COLUMN users.nickname IS 'shown in the UI';
