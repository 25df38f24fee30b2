"""Fixtures for the coordination tests: the fresh database gets the default search_path `pggit init` sets
(CREATE DATABASE ... TEMPLATE does not copy per-database settings), so the seed's unqualified names resolve."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest


@pytest.fixture
def db(db: str) -> Iterator[str]:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT pggit._set_database_search_path()")
    yield db
