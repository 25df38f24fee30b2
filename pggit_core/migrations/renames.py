"""Renames found in captured DDL, and how a migration keeps their data: RENAME statements plus a renamed plan base."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from pggit_core import statements
from pggit_core.errors import InvalidSQL
from pggit_core.migrations.hazards import Rename
from pggit_core.snapshot import ObjectKey

_APPLIED_KINDS = ("table", "column")
_RENAMED_TO = "renamed to "


@dataclass(frozen=True)
class RenameOp:
    """One rename from captured DDL. Tables and columns are renamed by the migration (their data stays);
    other kinds are only linted (the plan drops and creates them, which loses nothing)."""

    kind: str
    schema: str
    old: str
    new: str
    table: str | None = None

    def reversed(self) -> RenameOp:
        return RenameOp(self.kind, self.schema, self.new, self.old, self.table)

    def as_lint(self) -> Rename:
        return Rename(kind=self.kind, schema=self.schema, old=self.old, new=self.new, table=self.table)


def renames_in(texts: Sequence[str]) -> list[RenameOp]:
    """The renames the given captured statements made, in order (statements the parser cannot read are
    left out: they ran in PostgreSQL, so they are valid, but we cannot tell what they renamed)."""
    found: list[RenameOp] = []
    for text in texts:
        if "RENAME" not in text.upper():  # every rename statement says RENAME; skip parsing the others
            continue
        try:
            parsed = statements.parse_one(text)
        except InvalidSQL:
            continue
        for touch in parsed.touches:
            if touch.action != statements.Action.RENAME or not touch.detail.startswith(_RENAMED_TO):
                continue
            new = touch.detail[len(_RENAMED_TO):].strip()
            found.append(RenameOp(str(touch.kind), touch.schema, touch.name, new, touch.table))
    return found


def _swap_table_dep(dep: str, schema: str, old: str, new: str) -> str:
    """A dependency on the renamed table or one of its columns, renamed with it."""
    key = ObjectKey.parse(dep)
    if key == ObjectKey.table_key(schema, old):
        return str(ObjectKey.table_key(schema, new))
    if key.kind == "column" and key.schema == schema and key.table == old:
        return str(ObjectKey.column(schema, new, key.name))
    return dep


def _swap_column_dep(dep: str, schema: str, table: str, old: str, new: str) -> str:
    """A dependency on the renamed column, renamed with it."""
    return str(ObjectKey.column(schema, table, new)) if dep == str(ObjectKey.column(schema, table, old)) else dep


def _rename_table(doc: dict[str, Any], schema: str, old: str, new: str) -> bool:
    objects: dict[str, Any] = doc["objects"]
    old_key, new_key = str(ObjectKey.table_key(schema, old)), str(ObjectKey.table_key(schema, new))
    if old_key not in objects or new_key in objects:
        return False
    renamed: dict[str, Any] = {}
    for key, obj in objects.items():
        if key == old_key:
            key, obj = new_key, {**obj, "name": new}
        elif obj.get("schema") == schema and obj.get("table") == old:
            obj = {**obj, "table": new}
            parsed = ObjectKey.parse(key)
            if parsed.table == old:  # constraints, triggers and policies name their table in the key
                key = str(dataclasses.replace(parsed, table=new))
        if obj.get("kind") == "sequence" and str(obj.get("owned_by") or "").startswith(f"{old}."):
            obj = {**obj, "owned_by": f"{new}.{str(obj['owned_by'])[len(old) + 1:]}"}
        if obj.get("kind") == "table" and obj.get("partition_of") == old and obj.get("schema") == schema:
            obj = {**obj, "partition_of": new}
        if obj.get("deps"):
            obj = {**obj, "deps": sorted(_swap_table_dep(d, schema, old, new) for d in obj["deps"])}
        renamed[key] = obj
    doc["objects"] = renamed
    return True


def _rename_column(doc: dict[str, Any], schema: str, table: str, old: str, new: str) -> bool:
    objects: dict[str, Any] = doc["objects"]
    table_key = str(ObjectKey.table_key(schema, table))
    table_obj = objects.get(table_key)
    if table_obj is None:
        return False
    columns = dict(table_obj.get("columns") or {})
    if old not in columns or new in columns:
        return False
    columns[new] = columns.pop(old)
    renamed_table = {**table_obj, "columns": columns}
    if isinstance(table_obj.get("column_order"), list):
        renamed_table["column_order"] = [new if c == old else c for c in table_obj["column_order"]]
    objects[table_key] = renamed_table
    for key, obj in list(objects.items()):
        if obj.get("deps"):
            obj = {**obj, "deps": sorted(_swap_column_dep(d, schema, table, old, new) for d in obj["deps"])}
        if obj.get("kind") == "sequence" and obj.get("owned_by") == f"{table}.{old}":
            obj = {**obj, "owned_by": f"{table}.{new}"}
        objects[key] = obj
    return True


def apply_renames(doc: dict[str, Any], renames: Sequence[RenameOp]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Rename tables and columns of `doc` as the captured renames did. Returns the RENAME statements (object key,
    SQL relative to search_path) for the renames that apply to `doc`, and the renamed copy of `doc`."""
    if not any(op.kind in _APPLIED_KINDS for op in renames):
        return [], doc
    out = copy.deepcopy(doc)
    out.setdefault("objects", {})
    steps: list[tuple[str, str]] = []
    for op in renames:
        if op.kind not in _APPLIED_KINDS:
            continue
        if op.kind == "table" and _rename_table(out, op.schema, op.old, op.new):
            stmt = sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(op.old), sql.Identifier(op.new))
            steps.append((str(ObjectKey.table_key(op.schema, op.new)), stmt.as_string(None)))
        elif op.kind == "column" and op.table and _rename_column(out, op.schema, op.table, op.old, op.new):
            stmt = sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
                sql.Identifier(op.table), sql.Identifier(op.old), sql.Identifier(op.new))
            steps.append((str(ObjectKey.table_key(op.schema, op.table)), stmt.as_string(None)))
    return steps, out


_NAME_FIELDS = ("kind", "schema", "name", "table")


def _substitute(text: str, old: str, new: str) -> str:
    """`old` replaced by `new` where it stands as a whole identifier (bare or double-quoted)."""
    text = text.replace(f'"{old}"', f'"{new}"')
    return re.sub(rf'(?<![\w"$]){re.escape(old)}(?![\w"$])', new, text)


def adopt_renamed_definitions(base: dict[str, Any], target: Mapping[str, Any],
                              renames: Sequence[RenameOp]) -> dict[str, Any]:
    """PostgreSQL rewrites the definitions of dependent objects when a table or column is renamed. For each
    object that depends (per its `deps`) on a renamed table or column, take the target's text of a field when
    substituting the new name into the base's text gives exactly that text; the plan then leaves the object
    alone instead of dropping and creating it. Fields that differ in any other way are left for the plan."""
    target_objects = target.get("objects", {})
    objects: dict[str, Any] = base.get("objects", {})
    for op in renames:
        if op.kind not in _APPLIED_KINDS:
            continue
        dep = str(ObjectKey.table_key(op.schema, op.new) if op.kind == "table" else (
            ObjectKey.column(op.schema, str(op.table), op.new)))
        for key, obj in list(objects.items()):
            goal = target_objects.get(key)
            if not isinstance(goal, Mapping) or dep not in (obj.get("deps") or []) or obj == goal:
                continue
            updated = dict(obj)
            for field, value in obj.items():
                if field in _NAME_FIELDS or not isinstance(value, str) or goal.get(field) == value:
                    continue
                if _substitute(value, op.old, op.new) == goal.get(field):
                    updated[field] = goal[field]
            objects[key] = updated
    return base
