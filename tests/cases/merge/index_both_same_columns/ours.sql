CREATE INDEX users_email_a ON users (email);
