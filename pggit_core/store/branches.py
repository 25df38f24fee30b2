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
