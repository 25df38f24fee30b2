"""Three-way merges into a branch: typed results and resolutions over sql/merge.sql (conflict values: conflicts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from pggit_core.conflicts import ConflictKind, ConflictSeverity, MergeConflict, Resolution
from pggit_core.errors import InvalidInput, MergeError, StalePlan
from pggit_core.store import conflicts as conflict_store
from pggit_core.store import merges as merge_store
from pggit_core.store.durable import operation

Outcome = Literal["merged", "conflicts", "noop", "failed"]


class AutoResolution(BaseModel):
    """A conflict that auto-resolve settled (different new columns or same-column indexes: keep both)."""

    model_config = ConfigDict(frozen=True)

    object_key: str
    conflict_type: ConflictKind
    severity: ConflictSeverity
    advice: str


class AppliedResolution(BaseModel):
    """A recorded resolution that this merge applied."""

    model_config = ConfigDict(frozen=True)

    id: int
    object_key: str
    conflict_type: ConflictKind
    resolution: Resolution


class ObjectChange(BaseModel):
    """An object the merge adds to, removes from or changes in the target."""

    model_config = ConfigDict(frozen=True)

    key: str
    change: Literal["added", "removed", "changed"]


class MergeResult(BaseModel):
    """What `pggit.merge` did: merged (applied), stopped by conflicts, nothing to do, or failed."""

    model_config = ConfigDict(frozen=True)

    merge_id: int
    source: str
    target: str
    result: Outcome
    has_conflicts: bool
    applied: bool
    method: Literal["replay", "plan"] | None = None
    statements: tuple[str, ...] = ()
    conflicts: tuple[MergeConflict, ...] = ()
    auto_resolved: tuple[AutoResolution, ...] = ()
    resolutions: tuple[AppliedResolution, ...] = ()
    notes: tuple[str, ...] = ()
    changes: tuple[ObjectChange, ...] = ()
    base_commit_id: int | None = None
    source_commit_id: int | None = None
    target_commit_id: int | None = None
    result_commit_id: int | None = None
    error: str | None = None


class MergeRecord(BaseModel):
    """One row of the merge history (every attempt, including failed and conflicted ones)."""

    model_config = ConfigDict(frozen=True)

    id: int
    source_branch: str
    target_branch: str
    base_commit_id: int | None
    source_commit_id: int | None
    target_commit_id: int | None
    result_commit_id: int | None
    auto_resolve: bool
    had_conflicts: bool
    result: str
    statements_applied: int
    applied_sql: tuple[str, ...] = Field(default=())
    error: str | None
    merged_by: str
    created_at: datetime
    finished_at: datetime | None


def merge(conn: psycopg.Connection[Any], source: str, target: str = "main", *,
          auto_resolve: bool = False) -> MergeResult:
    """Merge ``source`` into ``target``. Conflicts come back in the result (the target unchanged);
    a failed apply is recorded in the history, rolled back, then raised as MergeError (PG090). One operation
    (``store.durable``): the merge, or the record of its failure, is committed before this returns or raises."""
    with operation(conn):
        raw = merge_store.run_merge(conn, source, target, auto_resolve)
        open_ids = [int(c["id"]) for c in raw.get("conflicts", [])]
        found = {c.id: c for c in conflict_store.list_conflicts(conn, include_resolved=True, ids=open_ids)}
    result = MergeResult.model_validate({
        **{k: v for k, v in raw.items() if k not in ("conflicts", "code")},
        "conflicts": [found[i] for i in open_ids],
    })
    if result.result == "failed":
        message = result.error or f"merging {source} into {target} failed"
        if raw.get("code") == "PGG91":
            raise StalePlan(message, hint="run the merge again: it is recomputed on the target's new state",
                            merge_id=result.merge_id)
        raise MergeError(message, hint="the target is unchanged; see pggit.merges for the attempt and fix the cause",
                         merge_id=result.merge_id)
    return result


def conflicts(conn: psycopg.Connection[Any], *, include_resolved: bool = False, source: str | None = None,
              target: str | None = None) -> list[MergeConflict]:
    """Merge conflicts, oldest first: the open ones unless ``include_resolved``."""
    return conflict_store.list_conflicts(conn, include_resolved=include_resolved, source=source, target=target)


def resolve_conflict(conn: psycopg.Connection[Any], conflict_id: int, resolution: str,
                     custom_sql: str | None = None, notes: str | None = None, *, force: bool = False) -> MergeConflict:
    """Record how a conflict is resolved. Custom SQL must be schema changes only and is tried on a scratch branch
    of the target first (it may change only the conflict's objects and drop nothing no side dropped);
    ``force`` (a merger) skips those checks and records who forced it (sql/conflicts.sql)."""
    try:
        chosen = Resolution(resolution)
    except ValueError:
        raise InvalidInput(f"resolution {resolution!r} is not one of ours, theirs, custom",
                           hint="ours keeps the target's version, theirs takes the source's, custom runs --sql"
                           ) from None
    return conflict_store.resolve(conn, conflict_id, chosen, custom_sql, notes, force=force)


def history(conn: psycopg.Connection[Any], *, source: str | None = None, target: str | None = None,
            limit: int = 50) -> list[MergeRecord]:
    """Merge attempts, newest first."""
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, not {limit}", hint="pass a positive limit")
    return [MergeRecord.model_validate(r) for r in merge_store.history(conn, source, target, limit)]

