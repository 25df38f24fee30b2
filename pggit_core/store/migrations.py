"""What migration generation reads from and records in the pggit schema: commits, snapshots, migrations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pggit_core.errors import NotFound
from pggit_core.store.commits import database_errors

Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class CommitRef:
    """A commit as migrations need it: where it sits in history and which snapshot it points at."""

    id: int
    branch_id: int
    parent_id: int | None
    snapshot_hash: str


@dataclass(frozen=True)
class BranchRef:
    id: int
    name: str
    base_commit_id: int | None
    head_commit_id: int | None


@dataclass(frozen=True)
class RecordedMigration:
    """A row of `pggit.migrations`: a migration generated here and written (checksum: of its own files)."""

    version: str
    name: str
    branch: str | None
    from_snapshot: str | None
    to_snapshot: str | None
    checksum: str | None


def branch(conn: Conn, name: str) -> BranchRef:
    row = conn.execute(
        "SELECT id, name, base_commit_id, head_commit_id FROM pggit.branches WHERE name = %s AND status <> "
        "'deleted' ORDER BY id DESC LIMIT 1", (name,)).fetchone()
    if row is None:
        raise NotFound(f"branch {name!r} does not exist", hint="list branches with `pggit branch list`")
    return BranchRef(int(row[0]), str(row[1]), _opt_int(row[2]), _opt_int(row[3]))


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def commit(conn: Conn, commit_id: int) -> CommitRef:
    row = conn.execute("SELECT id, branch_id, parent_id, snapshot_hash FROM pggit.commits WHERE id = %s",
                       (commit_id,)).fetchone()
    if row is None:
        raise NotFound(f"commit {commit_id} does not exist", hint="list commits with `pggit log BRANCH`")
    return CommitRef(int(row[0]), int(row[1]), _opt_int(row[2]), str(row[3]))


def ancestry(conn: Conn, head_id: int) -> list[CommitRef]:
    """A commit and its ancestors along parent_id, oldest first (one recursive query)."""
    rows = conn.execute(
        "WITH RECURSIVE up AS (SELECT id, branch_id, parent_id, snapshot_hash FROM pggit.commits WHERE id = %s "
        "UNION ALL SELECT c.id, c.branch_id, c.parent_id, c.snapshot_hash FROM pggit.commits c "
        "JOIN up ON c.id = up.parent_id) SELECT id, branch_id, parent_id, snapshot_hash FROM up ORDER BY id",
        (head_id,)).fetchall()
    return [CommitRef(int(r[0]), int(r[1]), _opt_int(r[2]), str(r[3])) for r in rows]


def uncommitted_count(conn: Conn, branch_name: str) -> int:
    """How many captured DDL commands of the branch no commit holds yet."""
    with database_errors():
        row = conn.execute("SELECT count(*) FROM pggit.uncommitted(%s)", (branch_name,)).fetchone()
    return int(str(row[0])) if row else 0


def tracked_schemas(conn: Conn) -> tuple[str, ...]:
    """The schemas main consists of, in order (setting `tracked_schemas`)."""
    row = conn.execute("SELECT value FROM pggit.settings WHERE key = 'tracked_schemas'").fetchone()
    value = row[0] if row else None
    return tuple(str(s) for s in value) if isinstance(value, list) and value else ("public",)


def first_commit(conn: Conn, branch_id: int) -> CommitRef | None:
    row = conn.execute("SELECT id, branch_id, parent_id, snapshot_hash FROM pggit.commits WHERE branch_id = %s "
                       "ORDER BY id LIMIT 1", (branch_id,)).fetchone()
    return None if row is None else CommitRef(int(row[0]), int(row[1]), _opt_int(row[2]), str(row[3]))


def snapshot_doc(conn: Conn, digest: str) -> dict[str, Any]:
    row = conn.execute("SELECT doc FROM pggit.snapshots WHERE hash = %s", (digest,)).fetchone()
    if row is None:
        raise NotFound(f"snapshot {digest} is not stored", hint="the commit's snapshot was deleted from pggit")
    doc = row[0]
    assert isinstance(doc, dict)
    return doc


def snapshot_hash(conn: Conn, doc: dict[str, Any]) -> str:
    with database_errors():
        row = conn.execute("SELECT pggit.snapshot_hash(%s::jsonb)", (Jsonb(doc),)).fetchone()
    assert row is not None
    return str(row[0])


def plan(conn: Conn, from_doc: dict[str, Any], to_doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of `pggit._plan(from, to)` in order: (ord, object_key, change, fields, statement)."""
    with database_errors():
        return conn.execute(
            "SELECT ord, object_key, change, fields, statement FROM pggit._plan(%s::jsonb, %s::jsonb) ORDER BY ord",
            (Jsonb(from_doc), Jsonb(to_doc))).fetchall()


def needs_own_transaction(conn: Conn, statements: Sequence[str]) -> list[bool]:
    """For each statement, in order, whether it cannot run inside a transaction block: the one definition,
    `pggit._needs_own_transaction`, on the statement's skeleton (literals and comments blanked)."""
    if not statements:
        return []
    with database_errors():
        rows = conn.execute(
            "SELECT coalesce(pggit._needs_own_transaction(s.skeleton), false) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(statement, i) "
            "LEFT JOIN LATERAL (SELECT x.skeleton FROM pggit._split_sql(t.statement) x ORDER BY x.ord LIMIT 1) s "
            "ON true ORDER BY t.i", (list(statements),)).fetchall()
    return [bool(r[0]) for r in rows]


def last_migration(conn: Conn, branch_name: str, before: str | None = None) -> RecordedMigration | None:
    """The branch's latest recorded migration (with `before`: the latest one older than that version)."""
    row = conn.execute("SELECT version, name, branch, from_snapshot, to_snapshot, checksum FROM pggit.migrations "
                       "WHERE branch = %s AND (%s::text IS NULL OR version < %s) ORDER BY version DESC LIMIT 1",
                       (branch_name, before, before)).fetchone()
    if row is None:
        return None
    branch, from_snapshot, to_snapshot, checksum = (None if v is None else str(v) for v in row[2:6])
    return RecordedMigration(str(row[0]), str(row[1]), branch, from_snapshot, to_snapshot, checksum)


def versions_with_prefix(conn: Conn, prefix: str) -> set[str]:
    rows = conn.execute("SELECT version FROM pggit.migrations WHERE version LIKE %s",
                        (prefix.replace("_", "\\_") + "%",)).fetchall()
    return {str(r[0]) for r in rows}


def record(conn: Conn, *, version: str, name: str, branch_name: str | None, parents: Sequence[str],
           from_snapshot: str, to_snapshot: str, checksum: str) -> None:
    conn.execute("INSERT INTO pggit.migrations (version, name, branch, parents, from_snapshot, to_snapshot, checksum) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                 (version, name, branch_name, list(parents), from_snapshot, to_snapshot, checksum))


def merges_into(conn: Conn, result_commit_ids: Sequence[int]) -> list[tuple[int, str, int | None, int | None]]:
    """Merges whose result commit is among the given commits: (merge id, source branch, base, source head)."""
    rows = conn.execute("SELECT id, source_branch, base_commit_id, source_commit_id FROM pggit.merges "
                        "WHERE result_commit_id = ANY(%s) AND result = 'merged' ORDER BY id",
                        (list(result_commit_ids),)).fetchall()
    return [(int(r[0]), str(r[1]), _opt_int(r[2]), _opt_int(r[3])) for r in rows]


def statements_of(conn: Conn, commit_ids: Sequence[int]) -> list[str]:
    """The captured statement texts of these commits, each once (later commands of a multi-statement
    query string point at the row that holds the text: `statement_row`)."""
    rows = conn.execute("SELECT statement FROM pggit.ddl_log WHERE commit_id = ANY(%s) AND statement_row IS NULL "
                        "ORDER BY id",
                        (list(commit_ids),)).fetchall()
    return [str(r[0]) for r in rows]


def source_commits(conn: Conn, branch_name: str, after_id: int | None, upto_id: int | None) -> list[int]:
    """Commit ids of a merged source branch in (after_id, upto_id]."""
    if upto_id is None:
        return []
    rows = conn.execute(
        "SELECT c.id FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id WHERE b.name = %s "
        "AND c.id <= %s AND (%s::bigint IS NULL OR c.id > %s) ORDER BY c.id",
        (branch_name, upto_id, after_id, after_id)).fetchall()
    return [int(r[0]) for r in rows]
