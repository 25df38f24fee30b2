"""The bench scripts' PostgreSQL: the admin DSN ($PGGIT_DSN or a throwaway embedded server) and scratch databases."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pggit_core import install
from pggit_core.connect import with_database
from pggit_core.server import EmbeddedServer

Conn = psycopg.Connection[tuple[Any, ...]]


@contextmanager
def embedded_admin_dsn(tag: str) -> Iterator[str]:
    """The `postgres` DSN of an embedded server under /dev/shm (or the temp dir), destroyed at the end."""
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    server = EmbeddedServer(base / f"pggit-bench-{tag}-{os.getpid()}", fast=True)
    info = server.start()
    try:
        yield info.dsn_for("postgres")
    finally:
        server.destroy()


@contextmanager
def admin_dsn(tag: str) -> Iterator[str]:
    """$PGGIT_DSN when set, else the DSN of a throwaway embedded server (see `embedded_admin_dsn`)."""
    given = os.environ.get("PGGIT_DSN")
    if given:
        yield given
        return
    with embedded_admin_dsn(tag) as dsn:
        yield dsn


def recreate_database(admin: str, name: str) -> str:
    """Drop database `name` if it exists, create it empty, and return its DSN."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin, name)


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(admin: str, name: str) -> Iterator[str]:
    """The DSN of a new empty database `name`, dropped at the end."""
    dsn = recreate_database(admin, name)
    try:
        yield dsn
    finally:
        drop_database(admin, name)


@contextmanager
def scratch_pggit(admin: str, name: str) -> Iterator[Conn]:
    """An autocommit connection to a new database `name` with pggit installed, dropped at the end."""
    with scratch_database(admin, name) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        install.install(conn)
        yield conn
