"""Branch operations: create (a real copy of the tracked schemas), delete and list. The engine checks names
and options (`pggit.create_branch`: PGG30 InvalidName, PGG61 InvalidInput) before it does anything."""

from __future__ import annotations

from typing import Any

import psycopg

from pggit_core.errors import InvalidName, NotFound
from pggit_core.names import MAIN
from pggit_core.store import branches
from pggit_core.store.branches import Branch

__all__ = ["Branch", "create_branch", "delete_branch", "get_branch", "list_branches"]


def create_branch(conn: psycopg.Connection[Any], name: str, from_branch: str = MAIN, *, copy_data: bool = False,
                  row_limit: int | None = None) -> Branch:
    """Create branch ``name`` from ``from_branch`` (schema copy; rows too with ``copy_data``, at most
    ``row_limit`` per table). All or nothing: a failure leaves no schema and no row behind."""
    branches.create(conn, name, from_branch, copy_data, row_limit)
    return get_branch(conn, name)


def delete_branch(conn: psycopg.Connection[Any], name: str, *, force: bool = False) -> None:
    """Delete branch ``name`` and its schemas. Refuses main, a branch checked out by another session, and
    (unless ``force``) one with unmerged commits or uncommitted changes."""
    if not name:
        raise InvalidName("a branch name is needed", hint="pass the name of a branch from list_branches()")
    branches.delete(conn, name, force)


def list_branches(conn: psycopg.Connection[Any]) -> list[Branch]:
    """Every live branch (main first)."""
    return branches.list_all(conn)


def get_branch(conn: psycopg.Connection[Any], name: str) -> Branch:
    """One live branch by name; NotFound when there is none."""
    for branch in branches.list_all(conn):
        if branch.name == name:
            return branch
    raise NotFound(f"branch {name!r} does not exist", hint="list branches with `pggit branch list`")
