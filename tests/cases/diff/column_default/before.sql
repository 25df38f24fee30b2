CREATE TABLE accounts (id bigint NOT NULL, status text DEFAULT 'new', created_at timestamptz, note text NOT NULL);
