ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
DROP POLICY notes_read ON notes;
CREATE POLICY notes_read ON notes FOR SELECT USING (owner = current_user);
CREATE POLICY notes_write ON notes AS RESTRICTIVE FOR INSERT WITH CHECK (owner = current_user);
