DROP INDEX users_legacy_idx;
ALTER TABLE users DROP COLUMN legacy_code;
ALTER TABLE users DROP COLUMN score;
