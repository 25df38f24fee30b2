"""`pggit._needs_own_transaction`, the one list of statements that cannot run in a transaction block, agrees
with PostgreSQL itself; the generator marks plan steps with its answer."""

from __future__ import annotations

import psycopg
import pytest
from migration_helpers import Conn, on_branch
from psycopg import sql

from pggit_core.migrations import MigrationGenerator
from pggit_core.store import migrations as store

SETUP = """
CREATE TABLE t (a integer);
CREATE TABLE p (a integer) PARTITION BY RANGE (a);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
"""

# (statement, whether PostgreSQL refuses it inside a transaction block)
CASES = [
    ("CREATE INDEX CONCURRENTLY i1 ON t (a)", True),
    ("create  unique index\n concurrently i2 ON t (a)", True),
    ("DROP INDEX CONCURRENTLY IF EXISTS no_such_index", True),
    ("REINDEX TABLE CONCURRENTLY t", True),
    ("REINDEX (VERBOSE) TABLE CONCURRENTLY t", True),
    ("REINDEX SCHEMA public", True),
    ("REINDEX SYSTEM {db}", True),
    ("REINDEX DATABASE {db}", True),
    ("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", True),
    ("VACUUM t", True),
    ("CREATE DATABASE pggit_never_created", True),
    ("DROP DATABASE IF EXISTS pggit_never_created", True),
    ("ALTER SYSTEM SET work_mem = '4MB'", True),
    ("CREATE TABLESPACE never LOCATION '/nonexistent'", True),
    ("DROP TABLESPACE IF EXISTS never", True),
    ("CREATE SUBSCRIPTION s CONNECTION 'dbname=none' PUBLICATION pub", True),
    ("CREATE INDEX i3 ON t (a)", False),
    ("REINDEX TABLE t", False),
    ("ALTER TABLE p DETACH PARTITION p1", False),
    ("ANALYZE t", False),
    ("COMMENT ON TABLE t IS 'VACUUM t; REINDEX DATABASE CONCURRENTLY'", False),
    ("ALTER TABLE t ALTER COLUMN a SET DEFAULT length('DETACH PARTITION x CONCURRENTLY')", False),
]


def refused_in_a_transaction(conn: Conn, statement: str) -> bool:
    """Run the statement inside a transaction block that is rolled back: does PostgreSQL refuse it there?"""
    try:
        with conn.transaction():
            conn.execute(statement.encode())
            raise psycopg.Rollback()
    except psycopg.errors.ActiveSqlTransaction:
        return True
    return False


def test_the_sql_definition_agrees_with_postgresql(conn: Conn) -> None:
    for statement in SETUP.strip().splitlines():
        conn.execute(statement.encode())
    row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    db = sql.Identifier(str(row[0])).as_string(conn)
    cases = {s.format(db=db): refused for s, refused in CASES}
    statements = list(cases)
    answers = store.needs_own_transaction(conn, statements)
    assert dict(zip(statements, answers, strict=True)) == cases
    assert {s: refused_in_a_transaction(conn, s) for s in statements} == cases
    # conservative where PostgreSQL refuses only with a replication slot: running it alone is always safe
    assert store.needs_own_transaction(conn, ["DROP SUBSCRIPTION IF EXISTS s", ""]) == [True, False]
    assert store.needs_own_transaction(conn, []) == []


@pytest.mark.parametrize("concurrent", [False, True])
def test_generated_steps_carry_the_answer(conn: Conn, concurrent: bool) -> None:
    conn.execute("CREATE TABLE users (id integer PRIMARY KEY, email text)")
    conn.execute("SELECT pggit.commit('users')")
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "CREATE INDEX users_email_idx ON users (email);")
    generator = MigrationGenerator(conn, concurrent_indexes=concurrent)
    migration = generator.generate_from_branch("agent/a", "email_index")
    (index,) = [s for s in migration.up_steps if s.kind == "index"]
    assert index.own_transaction is concurrent and ("CONCURRENTLY" in index.statement) is concurrent
    assert not any(s.own_transaction for s in migration.down_steps)
    if concurrent:
        assert ("-- pggit: outside the transaction: CREATE INDEX CONCURRENTLY cannot run inside a transaction "
                "block") in migration.up_sql
