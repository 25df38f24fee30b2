"""Fixtures of the capture tests: a `users` table on main and branches of it made with pggit.create_branch."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.db.support import sessions

Conn = psycopg.Connection[tuple[object, ...]]

USERS = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)"


@pytest.fixture
def main_db(db: str) -> str:
    """A fresh pggit database whose main has a `users` table, committed."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(USERS)
        conn.execute("SELECT pggit.commit('users table')")
    return db


@pytest.fixture
def connect(main_db: str) -> Iterator[Callable[[], Conn]]:
    """Open extra autocommit sessions to the database (closed after the test)."""
    yield from sessions(main_db)


@pytest.fixture
def session(connect: Callable[[], Conn]) -> Conn:
    """One autocommit session to the database of `main_db`."""
    return connect()
