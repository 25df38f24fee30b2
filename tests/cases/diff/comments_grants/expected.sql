COMMENT ON COLUMN reports.title IS 'shown first';
COMMENT ON TABLE reports IS 'weekly';
REVOKE SELECT ON TABLE reports FROM pggit_case_reader;
GRANT INSERT ON TABLE reports TO pggit_case_reader WITH GRANT OPTION;
GRANT SELECT ON TABLE reports TO pggit_case_reader WITH GRANT OPTION;
GRANT SELECT (title) ON TABLE reports TO PUBLIC;
GRANT UPDATE (title) ON TABLE reports TO PUBLIC;
COMMENT ON VIEW report_titles IS 'titles only';
GRANT SELECT ON TABLE report_titles TO PUBLIC;
