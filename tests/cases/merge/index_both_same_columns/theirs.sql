CREATE INDEX users_email_b ON users (email);
