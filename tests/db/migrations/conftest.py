"""Fixtures of the migration tests: a second database to deploy migrations to."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

Conn = psycopg.Connection[tuple[Any, ...]]


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
