"""Fixtures of the migration tests: a second database to deploy migrations to."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pggit_core.connect import with_database
from tests.snapshot_contract import check_database

Conn = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture
def target_dsn(admin_dsn: str, template_db: str) -> Iterator[str]:
    """A second fresh pggit database: the one migrations are deployed to."""
    name = f"pggit_target_{os.getpid()}_{id(object())}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                        sql.Identifier(template_db)))
    dsn = with_database(admin_dsn, name)
    try:
        yield dsn
        check_database(dsn)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def target(target_dsn: str) -> Iterator[Conn]:
    with psycopg.connect(target_dsn, autocommit=True) as connection:
        yield connection
