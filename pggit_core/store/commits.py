"""Commits, checkouts and the captured DDL: typed calls of pggit.checkout/current_branch/commit/log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict

from pggit_core import errors


class Commit(BaseModel):
    """One commit of a branch, as `pggit.log` returns it (statements in the order they ran)."""

    model_config = ConfigDict(frozen=True)

    commit_id: int
    branch: str
    parent_id: int | None
    message: str
    author: str
    snapshot_hash: str
    created_at: datetime
    statements: tuple[str, ...]


class CapturedCommand(BaseModel):
    """One captured DDL command not committed yet (a row of `pggit.ddl_log`)."""

    model_config = ConfigDict(frozen=True)

    id: int
    branch: str
    command_tag: str
    object_type: str | None
    object_identity: str | None
    statement: str
    role_name: str
    captured_at: datetime


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn an error raised by a pggit SQL function (its SQLSTATE) into our exception class."""
    try:
        yield
    except psycopg.Error as exc:
        mapped = errors.from_database_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def checkout(conn: psycopg.Connection[Any], branch: str) -> str:
    """Put this connection's session on ``branch``; returns the search_path that was set."""
    with database_errors():
        row = conn.execute("SELECT pggit.checkout(%s)", (branch,)).fetchone()
    assert row is not None
    return str(row[0])


def current_branch(conn: psycopg.Connection[Any]) -> str:
    """The branch this connection's session is checked out to ('main' when none)."""
    row = conn.execute("SELECT pggit.current_branch()").fetchone()
    assert row is not None
    return str(row[0])


def commit(conn: psycopg.Connection[Any], message: str, author: str | None = None) -> Commit:
    """Commit the session's branch and return the new commit (read in the same transaction)."""
    with database_errors(), conn.transaction():
        if author is None:
            row = conn.execute("SELECT pggit.commit(%s)", (message,)).fetchone()
        else:
            row = conn.execute("SELECT pggit.commit(%s, %s)", (message, author)).fetchone()
        assert row is not None
        commit_id = int(row[0])
        # The branch row stays locked until the transaction ends, so the newest commit is ours.
        newest = log(conn, current_branch(conn), 1)
    if not newest or newest[0].commit_id != commit_id:
        raise errors.NotFound(f"commit {commit_id} was not found after it was made",
                              hint="check that the session's branch was not switched concurrently")
    return newest[0]


def log(conn: psycopg.Connection[Any], branch: str | None = None, limit: int = 50) -> list[Commit]:
    """The branch's commits, newest first (``branch`` None: the session's branch)."""
    with database_errors(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM pggit.log(%s, %s)", (branch, limit))
        return [Commit.model_validate(row) for row in cur.fetchall()]


def uncommitted(conn: psycopg.Connection[Any], branch: str | None = None) -> list[CapturedCommand]:
    """Captured DDL of a branch that no commit holds yet, oldest first (``branch`` None: the session's)."""
    with database_errors(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM pggit.uncommitted(%s)", (branch,))
        return [CapturedCommand.model_validate(row) for row in cur.fetchall()]
