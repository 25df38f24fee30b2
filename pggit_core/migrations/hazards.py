"""Migration lint: destructive, locking and backward-incompatible changes as coded hazards with advice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from pggit_core.migrations.steps import PlanStep
from pggit_core.migrations.type_changes import TypeChange, classify
from pggit_core.snapshot import ObjectKey

Doc = Mapping[str, Any]


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True)
class Rule:
    """One hazard kind: its stable code, severity, title and the advice that comes with it."""

    code: str
    severity: Severity
    title: str
    advice: str


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("PGH101", Severity.error, "drops a table",
         "Its rows are lost. Stop every reader and writer first, back the table up (or rename it and drop it in "
         "a later migration), then drop it."),
    Rule("PGH102", Severity.error, "drops a column",
         "Its data is lost and old application code that reads it breaks. Ship code that no longer uses the "
         "column first, back the data up, then drop it in a later migration."),
    Rule("PGH103", Severity.error, "narrows a column type",
         "Values that do not fit fail the migration or are truncated/rounded. Check the data first "
         "(SELECT ... WHERE the value does not fit), or add a new column, backfill and switch over."),
    Rule("PGH104", Severity.warning, "drops a sequence",
         "Its current value is lost; recreating it restarts numbering and can collide with existing ids."),
    Rule("PGH105", Severity.error, "removes enum values",
         "Rows holding a removed value make the type change fail. Update those rows first, then change the "
         "type."),
    Rule("PGH201", Severity.warning, "creates an index on an existing table without CONCURRENTLY",
         "CREATE INDEX blocks writes to the table while it builds. Generate with --concurrent-indexes (the "
         "index is then built with CREATE INDEX CONCURRENTLY outside the transaction)."),
    Rule("PGH202", Severity.error, "adds a NOT NULL column without a default to an existing table",
         "The statement fails as soon as the table has a row. Add the column nullable (or with a DEFAULT), "
         "backfill it, then SET NOT NULL."),
    Rule("PGH203", Severity.warning, "sets NOT NULL on an existing column",
         "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock and fails on NULLs. Add CHECK "
         "(col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (it uses the validated check)."),
    Rule("PGH204", Severity.warning, "changes a column type with a table rewrite",
         "ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock. For a large "
         "table add a new column, backfill it in batches and switch over."),
    Rule("PGH205", Severity.warning, "adds a foreign key without NOT VALID to an existing table",
         "Validating the key scans both tables while holding locks. Add it with NOT VALID, then run "
         "ALTER TABLE ... VALIDATE CONSTRAINT in a separate step."),
    Rule("PGH206", Severity.warning, "adds a CHECK constraint without NOT VALID to an existing table",
         "Validating the check scans the table under an ACCESS EXCLUSIVE lock. Add it with NOT VALID, then "
         "VALIDATE CONSTRAINT separately."),
    Rule("PGH207", Severity.warning, "adds a primary key, unique or exclusion constraint to an existing table",
         "Building its index blocks writes. Build a unique index with CREATE UNIQUE INDEX CONCURRENTLY first, "
         "then ADD CONSTRAINT ... USING INDEX."),
    Rule("PGH301", Severity.warning, "renames an object",
         "Clients that use the old name break the moment the migration runs. Deploy code that accepts both "
         "names first (for a table: a view with the old name), or rename in a later release."),
    Rule("PGH302", Severity.warning, "drops and adds a look-alike (a rename done as drop + add?)",
         "The migration drops the old object and creates the new one empty: if this was meant as a rename, "
         "edit the migration to use ALTER ... RENAME so the data is kept."),
    Rule("PGH303", Severity.warning, "removes a view, function or procedure",
         "Clients that still call it break. Remove its callers first; the down migration recreates it."),
    Rule("PGH401", Severity.warning, "creates a SECURITY DEFINER function or procedure",
         "It runs with the rights of its owner (the role that applies the migration, often a superuser) for "
         "anyone allowed to call it. Read its body, give it SET search_path, revoke EXECUTE from PUBLIC, and "
         "apply it as a role that owns no more than it needs."),
)}


class Hazard(BaseModel):
    """One hazard of a migration: a stable code, what it concerns, why, and how to avoid it."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    object_key: str
    column: str | None = None
    message: str
    advice: str
    ord: int | None = None

    @property
    def subject(self) -> str:
        return f"{self.object_key}.{self.column}" if self.column else self.object_key


@dataclass(frozen=True)
class Rename:
    """A rename found in captured DDL: kind (`table`, `column`, `view`, ...), schema, old and new name;
    `table` is the column's table."""

    kind: str
    schema: str
    old: str
    new: str
    table: str | None = None


@dataclass(frozen=True)
class DataLoss:
    """A part of the up migration that its down migration cannot undo: what and why."""

    object_key: str
    reason: str
    column: str | None = None


def _objects(doc: Doc) -> Mapping[str, Any]:
    objects = doc.get("objects", {})
    return objects if isinstance(objects, Mapping) else {}


def _table_key(obj: Mapping[str, Any]) -> str:
    """The key of the table an index or constraint object belongs to."""
    return str(ObjectKey.table_key(str(obj.get("schema")), str(obj.get("table"))))


def _named(key: str) -> str:
    """How messages name an object: its key without the kind (`public.users`, `public.users.users_pkey`,
    `public.f(integer)`)."""
    parsed = ObjectKey.parse(key)
    name = ".".join(p for p in (parsed.schema, parsed.table, parsed.name) if p is not None)
    return name if parsed.arguments is None else f"{name}({parsed.arguments})"


def _hazard(code: str, key: str, message: str, ords: Mapping[str, int], column: str | None = None) -> Hazard:
    rule = RULES[code]
    ord_ = ords.get(f"{key}#{column}", ords.get(key)) if column else ords.get(key)
    return Hazard(code=code, severity=rule.severity, object_key=key, column=column, message=message,
                  advice=rule.advice, ord=ord_)


def first_ords(steps: Iterable[PlanStep]) -> dict[str, int]:
    """The first step of each object, and of each column named in a step's fields (`key#column`)."""
    ords: dict[str, int] = {}
    for step in steps:
        ords.setdefault(step.object_key, step.ord)
        for field in step.fields:
            parts = field.split(".")
            if len(parts) >= 2 and parts[0] == "columns":
                ords.setdefault(f"{step.object_key}#{parts[1]}", step.ord)
    return ords


def _columns(obj: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    cols = obj.get("columns", {})
    return cols if isinstance(cols, Mapping) else {}


def _built_concurrently(steps: Sequence[PlanStep], key: str) -> bool:
    return any(" ".join(s.statement.split()).upper().startswith(
        ("CREATE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX CONCURRENTLY")) for s in steps if s.object_key == key)


def lint(steps: Sequence[PlanStep], from_doc: Doc, to_doc: Doc, renames: Sequence[Rename] = ()) -> tuple[Hazard, ...]:
    """The hazards of the plan that turns `from_doc` into `to_doc` (steps as `pggit._plan` returns them)."""
    before, after = _objects(from_doc), _objects(to_doc)
    ords = first_ords(steps)
    found: list[Hazard] = []
    for key in sorted(before.keys() - after.keys()):
        found.extend(_removed(key, before[key], ords))
    for key in sorted(after.keys() - before.keys()):
        found.extend(_added(key, after[key], before, steps, ords))
    for key in sorted(before.keys() & after.keys()):
        if before[key] != after[key]:
            found.extend(_changed(key, before[key], after[key], before, steps, ords))
    found.extend(_lookalike_tables(before, after, ords))
    for rename in renames:
        what = f"{rename.table}.{rename.old}" if rename.kind == "column" else rename.old
        key = str(ObjectKey.table_key(rename.schema, str(rename.table)) if rename.kind == "column" else (
            ObjectKey(rename.kind, rename.schema, rename.new)))
        found.append(_hazard("PGH301", key, f"renames {rename.kind} {rename.schema}.{what} to {rename.new}", ords,
                             column=rename.new if rename.kind == "column" else None))
    return tuple(sorted(set(found), key=lambda h: (h.ord if h.ord is not None else 1 << 30, h.code, h.subject)))


def _removed(key: str, obj: Mapping[str, Any], ords: Mapping[str, int]) -> list[Hazard]:
    kind = obj.get("kind", ObjectKey.parse(key).kind)
    name = _named(key)
    if kind == "table":
        return [_hazard("PGH101", key, f"drops table {name} and all of its rows", ords)]
    if kind == "sequence":
        return [_hazard("PGH104", key, f"drops sequence {name}", ords)]
    if kind in ("view", "matview", "function", "procedure"):
        return [_hazard("PGH303", key, f"removes {kind} {name}", ords)]
    return []


def _definer(key: str, obj: Mapping[str, Any], ords: Mapping[str, int]) -> list[Hazard]:
    if obj.get("kind") in ("function", "procedure") and obj.get("security_definer") is True:
        return [_hazard("PGH401", key, f"{obj.get('kind')} {_named(key)} runs as its owner "
                                       "(SECURITY DEFINER)", ords)]
    return []


def _added(key: str, obj: Mapping[str, Any], before: Mapping[str, Any], steps: Sequence[PlanStep],
           ords: Mapping[str, int]) -> list[Hazard]:
    kind = obj.get("kind")
    if kind in ("function", "procedure"):
        return _definer(key, obj, ords)
    if kind not in ("index", "constraint") or _table_key(obj) not in before:
        return []
    name = _named(key)
    table = f"{obj.get('schema')}.{obj.get('table')}"
    if kind == "index":
        if _built_concurrently(steps, key):
            return []
        return [_hazard("PGH201", key, f"builds index {name} on existing table {table} without CONCURRENTLY",
                        ords)]
    definition = str(obj.get("definition", ""))
    not_valid = definition.rstrip().upper().endswith("NOT VALID")
    ctype = obj.get("type")
    if ctype == "f" and not not_valid:
        return [_hazard("PGH205", key, f"adds foreign key {name} to existing table {table} and validates it",
                        ords)]
    if ctype == "c" and not not_valid:
        return [_hazard("PGH206", key, f"adds check {name} to existing table {table} and validates it", ords)]
    if ctype in ("p", "u", "x"):
        what = {"p": "primary key", "u": "unique constraint", "x": "exclusion constraint"}[str(ctype)]
        return [_hazard("PGH207", key, f"adds {what} {name} to existing table {table}", ords)]
    return []


def _changed(key: str, old: Mapping[str, Any], new: Mapping[str, Any], before: Mapping[str, Any],
             steps: Sequence[PlanStep], ords: Mapping[str, int]) -> list[Hazard]:
    kind = new.get("kind")
    name = _named(key)
    if kind in ("function", "procedure"):
        return [] if old.get("security_definer") is True else _definer(key, new, ords)
    if kind in ("index", "constraint"):
        if old.get("definition") != new.get("definition") or old.get("type") != new.get("type"):
            return _added(key, new, before, steps, ords)
        return []
    if kind == "enum":
        gone = [v for v in old.get("values", []) if v not in new.get("values", [])]
        if gone:
            return [_hazard("PGH105", key, f"removes values {', '.join(map(str, gone))} from enum {name}", ords)]
        return []
    if kind != "table":
        return []
    found: list[Hazard] = []
    old_cols, new_cols = _columns(old), _columns(new)
    for col in sorted(old_cols.keys() - new_cols.keys()):
        found.append(_hazard("PGH102", key, f"drops column {name}.{col} and its data", ords, column=col))
    for col in sorted(new_cols.keys() - old_cols.keys()):
        spec = new_cols[col]
        if spec.get("not_null") and spec.get("default") is None and not spec.get("identity") and not spec.get(
                "generated"):
            found.append(_hazard("PGH202", key, f"adds column {name}.{col} NOT NULL without a default", ords,
                                 column=col))
    for col in sorted(old_cols.keys() & new_cols.keys()):
        a, b = old_cols[col], new_cols[col]
        if a.get("type") != b.get("type"):
            effect = classify(str(a.get("type")), str(b.get("type")))
            if effect is TypeChange.narrowing:
                found.append(_hazard("PGH103", key, f"narrows {name}.{col} from {a.get('type')} to {b.get('type')}",
                                     ords, column=col))
            elif effect in (TypeChange.widening_rewrite, TypeChange.conversion):
                found.append(_hazard("PGH204", key, f"changes {name}.{col} from {a.get('type')} to "
                                     f"{b.get('type')}, rewriting the table", ords, column=col))
        if b.get("not_null") and not a.get("not_null"):
            found.append(_hazard("PGH203", key, f"sets {name}.{col} NOT NULL", ords, column=col))
    found.extend(_lookalike_columns(key, name, old_cols, new_cols, ords))
    return found


def _lookalike_columns(key: str, name: str, old_cols: Mapping[str, Mapping[str, Any]],
                       new_cols: Mapping[str, Mapping[str, Any]], ords: Mapping[str, int]) -> list[Hazard]:
    found: list[Hazard] = []
    added = {c: new_cols[c] for c in new_cols.keys() - old_cols.keys()}
    for col in sorted(old_cols.keys() - new_cols.keys()):
        twins = sorted(c for c, spec in added.items() if spec.get("type") == old_cols[col].get("type"))
        if twins:
            found.append(_hazard("PGH302", key, f"drops {name}.{col} and adds {name}.{twins[0]} of the same type "
                                 f"({old_cols[col].get('type')}); the data of {col} does not move", ords,
                                 column=col))
    return found


def _lookalike_tables(before: Mapping[str, Any], after: Mapping[str, Any], ords: Mapping[str, int]) -> list[Hazard]:
    def shape(obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((c, str(s.get("type"))) for c, s in _columns(obj).items()))

    added = {k: shape(after[k]) for k in after.keys() - before.keys() if after[k].get("kind") == "table"}
    found: list[Hazard] = []
    for key in sorted(before.keys() - after.keys()):
        if before[key].get("kind") != "table" or not _columns(before[key]):
            continue
        twins = sorted(k for k, s in added.items() if s == shape(before[key]))
        if twins:
            found.append(_hazard("PGH302", key, f"drops table {_named(key)} and creates "
                                 f"{_named(twins[0])} with the same columns; the rows do not move", ords))
    return found


def data_losses(from_doc: Doc, to_doc: Doc) -> tuple[DataLoss, ...]:
    """What the up migration (from -> to) destroys that its down migration cannot bring back."""
    before, after = _objects(from_doc), _objects(to_doc)
    losses: list[DataLoss] = []
    for key in sorted(before.keys() - after.keys()):
        kind = before[key].get("kind")
        name = _named(key)
        if kind == "table":
            losses.append(DataLoss(key, f"table {name} is recreated empty: its rows were dropped by the up "
                                        "migration and are not restored"))
        elif kind == "sequence":
            losses.append(DataLoss(key, f"sequence {name} is recreated at its start value, not where it was"))
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        if old.get("kind") == "enum":
            gone = [v for v in old.get("values", []) if v not in new.get("values", [])]
            if gone:
                losses.append(DataLoss(key, f"enum values {', '.join(map(str, gone))} come back, but rows that "
                                            "held them were changed by hand before the up migration"))
        if old.get("kind") != "table":
            continue
        name = _named(key)
        old_cols, new_cols = _columns(old), _columns(new)
        for col in sorted(old_cols.keys() - new_cols.keys()):
            spec = old_cols[col]
            extra = " (NOT NULL without a default: re-adding it fails while the table has rows)" if (
                spec.get("not_null") and spec.get("default") is None and not spec.get("identity")) else ""
            losses.append(DataLoss(key, f"column {name}.{col} is re-added empty: its data was dropped by the up "
                                        f"migration and is not restored{extra}", col))
        for col in sorted(old_cols.keys() & new_cols.keys()):
            a, b = str(old_cols[col].get("type")), str(new_cols[col].get("type"))
            if a != b and classify(a, b) is TypeChange.narrowing:
                losses.append(DataLoss(key, f"column {name}.{col} goes back to {a}, but values narrowed to {b} by "
                                            "the up migration (truncated or rounded) stay as they are", col))
    return tuple(losses)
