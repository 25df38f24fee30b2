ALTER TABLE users ADD COLUMN oauth_provider text;
CREATE INDEX idx_users_oauth ON users (oauth_provider);
