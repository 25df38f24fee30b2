"""pggit._needs_own_transaction (sql/statements.sql): the one list of statements that cannot run inside a
transaction block, which the merge's replay skips."""

from __future__ import annotations

import pytest

from tests.db.engine.helpers import Conn, one


@pytest.mark.parametrize("statement, expected", [
    ("CREATE INDEX CONCURRENTLY i ON users (email)", True),
    ("create unique index concurrently i on users (email)", True),
    ("DROP INDEX CONCURRENTLY i", True),
    ("REINDEX TABLE CONCURRENTLY users", True),
    ("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", True),
    ("VACUUM users", True),
    ("CREATE DATABASE x", True),
    ("ALTER SYSTEM SET work_mem = '8MB'", True),
    ("CREATE TABLESPACE t LOCATION '/tmp'", True),
    ("CREATE INDEX i ON users (email)", False),
    ("ALTER TABLE users ADD COLUMN concurrently int", False),
    ("REINDEX TABLE users", False),
])
def test_needs_own_transaction(conn: Conn, statement: str, expected: bool) -> None:
    skeleton = one(conn, "SELECT s.skeleton FROM pggit._split_sql(%s) AS s", statement)
    assert one(conn, "SELECT pggit._needs_own_transaction(%s)", skeleton) is expected
