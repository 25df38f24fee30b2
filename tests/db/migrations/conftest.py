"""Helpers for the migration tests: work on a branch, a second database to deploy to, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pggit_core import statements

Conn = psycopg.Connection[tuple[Any, ...]]
FIXED = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


def run_script(conn: Conn, script: str) -> None:
    """Run SQL text one statement at a time (as an agent would; capture records each one)."""
    for statement in statements.split(script):
        conn.execute(statement.encode())


def on_branch(conn: Conn, branch: str, script: str, message: str = "work") -> int:
    """Check out `branch`, run the script there, commit it, go back to main; returns the commit id."""
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    try:
        run_script(conn, script)
        row = conn.execute("SELECT pggit.commit(%s)", (message,)).fetchone()
    finally:
        conn.execute("SELECT pggit.checkout('main')")
    assert row is not None
    return int(row[0])


def plan_rows(conn: Conn, a: dict[str, Any], b: dict[str, Any]) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT object_key, change, statement FROM pggit._plan(%s::jsonb, %s::jsonb) "
                        "WHERE change <> 'rebuilt' ORDER BY ord",
                        (psycopg.types.json.Jsonb(a), psycopg.types.json.Jsonb(b))).fetchall()


def main_doc(conn: Conn) -> dict[str, Any]:
    row = conn.execute("SELECT pggit.snapshot('main')").fetchone()
    assert row is not None
    doc: dict[str, Any] = row[0]
    return doc


def _dsn_for(admin: str, database: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(admin)
    params["dbname"] = database
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


@pytest.fixture
def target_dsn(admin_dsn: str, template_db: str) -> Iterator[str]:
    """A second fresh pggit database: the one migrations are deployed to."""
    name = f"pggit_target_{os.getpid()}_{id(object())}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                        sql.Identifier(template_db)))
    try:
        yield _dsn_for(admin_dsn, name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def target(target_dsn: str) -> Iterator[Conn]:
    with psycopg.connect(target_dsn, autocommit=True) as connection:
        yield connection
