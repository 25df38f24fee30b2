"""The merge conflict as one typed value: its kind, reason, severity and resolution, both sides and advice.

`sql/merge3.sql` finds these conflicts (`pggit._merge_conflict`), `sql/merge.sql` stores them in `pggit.conflicts`;
`sql/metadata.sql` holds the same vocabulary as data (`pggit.conflict_kinds`, `pggit.conflict_reasons`) and
the table refuses any other kind or reason. `tests/db/merge/test_conflict_vocabulary.py` checks that both
languages name the same members, and that the merge emits every one of them and nothing else. The merge,
the LLM advisor, the service, the store and the CLI all carry this value (no copies of its fields).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class ConflictSeverity(StrEnum):
    """How much a conflict needs a person, for merge conflicts and intent conflicts alike (both tables
    check `severity IN ('ERROR', 'WARNING')`). ERROR: someone must decide before the change can go on;
    WARNING: safe to settle automatically (keep both sides), reported so someone can look.

    Not the severity of a migration hazard (`hazards.Severity`, lowercase, written into migration files and
    compared by `--fail-on`): a hazard says how risky a statement is to run, not who must decide."""

    ERROR = "ERROR"
    WARNING = "WARNING"


class ConflictKind(StrEnum):
    """What a merge conflict is about: `pggit.conflicts.conflict_type`. Whole-object conflicts take the
    kind of their object (`pggit._merge_type_of`); column and dependency conflicts have their own."""

    TABLE = "TABLE"            # a table-level field (comment, options, ...) or both sides' new columns
    COLUMN = "COLUMN"          # one column of a table
    VIEW = "VIEW"              # a view or materialized view
    FUNCTION = "FUNCTION"      # a function or procedure
    TYPE = "TYPE"              # an enum, domain or composite type (an enum's values, too)
    SEQUENCE = "SEQUENCE"
    INDEX = "INDEX"
    CONSTRAINT = "CONSTRAINT"
    TRIGGER = "TRIGGER"
    POLICY = "POLICY"
    DEPENDENCY = "DEPENDENCY"  # an object one side changed depends on what the other side removed or changed
    OBJECT = "OBJECT"          # an object without a kind (pggit's own snapshots always name one)


class ConflictReason(StrEnum):
    """Why the merge could not decide alone: `pggit.conflicts.reason` (NULL only on rows older than it)."""

    BOTH_MODIFIED = "both_modified"                          # both sides changed it differently
    BOTH_ADDED = "both_added"                                # both sides created it, differently
    MODIFY_DELETE = "modify_delete"                          # one side dropped (or renamed) it, the other changed it
    BOTH_ADDED_COLUMNS = "both_added_columns"                # different new columns on one table (keep both)
    ENUM_VALUES_SAME_POSITION = "enum_values_same_position"  # new enum values in the same place (keep both)
    ENUM_ORDER = "enum_order"                                # enum values that cannot be ordered for both sides
    BOTH_ADDED_INDEX = "both_added_index"                    # two new indexes with the same columns (keep both)
    BOTH_ADDED_FK = "both_added_fk"                          # new foreign keys on one table on both sides
    DEPENDENCY_REMOVED = "dependency_removed"                # what a changed object depends on was removed
    DEPENDENCY_CHANGED = "dependency_changed"                # what a changed object depends on was changed


class Resolution(StrEnum):
    """How a conflict is resolved: ours keeps the target's version, theirs takes the source's, custom runs SQL."""

    OURS = "ours"
    THEIRS = "theirs"
    CUSTOM = "custom"


class MergeConflict(BaseModel):
    """One conflict between the target (ours, branch A) and the source (theirs, branch B) of a merge: a row of
    `pggit.conflicts`. `paths` name what it is about ({"key"}, {"key", "column"} or {"key", "field"}) and the
    three definitions are the values at those paths; `branch_a_sql` / `branch_b_sql` is the DDL each side ran."""

    model_config = ConfigDict(frozen=True)

    id: int
    merge_id: int
    source_branch: str
    target_branch: str
    object_key: str
    object_type: str
    conflict_type: ConflictKind
    severity: ConflictSeverity
    reason: ConflictReason | None = None
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

