CREATE OR REPLACE VIEW active_users AS SELECT id, email, name FROM users WHERE active;
DROP VIEW user_name_list;
DROP VIEW user_names;
CREATE VIEW user_names AS SELECT id, name FROM users;
CREATE VIEW user_name_list AS SELECT name FROM user_names;
