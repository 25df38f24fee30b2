"""Branch rows: typed calls of pggit.create_branch / delete_branch / list_branches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict

from pggit_core.store.commits import database_errors


class Branch(BaseModel):
    """A live branch as ``pggit.list_branches()`` shows it."""

    model_config = ConfigDict(frozen=True)

    name: str
    parent: str | None
    head_commit_id: int | None
    status: str
    created_at: datetime
    created_by: str
    schemas: tuple[str, ...]
    owner: str | None = None


def create(conn: psycopg.Connection[Any], name: str, from_branch: str, copy_data: bool,
           row_limit: int | None) -> int:
    """Call pggit.create_branch; the new branch's id."""
    with database_errors():
        row = conn.execute(
            "SELECT pggit.create_branch(%s, %s, copy_data => %s, row_limit => %s)",
            (name, from_branch, copy_data, row_limit),
        ).fetchone()
    assert row is not None
    return int(row[0])


def delete(conn: psycopg.Connection[Any], name: str, force: bool) -> None:
    """Call pggit.delete_branch."""
    with database_errors():
        conn.execute("SELECT pggit.delete_branch(%s, force => %s)", (name, force))


def list_all(conn: psycopg.Connection[Any]) -> list[Branch]:
    """Every live branch, oldest first."""
    with database_errors(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT name, parent, head_commit_id, status, created_at, created_by, schemas, owner "
            "FROM pggit.list_branches()"
        ).fetchall()
    return [Branch.model_validate(r) for r in rows]


def is_live(conn: psycopg.Connection[Any], name: str) -> bool:
    """Whether ``name`` is a live (not deleted) branch."""
    return conn.execute("SELECT 1 FROM pggit.branches WHERE name = %s AND status <> 'deleted'",
                        (name,)).fetchone() is not None


def ever_existed(conn: psycopg.Connection[Any], name: str) -> bool:
    """Whether a branch named ``name`` was ever made (live or deleted since)."""
    return conn.execute("SELECT 1 FROM pggit.branches WHERE name = %s", (name,)).fetchone() is not None


def base_commit(conn: psycopg.Connection[Any], name: str) -> int | None:
    """The commit the live branch ``name`` was made from (None: no such branch, or made before any commit)."""
    row = conn.execute("SELECT base_commit_id FROM pggit.branches WHERE name = %s AND status <> 'deleted'",
                       (name,)).fetchone()
    return None if row is None or row[0] is None else int(str(row[0]))


def stale_and_untouched(conn: psycopg.Connection[Any], name: str) -> bool:
    """True when the branch has no commits or captured DDL of its own and main moved since it was made (or it is
    gone)."""
    row = conn.execute(
        "SELECT b.head_commit_id IS NOT DISTINCT FROM b.base_commit_id"
        "   AND NOT EXISTS (SELECT 1 FROM pggit.ddl_log l WHERE l.branch_id = b.id AND l.commit_id IS NULL)"
        "   AND b.base_commit_id IS DISTINCT FROM m.head_commit_id"
        "  FROM pggit.branches b, pggit.branches m"
        " WHERE b.name = %s AND b.status <> 'deleted' AND m.name = 'main' AND m.status <> 'deleted'",
        (name,)).fetchone()
    return row is None or bool(row[0])
