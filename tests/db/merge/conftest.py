"""Helpers for the merge tests: branches with changes, snapshots, running SQL on a branch."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

Conn = psycopg.Connection[tuple[Any, ...]]


def on_branch(conn: Conn, branch: str, *statements: str) -> None:
    """Run DDL on a branch from this session (checked out, then back to main), one statement at a time."""
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    try:
        for statement in statements:
            conn.execute(statement.encode())
    finally:
        conn.execute("SELECT pggit.checkout('main')")


def snapshot(conn: Conn, branch: str = "main") -> dict[str, Any]:
    """The branch's snapshot without derived fields (what merge compares)."""
    row = conn.execute("SELECT pggit._comparable_doc(pggit.snapshot(%s))", (branch,)).fetchone()
    assert row is not None
    doc: dict[str, Any] = row[0]
    return doc


def merge(conn: Conn, source: str, target: str = "main", auto_resolve: bool = False) -> dict[str, Any]:
    row = conn.execute("SELECT pggit.merge(%s, %s, auto_resolve => %s)", (source, target, auto_resolve)).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


@pytest.fixture
def users_db(conn: Conn) -> Conn:
    """A pggit database whose main has a users table and two branches made from it."""
    conn.execute("CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, nickname text)")
    conn.execute("SELECT pggit.create_branch('agent/a')")
    conn.execute("SELECT pggit.create_branch('agent/b')")
    return conn
