"""Helpers of the branching tests: the connection type, reading a snapshot, running DDL on a branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

Conn = psycopg.Connection[tuple[Any, ...]]

KITCHEN_SINK = (Path(__file__).parent / "kitchen_sink.sql").read_text()


def snapshot(conn: Conn, branch: str = "main") -> dict[str, Any]:
    row = conn.execute("SELECT pggit.snapshot(%s)", (branch,)).fetchone()
    assert row is not None
    return dict(row[0])


def run_on(conn: Conn, branch: str, script: str) -> None:
    """Run DDL on a branch (checked out for the duration), then go back to main."""
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    try:
        conn.execute(script.encode())
    finally:
        conn.execute("SELECT pggit.checkout('main')")
