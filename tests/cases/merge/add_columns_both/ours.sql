ALTER TABLE users ADD COLUMN oauth_provider text;
