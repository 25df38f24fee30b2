"""Where to connect: an explicit DSN, $PGGIT_DSN, or the embedded server (started on demand)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from pggit_core.errors import ConnectionFailed
from pggit_core.server import EmbeddedServer


def resolve_dsn(dsn: str | None = None) -> str:
    """The DSN to use: ``dsn`` if given, else $PGGIT_DSN, else the embedded server's (started if needed)."""
    if dsn:
        return dsn
    env = os.environ.get("PGGIT_DSN")
    if env:
        return env
    return EmbeddedServer().start().dsn


def connect(dsn: str | None = None, *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
    """Open a connection, turning driver errors into one clear line that says what to do."""
    target = resolve_dsn(dsn)
    try:
        return psycopg.connect(target, autocommit=autocommit, connect_timeout=10,
                               application_name="pggit")
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(_explain(target, exc), hint=_hint(exc)) from exc


@contextmanager
def connection(dsn: str | None = None) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    conn = connect(dsn)
    try:
        yield conn
    finally:
        conn.close()


def with_database(dsn: str, database: str) -> str:
    """The same DSN pointing at another database on the same server."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    params["dbname"] = database
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v is not None})


def _explain(dsn: str, exc: psycopg.OperationalError) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    first = first.removeprefix("connection failed: ")
    if "failed: " in first:
        first = first.split("failed: ", 1)[1]
    return f"cannot connect to {redact(dsn)}: {first.removeprefix('FATAL:').strip()}"


def _hint(exc: psycopg.OperationalError) -> str:
    # libpq reports no SQLSTATE for failures while connecting (psycopg's `sqlstate` is None there),
    # so the server's message is the only thing to tell the causes apart.
    text = str(exc)
    if "password authentication failed" in text:
        return "check the user and password in --dsn / PGGIT_DSN"
    if "does not exist" in text and "database" in text:
        return "create the database first (createdb NAME) or fix the database name in the DSN"
    if "Connection refused" in text or "could not connect" in text or "timeout" in text:
        return "is the server running and listening there? unset PGGIT_DSN to use the embedded server"
    return "check --dsn / PGGIT_DSN"
