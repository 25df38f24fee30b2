"""Fixtures of the branching tests: a main holding every object kind (kitchen_sink.sql), extra sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

Conn = psycopg.Connection[tuple[Any, ...]]

KITCHEN_SINK = (Path(__file__).parent / "kitchen_sink.sql").read_text()


@pytest.fixture
def kitchen(conn: Conn) -> Conn:
    """An autocommit connection to a fresh pggit database whose main has every object kind."""
    conn.execute(KITCHEN_SINK.encode())
    return conn


@pytest.fixture
def connect(db: str) -> Iterator[Callable[[], Conn]]:
    """Open extra autocommit sessions to the test database (closed after the test)."""
    opened: list[Conn] = []

    def factory() -> Conn:
        c = psycopg.connect(db, autocommit=True)
        opened.append(c)
        return c

    yield factory
    for c in opened:
        c.close()


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
