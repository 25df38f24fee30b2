"""Three-way merges into a branch: typed results, conflicts and resolutions over sql/merge.sql."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from pggit_core.errors import InvalidInput, MergeError, StalePlan
from pggit_core.store import conflicts as conflict_store
from pggit_core.store import merges as merge_store
from pggit_core.store.durable import operation

Resolution = Literal["ours", "theirs", "custom"]
Outcome = Literal["merged", "conflicts", "noop", "failed"]
RESOLUTIONS: tuple[str, ...] = ("ours", "theirs", "custom")


class MergeConflict(BaseModel):
    """One conflict between the target (ours, branch A) and the source (theirs, branch B) of a merge."""

    model_config = ConfigDict(frozen=True)

    id: int
    merge_id: int
    source_branch: str
    target_branch: str
    object_key: str
    object_type: str
    conflict_type: str
    severity: Literal["ERROR", "WARNING"]
    reason: str | None = None
    paths: tuple[dict[str, str], ...] = ()
    auto_resolvable: bool = False
    base_def: Any = None
    ours_def: Any = None
    theirs_def: Any = None
    branch_a_sql: str | None = None
    branch_b_sql: str | None = None
    advice: str = ""
    resolved: bool = False
    resolution: Resolution | None = None
    custom_sql: str | None = None
    resolution_notes: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    created_at: datetime | None = None
    forced_by: str | None = None


class AutoResolution(BaseModel):
    """A conflict that auto-resolve settled (different new columns or same-column indexes: keep both)."""

    model_config = ConfigDict(frozen=True)

    object_key: str
    conflict_type: str
    severity: str
    advice: str


class AppliedResolution(BaseModel):
    """A recorded resolution that this merge applied."""

    model_config = ConfigDict(frozen=True)

    id: int
    object_key: str
    conflict_type: str
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
        rows = {int(r["id"]): r for r in conflict_store.list_conflicts(conn, include_resolved=True, ids=open_ids)}
    result = MergeResult.model_validate({
        **{k: v for k, v in raw.items() if k not in ("conflicts", "code")},
        "conflicts": [rows[i] for i in open_ids],
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
    rows = conflict_store.list_conflicts(conn, include_resolved=include_resolved, source=source, target=target)
    return [MergeConflict.model_validate(r) for r in rows]


def resolve_conflict(conn: psycopg.Connection[Any], conflict_id: int, resolution: str,
                     custom_sql: str | None = None, notes: str | None = None, *, force: bool = False) -> MergeConflict:
    """Record how a conflict is resolved. Custom SQL must be schema changes only and is tried on a scratch branch
    of the target first (it may change only the conflict's objects and drop nothing no side dropped);
    ``force`` (a merger) skips those checks and records who forced it (sql/merge.sql)."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution {resolution!r} is not one of ours, theirs, custom",
                           hint="ours keeps the target's version, theirs takes the source's, custom runs --sql")
    row = conflict_store.resolve(conn, conflict_id, resolution, custom_sql, notes, force=force)
    return MergeConflict.model_validate(row)


def history(conn: psycopg.Connection[Any], *, source: str | None = None, target: str | None = None,
            limit: int = 50) -> list[MergeRecord]:
    """Merge attempts, newest first."""
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, not {limit}", hint="pass a positive limit")
    return [MergeRecord.model_validate(r) for r in merge_store.history(conn, source, target, limit)]

