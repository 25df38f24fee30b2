ALTER TABLE users DROP COLUMN legacy_code;
ALTER TABLE users DROP COLUMN score;
