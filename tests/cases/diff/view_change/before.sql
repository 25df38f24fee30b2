CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, name text, active boolean DEFAULT true);
CREATE VIEW active_users AS SELECT id, email FROM users WHERE active;
CREATE VIEW user_names AS SELECT id, name, email FROM users;
CREATE VIEW user_name_list AS SELECT name FROM user_names;
