"""The snapshot document as an immutable typed value with its identity hash (docs/snapshot-format.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

FORMAT = 1

Kind = Literal[
    "table", "view", "matview", "sequence", "index", "constraint", "trigger", "policy",
    "function", "procedure", "enum", "domain", "composite",
]

KINDS: frozenset[str] = frozenset(get_args(Kind))
# Kinds whose keys name their table: `constraint:public.users.users_pkey`. `column` keys appear in `deps` only.
TABLE_SCOPED: frozenset[str] = frozenset({"constraint", "trigger", "policy", "column"})
ROUTINES: frozenset[str] = frozenset({"function", "procedure"})


@dataclass(frozen=True, order=True)
class ObjectKey:
    """The branch-relative identity of an object, as the snapshot document spells it (`sql/snapshot.sql`):
    `<kind>:<schema>.<name>`, `<kind>:<schema>.<table>.<name>` for constraints, triggers, policies and the
    `column:` keys of `deps`, `<kind>:<schema>.<name>(<identity arguments>)` for routines.

    The one place keys are built and read in Python; build them with the constructors, never with f-strings.
    Parsing splits at the first dots, so a key whose schema or table name holds a dot is built from its object
    (`ObjectKey.of`) rather than parsed; a routine's key is the document's own (its argument types are in no
    field of the object)."""

    kind: str
    schema: str
    name: str
    table: str | None = None
    arguments: str | None = None

    @classmethod
    def parse(cls, text: str) -> ObjectKey:
        """Read a key; `ValueError` names what is wrong with a malformed one."""
        kind, colon, rest = text.partition(":")
        schema, dot, tail = rest.partition(".")
        if not colon or not kind or not dot or not schema or not tail:
            raise ValueError(f"{text!r} is not an object key: expected <kind>:<schema>.<name>")
        if kind in ROUTINES:
            open_at = tail.find("(")
            if open_at <= 0 or not tail.endswith(")"):
                raise ValueError(f"{text!r} is not a {kind} key: expected {kind}:<schema>.<name>(<arguments>)")
            return cls(kind, schema, tail[:open_at], arguments=tail[open_at + 1:-1])
        if kind in TABLE_SCOPED:
            table, dot, name = tail.partition(".")
            if not dot or not table or not name:
                raise ValueError(f"{text!r} is not a {kind} key: expected {kind}:<schema>.<table>.<name>")
            return cls(kind, schema, name, table=table)
        return cls(kind, schema, tail)

    @classmethod
    def table_key(cls, schema: str, table: str) -> ObjectKey:
        """The key of a table."""
        return cls("table", schema, table)

    @classmethod
    def column(cls, schema: str, table: str, column: str) -> ObjectKey:
        """A column's key as `deps` spell it (`column:public.users.email`)."""
        return cls("column", schema, column, table=table)

    @classmethod
    def of(cls, obj: SchemaObject | Mapping[str, Any]) -> ObjectKey:
        """The key of a document object, from its own fields."""
        doc = obj.to_doc() if isinstance(obj, SchemaObject) else obj
        kind, schema, name = str(doc["kind"]), str(doc["schema"]), str(doc["name"])
        if kind in ROUTINES:
            raise ValueError(f"the key of {kind} {schema}.{name} holds its argument types, which no field of the "
                             f"object has: parse the document's key instead")
        if kind in TABLE_SCOPED:
            return cls(kind, schema, name, table=str(doc["table"]))
        return cls(kind, schema, name)

    @property
    def table_of(self) -> ObjectKey | None:
        """The key of the table a table-scoped key (constraint, trigger, policy, column) belongs to."""
        return ObjectKey.table_key(self.schema, self.table) if self.table is not None else None

    def with_schema(self, schema: str) -> ObjectKey:
        """The same object in another (tracked) schema."""
        return ObjectKey(self.kind, schema, self.name, self.table, self.arguments)

    def __str__(self) -> str:
        if self.arguments is not None:
            return f"{self.kind}:{self.schema}.{self.name}({self.arguments})"
        if self.table is not None:
            return f"{self.kind}:{self.schema}.{self.table}.{self.name}"
        return f"{self.kind}:{self.schema}.{self.name}"


class Column(BaseModel):
    """One column of a table object (keyed by name in ``SchemaObject.columns``)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    collation: str | None = None
    default: str | None = None
    not_null: bool = False
    identity: Literal["always", "by default"] | None = None
    generated: str | None = None
    comment: str | None = None


class SchemaObject(BaseModel):
    """One object of a snapshot: the common fields typed, the kind's own fields kept as extras."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    kind: Kind
    schema_: str = Field(alias="schema")
    name: str
    comment: str | None = None
    deps: tuple[str, ...] = ()
    grants: tuple[str, ...] | None = None
    table: str | None = None
    definition: str | None = None
    column_order: tuple[str, ...] | None = None

    def field(self, name: str) -> Any:
        """Any field by its document name (typed ones and the kind's extras alike)."""
        if name == "schema":
            return self.schema_
        if name in type(self).model_fields:
            return getattr(self, name)
        return (self.model_extra or {}).get(name)

    def table_columns(self) -> dict[str, Column]:
        """A table's columns keyed by name (empty for other kinds; views list theirs in ``field('columns')``)."""
        raw = self.field("columns")
        if self.kind != "table" or not isinstance(raw, dict):
            return {}
        return {name: Column.model_validate(col) for name, col in raw.items()}

    def comparable(self) -> dict[str, Any]:
        """The document form without the fields that are not compared (``deps``, ``column_order``)."""
        doc = self.to_doc()
        doc.pop("deps", None)
        doc.pop("column_order", None)
        return doc

    def to_doc(self) -> dict[str, Any]:
        """The object exactly as in the jsonb document."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class Snapshot(BaseModel):
    """A branch's schema at one moment: objects keyed by branch-relative keys (``table:public.users``)."""

    model_config = ConfigDict(frozen=True)

    format: int = FORMAT
    objects: Mapping[str, SchemaObject] = Field(default_factory=dict)

    @classmethod
    def empty(cls) -> Snapshot:
        """A schema with no objects."""
        return cls(format=FORMAT, objects={})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Snapshot:
        """Parse a document as returned by ``pggit.snapshot()``."""
        return cls.model_validate(doc)

    def to_doc(self) -> dict[str, Any]:
        """The document as ``pggit.snapshot()`` returns it (round-trips exactly)."""
        return {"format": self.format, "objects": {k: o.to_doc() for k, o in sorted(self.objects.items())}}

    @property
    def id(self) -> str:
        """sha256 of the document's jsonb text: the same value as ``pggit.snapshot_hash(doc)``."""
        return hashlib.sha256(jsonb_text(self.to_doc()).encode("utf-8")).hexdigest()

    def keys_of(self, kind: Kind) -> list[str]:
        """Sorted keys of the objects of one kind."""
        return sorted(k for k, o in self.objects.items() if o.kind == kind)

    def same_schema(self, other: Snapshot) -> bool:
        """Equal up to what is not compared (dependencies, column order)."""
        if self.objects.keys() != other.objects.keys():
            return False
        return all(o.comparable() == other.objects[k].comparable() for k, o in self.objects.items())


def _jsonb_key(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8")
    return (len(encoded), encoded)


def _jsonb_string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jsonb_text(value: Any) -> str:
    """PostgreSQL's ``jsonb::text`` of a JSON value: keys by (byte length, bytes), ``", "`` and ``": "``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _jsonb_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: _jsonb_key(str(kv[0])))
        return "{" + ", ".join(f"{_jsonb_string(str(k))}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


class ChangeKind(StrEnum):
    """What happened to an object between two snapshots (``rebuilt``: unchanged, dropped and created again): the
    vocabulary of pggit.diff and of migration plans (pggit._plan)."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    REBUILT = "rebuilt"
