ALTER TABLE users ADD COLUMN oauth_provider text;
CREATE TABLE oauth_tokens (id serial, user_id integer, token text);
CREATE TABLE search_index (id serial, content tsvector);
CREATE TABLE search_logs (id serial, query text, results integer);
