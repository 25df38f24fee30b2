CREATE TABLE users (id uuid PRIMARY KEY, email text UNIQUE);
