DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pggit_case_reader') THEN CREATE ROLE pggit_case_reader; END IF;
END $$;
CREATE TABLE reports (id integer PRIMARY KEY, title text);
COMMENT ON TABLE reports IS 'monthly';
GRANT SELECT ON reports TO pggit_case_reader;
CREATE VIEW report_titles AS SELECT title FROM reports;
