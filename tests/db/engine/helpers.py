"""Helpers for the tests of the engine's SQL primitives (sql/engine.sql and the stages that compose them)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]


def one(conn: Conn, query: str, *params: Any) -> Any:
    """The single value a query returns; dicts and lists are sent as jsonb."""
    args = tuple(Jsonb(p) if isinstance(p, (dict, list)) else p for p in params)
    row = conn.execute(query.encode() if not args else query, args or None).fetchone()
    assert row is not None
    return row[0]


def doc(**objects: dict[str, Any]) -> dict[str, Any]:
    """A snapshot document holding `objects` (keys spelled with `__` for `:`, e.g. table__public.users)."""
    return {"format": 1, "objects": {k.replace("__", ":"): v for k, v in objects.items()}}


def table(name: str = "users", **columns: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "table", "schema": "public", "name": name, "comment": None, "deps": [], "grants": [],
            "columns": columns, "column_order": list(columns)}


def col(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "default": None, "not_null": False, "identity": None, "generated": None,
            "collation": None, "comment": None, **extra}
