"""Shared fixtures: one real PostgreSQL server per session, a template database with pggit installed,
and a fresh database per test cloned from it. No database is ever mocked; no test is skipped for
want of a server: if none can be had, the fixtures fail loudly. Before a test database is dropped, every
snapshot document pggit produced in it is validated against the contract (tests/snapshot_contract.py)."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pggit_core import install
from pggit_core.connect import with_database
from pggit_core.server import EmbeddedServer
from tests.snapshot_contract import STATS, check_database

_counter = itertools.count()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STATS.databases:
        terminalreporter.write_line(f"snapshot contract: {STATS.documents} distinct document(s) of "
                                    f"{STATS.databases} database(s) validated in {STATS.seconds:.2f} s")


def _test_home() -> Path:
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else Path(
        tempfile.gettempdir())
    return base / f"pggit-tests-{os.getpid()}"


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    """A superuser DSN to the `postgres` database of the session's server."""
    given = os.environ.get("PGGIT_TEST_DSN")
    if given:
        yield given
        return
    server = EmbeddedServer(_test_home(), fast=True)
    info = server.start()
    try:
        yield info.dsn_for("postgres")
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def template_db(admin_dsn: str) -> Iterator[str]:
    """A database with pggit installed, cloned by every test that needs one."""
    name = f"pggit_tpl_{os.getpid()}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(with_database(admin_dsn, name), autocommit=True) as conn:
        install.install(conn)
    yield name
    check_database(with_database(admin_dsn, name))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _fresh_database(admin_dsn: str, template: str | None) -> Iterator[str]:
    name = f"pggit_t{os.getpid()}_{next(_counter)}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(create)
        if template:
            # Database-level settings are not cloned from a template: give the copy what `pggit init`
            # gives a database, so the seed's unqualified names (pggit_agent_intents, ...) resolve.
            conn.execute(sql.SQL('ALTER DATABASE {} SET search_path = "$user", public, pggit').format(
                sql.Identifier(name)))
    dsn = with_database(admin_dsn, name)
    try:
        yield dsn
        check_database(dsn)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db(admin_dsn: str, template_db: str) -> Iterator[str]:
    """DSN of a fresh database with pggit installed, dropped after the test."""
    yield from _fresh_database(admin_dsn, template_db)


@pytest.fixture
def empty_db(admin_dsn: str) -> Iterator[str]:
    """DSN of a fresh database without pggit."""
    yield from _fresh_database(admin_dsn, None)


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to a fresh pggit database."""
    with psycopg.connect(db, autocommit=True) as connection:
        yield connection
