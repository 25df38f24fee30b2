CREATE INDEX users_nickname_idx ON users (nickname);
