"""Merge conflicts: reads of pggit.conflicts (as `MergeConflict` values) and calls of pggit.resolve_conflict()."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pggit_core.conflicts import MergeConflict, Resolution
from pggit_core.store.commits import database_errors

COLUMNS = (
    "id, merge_id, source_branch, target_branch, object_key, object_type, conflict_type, severity, reason,"
    " paths, auto_resolvable, base_def, ours_def, theirs_def, branch_a_sql, branch_b_sql, advice, resolved,"
    " resolution, custom_sql, resolution_notes, resolved_by, resolved_at, created_at, forced_by"
)


def list_conflicts(conn: psycopg.Connection[Any], *, include_resolved: bool = False, source: str | None = None,
                   target: str | None = None, ids: Sequence[int] | None = None) -> list[MergeConflict]:
    """Conflicts, oldest first: open ones unless ``include_resolved``, optionally filtered."""
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
        return [MergeConflict.model_validate(row) for row in cur.fetchall()]


def get(conn: psycopg.Connection[Any], conflict_id: int) -> MergeConflict | None:
    """One conflict, resolved or not; None when no conflict has that id."""
    found = list_conflicts(conn, include_resolved=True, ids=[conflict_id])
    return found[0] if found else None


def proposal(conn: psycopg.Connection[Any], conflict_id: int) -> dict[str, Any] | None:
    """The LLM resolution document recorded on a conflict (docs/llm-resolution.md), if any."""
    row = conn.execute("SELECT proposal FROM pggit.conflicts WHERE id = %s", (conflict_id,)).fetchone()
    return row[0] if row is not None and isinstance(row[0], dict) else None


def resolve(conn: psycopg.Connection[Any], conflict_id: int, resolution: Resolution, custom_sql: str | None,
            notes: str | None, *, force: bool = False) -> MergeConflict:
    """Call pggit.resolve_conflict() in its own transaction and return the updated conflict."""
    with database_errors(), conn.transaction():
        row = conn.execute(
            "SELECT pggit.resolve_conflict(%s, %s, custom_sql => %s, notes => %s, force => %s)",
            (conflict_id, resolution.value, custom_sql, notes, force),
        ).fetchone()
    assert row is not None
    return MergeConflict.model_validate(row[0])
