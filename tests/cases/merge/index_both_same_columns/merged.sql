CREATE INDEX users_email_a ON users (email);
CREATE INDEX users_email_b ON users (email);
