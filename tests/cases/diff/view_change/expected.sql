DROP VIEW user_name_list;
DROP VIEW user_names;
CREATE OR REPLACE VIEW active_users AS SELECT users.id,
    users.email,
    users.name
   FROM users
  WHERE users.active;
CREATE VIEW user_names AS SELECT users.id,
    users.name
   FROM users;
CREATE VIEW user_name_list AS SELECT user_names.name
   FROM user_names;
