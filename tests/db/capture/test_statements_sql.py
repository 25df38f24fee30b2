"""pggit.statements(): scripts split the way PostgreSQL ends statements, each statement classified. Only class
`ddl` is ever recorded for a merge or replayed; the classification must not be fooled by literals."""

from __future__ import annotations

import pytest

from tests.db.capture.helpers import Conn

SPLITS = [
    ("ALTER TABLE users ADD COLUMN a int; DELETE FROM orders; UPDATE users SET email='x;y';",
     [("ALTER TABLE users ADD COLUMN a int", "ddl"), ("DELETE FROM orders", "data"),
      ("UPDATE users SET email='x;y'", "data")]),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN DELETE FROM t; RETURN 1; END $body$; SELECT 1",
     [("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN DELETE FROM t; RETURN 1; END $body$", "ddl"),
      ("SELECT 1", "data")]),
    ("CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 1 THEN 2 END; "
     "END; VALUES (1)",
     [("CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN a > 1 THEN 2 "
       "END; END", "ddl"), ("VALUES (1)", "data")]),
    ("/* a ; /* nested ; */ still ; */ COMMENT ON TABLE t IS 'a;b'; -- x;y\nSELECT 2",
     [("/* a ; /* nested ; */ still ; */ COMMENT ON TABLE t IS 'a;b'", "ddl"), ("-- x;y\nSELECT 2", "data")]),
    ("CREATE TABLE \"we;ird\"\"x\" (a text DEFAULT E'it\\'s; ok'); SELECT $$it's$$",
     [("CREATE TABLE \"we;ird\"\"x\" (a text DEFAULT E'it\\'s; ok')", "ddl"), ("SELECT $$it's$$", "data")]),
    ("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
     [("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", "ddl_other")]),
    ("x---y;\nSELECT 1", [("x---y;\nSELECT 1", "data")]),
    ("SELECT 'unterminated", [("SELECT 'unterminated", "incomplete")]),
    (";;  ;", []),
]


@pytest.mark.parametrize(("script", "expected"), SPLITS)
def test_split(conn: Conn, script: str, expected: list[tuple[str, str]]) -> None:
    rows = conn.execute("SELECT statement, class FROM pggit.statements(%s) ORDER BY ord", (script,)).fetchall()
    assert rows == expected


CLASSES = [
    ("ALTER TABLE users ADD COLUMN a int", "ddl"),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", "ddl"),
    ("CREATE UNIQUE INDEX CONCURRENTLY i ON t (x)", "ddl"),
    ("CREATE MATERIALIZED VIEW m AS SELECT 1", "ddl"),
    ("CREATE TABLE t2 AS SELECT * FROM t", "ddl"),
    ("DROP TABLE t", "ddl"),
    ("COMMENT ON COLUMN t.x IS 'x'", "ddl"),
    ("GRANT SELECT ON users TO reporting", "ddl"),
    ("REVOKE ALL ON ALL TABLES IN SCHEMA s FROM x", "ddl"),
    ("CREATE EXTENSION citext", "ddl"),
    ("CREATE POLICY p ON t USING (true)", "ddl"),
    ("ALTER FUNCTION f() SECURITY DEFINER", "ddl"),
    ("CREATE AGGREGATE a(int) (sfunc = f, stype = int)", "ddl"),
    ("CREATE STATISTICS s ON a, b FROM t", "ddl"),
    ("CREATE TEXT SEARCH CONFIGURATION c (copy = simple)", "ddl"),
    ("CREATE FOREIGN TABLE ft (a int) SERVER s", "ddl"),
    # never replayed
    ("ALTER TABLE t OWNER TO bob", "ddl_other"),
    ("ALTER TABLE \"owner\" OWNER TO bob", "ddl_other"),
    ("GRANT pg_write_all_data TO agent1", "ddl_other"),
    ("GRANT USAGE ON SCHEMA public TO x", "ddl_other"),
    ("GRANT CONNECT ON DATABASE d TO x", "ddl_other"),
    ("ALTER ROLE agent1 SUPERUSER", "ddl_other"),
    ("CREATE ROLE r", "ddl_other"),
    ("ALTER SCHEMA public RENAME TO x", "ddl_other"),
    ("CREATE SCHEMA s", "ddl_other"),
    ("DROP OWNED BY x", "ddl_other"),
    ("CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING", "ddl_other"),
    ("CREATE TEMP TABLE q (x int)", "ddl_other"),
    ("CREATE OR REPLACE TEMPORARY VIEW tv AS SELECT 1", "ddl_other"),
    ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO x", "ddl_other"),
    ("SECURITY LABEL ON TABLE t IS 'x'", "ddl_other"),
    ("CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()", "ddl_other"),
    ("CREATE FOREIGN DATA WRAPPER w", "ddl_other"),
    ("CREATE CAST (int AS text) WITH INOUT", "ddl_other"),
    ("ALTER TABLE pggit.branches ADD x int", "ddl_other"),
    ("ALTER TABLE \"pggit\".x ADD y int", "ddl_other"),
    ("CREATE DATABASE d", "ddl_other"),
    # rows, code and sessions
    ("SELECT f()", "data"),
    ("WITH d AS (DELETE FROM t) SELECT 1", "data"),
    ("TRUNCATE t", "data"),
    ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "data"),
    ("COPY t FROM STDIN", "data"),
    ("DO $$ BEGIN EXECUTE 'DROP TABLE x'; END $$", "data"),
    ("CALL p()", "data"),
    ("REFRESH MATERIALIZED VIEW m", "data"),
    ("EXPLAIN ANALYZE DELETE FROM t", "data"),
    ("TABLE t", "data"),
    ("SET search_path = x", "session"),
    ("RESET ROLE", "session"),
    ("BEGIN", "transaction"),
    ("COMMIT", "transaction"),
    ("SELECT pggit.checkout('agent/x')", "pggit"),
    ("SELECT * FROM pggit.log('main')", "pggit"),
    ("SELECT pggit.checkout('x'), evil()", "pggit"),
]


@pytest.mark.parametrize(("statement", "expected"), CLASSES)
def test_class(conn: Conn, statement: str, expected: str) -> None:
    assert conn.execute("SELECT class FROM pggit.statements(%s)", (statement,)).fetchone() == (expected,)
