DROP INDEX users_email_idx;
CREATE INDEX users_email_idx ON users USING btree (lower(email)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_live_email_key ON users USING btree (email) WHERE deleted_at IS NULL;
