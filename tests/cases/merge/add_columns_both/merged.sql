ALTER TABLE users ADD COLUMN oauth_provider text;
ALTER TABLE users ADD COLUMN search_preferences jsonb;
