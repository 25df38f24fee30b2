ALTER TABLE users ADD COLUMN search_preferences jsonb;
