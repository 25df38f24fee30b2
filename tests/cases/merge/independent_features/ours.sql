ALTER TABLE users ADD COLUMN oauth_provider text;
CREATE TABLE oauth_tokens (id serial, user_id integer, token text);
