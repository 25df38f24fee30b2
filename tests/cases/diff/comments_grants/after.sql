COMMENT ON TABLE reports IS 'weekly';
COMMENT ON COLUMN reports.title IS 'shown first';
REVOKE SELECT ON reports FROM pggit_case_reader;
GRANT SELECT, INSERT ON reports TO pggit_case_reader WITH GRANT OPTION;
GRANT SELECT ON report_titles TO PUBLIC;
COMMENT ON VIEW report_titles IS 'titles only';
GRANT SELECT (title), UPDATE (title) ON reports TO PUBLIC;
