"""The snapshot document as an immutable typed value with its identity hash (docs/snapshot-format.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT = 1

Kind = Literal[
    "table", "view", "matview", "sequence", "index", "constraint", "trigger", "policy",
    "function", "procedure", "enum", "domain", "composite",
]


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
