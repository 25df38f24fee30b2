"""Merge conflicts: reads of pggit.conflicts and calls of pggit.resolve_conflict()."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pggit_core.store.commits import database_errors

COLUMNS = (
    "id, merge_id, source_branch, target_branch, object_key, object_type, conflict_type, severity, reason,"
    " paths, auto_resolvable, base_def, ours_def, theirs_def, branch_a_sql, branch_b_sql, advice, resolved,"
    " resolution, custom_sql, resolution_notes, resolved_by, resolved_at, created_at, forced_by"
)


def list_conflicts(conn: psycopg.Connection[Any], *, include_resolved: bool = False, source: str | None = None,
                   target: str | None = None, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Conflict rows, oldest first: open ones unless ``include_resolved``, optionally filtered."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM pggit.conflicts"  # noqa: S608 (a constant column list)
            " WHERE (%(all)s OR NOT resolved)"
            "   AND (%(source)s::text IS NULL OR source_branch = %(source)s)"
            "   AND (%(target)s::text IS NULL OR target_branch = %(target)s)"
            "   AND (%(ids)s::bigint[] IS NULL OR id = ANY (%(ids)s::bigint[]))"
            " ORDER BY id",
            {"all": include_resolved, "source": source, "target": target,
             "ids": list(ids) if ids is not None else None},
        )
        return list(cur.fetchall())


def resolve(conn: psycopg.Connection[Any], conflict_id: int, resolution: str, custom_sql: str | None,
            notes: str | None, *, force: bool = False) -> dict[str, Any]:
    """Call pggit.resolve_conflict() in its own transaction and return the updated row."""
    with database_errors(), conn.transaction():
        row = conn.execute(
            "SELECT pggit.resolve_conflict(%s, %s, custom_sql => %s, notes => %s, force => %s)",
            (conflict_id, resolution, custom_sql, notes, force),
        ).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result
