"""Helpers of the migration tests (a module name no other test folder uses)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

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
