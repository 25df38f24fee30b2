CREATE TABLE notes (id integer PRIMARY KEY, owner text NOT NULL DEFAULT current_user, body text);
CREATE POLICY notes_read ON notes FOR SELECT USING (true);
