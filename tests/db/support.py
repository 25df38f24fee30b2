"""Support shared by the database tests: extra autocommit sessions to a test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg

Conn = psycopg.Connection[tuple[Any, ...]]


def sessions(dsn: str) -> Iterator[Callable[[], Conn]]:
    """For a fixture (``yield from sessions(dsn)``): a factory of extra autocommit sessions to ``dsn``,
    every one of them closed after the test."""
    opened: list[Conn] = []

    def factory() -> Conn:
        conn = psycopg.connect(dsn, autocommit=True)
        opened.append(conn)
        return conn

    yield factory
    for conn in opened:
        conn.close()
