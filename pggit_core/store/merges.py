"""Merge attempts: calls of pggit.merge() and reads of pggit.merges (the merge history)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from pggit_core.store.commits import database_errors

HISTORY_COLUMNS = (
    "id, source_branch, target_branch, base_commit_id, source_commit_id, target_commit_id, result_commit_id,"
    " auto_resolve, had_conflicts, result, statements_applied, applied_sql, error, merged_by, created_at,"
    " finished_at"
)


def run_merge(conn: psycopg.Connection[Any], source: str, target: str, auto_resolve: bool) -> dict[str, Any]:
    """Call pggit.merge() in its own transaction (a savepoint inside the caller's) and return its jsonb."""
    with database_errors(), conn.transaction():
        row = conn.execute("SELECT pggit.merge(%s, %s, auto_resolve => %s)",
                           (source, target, auto_resolve)).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def history(conn: psycopg.Connection[Any], source: str | None = None, target: str | None = None,
            limit: int = 50) -> list[dict[str, Any]]:
    """Merge attempts, newest first, optionally of one source and/or into one target."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {HISTORY_COLUMNS} FROM pggit.merges"  # noqa: S608 (a constant column list)
            " WHERE (%(source)s::text IS NULL OR source_branch = %(source)s)"
            "   AND (%(target)s::text IS NULL OR target_branch = %(target)s)"
            " ORDER BY id DESC LIMIT %(limit)s",
            {"source": source, "target": target, "limit": limit},
        )
        return list(cur.fetchall())


def merge_of_head(conn: psycopg.Connection[Any], source: str, target: str) -> dict[str, Any] | None:
    """The merge (a history row) that brought the live branch ``source``'s current head into ``target``, when
    there is one and the branch has commits of its own (the run died after its merge, or the merge is retried)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT m.id, m.source_branch, m.target_branch, m.statements_applied, m.result_commit_id"
            "  FROM pggit.branches b JOIN pggit.merges m ON m.source_branch = b.name"
            "   AND m.target_branch = %s AND m.result = 'merged' AND m.source_commit_id = b.head_commit_id"
            " WHERE b.name = %s AND b.status <> 'deleted' AND b.head_commit_id IS DISTINCT FROM b.base_commit_id"
            " ORDER BY m.id DESC LIMIT 1", (target, source)).fetchone()
