"""Fixtures of the branching tests: a main holding every object kind (kitchen_sink.sql), extra sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.db.branching.helpers import KITCHEN_SINK, Conn
from tests.db.support import sessions


@pytest.fixture
def kitchen(conn: Conn) -> Conn:
    """An autocommit connection to a fresh pggit database whose main has every object kind."""
    conn.execute(KITCHEN_SINK.encode())
    return conn


@pytest.fixture
def connect(db: str) -> Iterator[Callable[[], Conn]]:
    """Open extra autocommit sessions to the test database (closed after the test)."""
    yield from sessions(db)
