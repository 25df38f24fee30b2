"""The snapshot document as immutable typed values: one model per object kind, the keys, the JSON Schema.

The document is what `pggit.snapshot(branch)` (sql/snapshot.sql) returns, described field by field in
docs/snapshot-format.md. These models are its contract: every field is typed and required, and a field the SQL
emits that a model does not know is refused (`extra="forbid"`). docs/snapshot.schema.json is generated from them
(`python -m pggit_core.snapshot --schema`); the test suite validates every document PostgreSQL produces against
it. The document's identity hash is `pggit.snapshot_hash(doc)`, computed by the database only."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

FORMAT: Literal[1] = 1

Kind = Literal[
    "table", "view", "matview", "sequence", "index", "constraint", "trigger", "policy",
    "function", "procedure", "enum", "domain", "composite",
]

KINDS: frozenset[str] = frozenset(get_args(Kind))
# Kinds whose keys name their table: `constraint:public.users.users_pkey`. `column` keys appear in `deps` only.
TABLE_SCOPED: frozenset[str] = frozenset({"constraint", "trigger", "policy", "column"})
ROUTINES: frozenset[str] = frozenset({"function", "procedure"})
# Kinds that are no document object but that footprints name (`schema:app`, `extension:citext`): no schema part.
UNQUALIFIED: frozenset[str] = frozenset({"schema", "extension"})


@dataclass(frozen=True, order=True)
class ObjectKey:
    """The branch-relative identity of an object, as the snapshot document spells it (`sql/snapshot.sql`):
    `<kind>:<schema>.<name>`, `<kind>:<schema>.<table>.<name>` for constraints, triggers, policies and the
    `column:` keys of `deps`, `<kind>:<schema>.<name>(<identity arguments>)` for routines.

    Footprints (statements parsed before they run) name objects the same way, and also a routine without its
    argument types (`function:public.f`), a table-scoped object whose table the statement does not name
    (`trigger:public.t`) and unqualified objects (`schema:app`, `extension:citext`; schema = name).
    `parse(str(key)) == key` for every key built with the constructors.

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
        if not colon or not kind or not rest:
            raise ValueError(f"{text!r} is not an object key: expected <kind>:<schema>.<name>")
        if kind in UNQUALIFIED:
            return cls(kind, rest, rest)
        schema, dot, tail = rest.partition(".")
        if not dot or not schema or not tail:
            raise ValueError(f"{text!r} is not an object key: expected <kind>:<schema>.<name>")
        if kind in ROUTINES:
            open_at = tail.find("(")
            if open_at < 0 and not tail.endswith(")"):
                return cls(kind, schema, tail)
            if open_at <= 0 or not tail.endswith(")"):
                raise ValueError(f"{text!r} is not a {kind} key: expected {kind}:<schema>.<name>(<arguments>)")
            return cls(kind, schema, tail[:open_at], arguments=tail[open_at + 1:-1])
        if kind in TABLE_SCOPED:
            table, dot, name = tail.partition(".")
            if not dot:
                return cls(kind, schema, tail)
            if not table or not name:
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
    def routine(cls, kind: str, schema: str, name: str, arguments: str | None) -> ObjectKey:
        """A function's or procedure's key; `arguments` None when they are not known (footprints)."""
        if kind not in ROUTINES:
            raise ValueError(f"{kind} is not a routine kind")
        return cls(kind, schema, name, arguments=arguments)

    @classmethod
    def unqualified(cls, kind: str, name: str) -> ObjectKey:
        """The key of a schema or an extension (`schema:app`)."""
        if kind not in UNQUALIFIED:
            raise ValueError(f"{kind} objects live in a schema: build their key with a schema")
        return cls(kind, name, name)

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

    @property
    def qualified(self) -> str:
        """The key without its kind: `public.users`, `public.users.email`, `public.f(integer)`, `app`."""
        return str(self).partition(":")[2]

    def __str__(self) -> str:
        if self.kind in UNQUALIFIED:
            return f"{self.kind}:{self.name}"
        if self.arguments is not None:
            return f"{self.kind}:{self.schema}.{self.name}({self.arguments})"
        if self.table is not None:
            return f"{self.kind}:{self.schema}.{self.table}.{self.name}"
        return f"{self.kind}:{self.schema}.{self.name}"


# --------------------------------------------------------------------------------------------- parts of objects


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IdentityOptions(_Part):
    """The sequence options of an identity column (numbers as text)."""

    start: str
    increment: str
    min: str
    max: str
    cache: str
    cycle: bool


class Column(_Part):
    """One column of a table (keyed by name in `TableObject.columns`)."""

    type: str = Field(description="format_type text")
    collation: str | None = Field(description="only when not the type's default")
    default: str | None
    generated: str | None = Field(description="the expression of a STORED generated column")
    not_null: bool
    identity: Literal["always", "by default"] | None
    identity_options: IdentityOptions | None
    grants: tuple[str, ...] = Field(description="column privileges, sorted `grantee:PRIVILEGE[*]`")
    comment: str | None


class ViewColumn(_Part):
    """One output column of a view or materialized view."""

    name: str
    type: str


class Attribute(_Part):
    """One attribute of a composite type."""

    name: str
    type: str
    collation: str | None


# --------------------------------------------------------------------------------------------- objects


class SchemaObject(BaseModel):
    """One object of a snapshot: the fields every kind has. Each kind is a subclass with its own fields
    (`parse_object` picks it by `kind`); `field(name)` reads any field by its document name."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    kind: Kind
    schema_: str = Field(alias="schema", description="the tracked schema (never the physical one)")
    name: str
    comment: str | None
    deps: tuple[str, ...] = Field(description="sorted keys this object depends on (may name `column:` keys)")

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SchemaObject:
        """The typed object of a document object (its kind's model)."""
        return parse_object(doc)

    def field(self, name: str) -> Any:
        """Any field by its document name (None for a field this kind does not have)."""
        if name == "schema":
            return self.schema_
        if name in type(self).model_fields:
            return getattr(self, name)
        return None

    def table_columns(self) -> dict[str, Column]:
        """A table's columns keyed by name (empty for other kinds; views list theirs in `columns`)."""
        return {}

    def comparable(self) -> dict[str, Any]:
        """The document form without the fields that are not compared (`deps`, `column_order`)."""
        doc = self.to_doc()
        doc.pop("deps", None)
        doc.pop("column_order", None)
        return doc

    def to_doc(self) -> dict[str, Any]:
        """The object exactly as in the jsonb document."""
        return self.model_dump(by_alias=True, mode="json")


class _Granted(SchemaObject):
    grants: tuple[str, ...] = Field(description="sorted `grantee:PRIVILEGE[*]`, the owner's own left out")


class _OnTable(SchemaObject):
    table: str = Field(description="the table's name (in the same tracked schema)")


class TableObject(_Granted):
    """A table, a partitioned table or a partition."""

    kind: Literal["table"]
    columns: dict[str, Column]
    column_order: tuple[str, ...] = Field(description="column names by position (not part of equality)")
    persistence: Literal["permanent", "unlogged"]
    rls_enabled: bool
    rls_forced: bool
    partition_key: str | None = Field(description="pg_get_partkeydef, e.g. `RANGE (created_at)`")
    partition_of: str | None = Field(description="the parent table's name")
    partition_bound: str | None = Field(description="e.g. `FOR VALUES FROM (...) TO (...)` or `DEFAULT`")

    def table_columns(self) -> dict[str, Column]:
        return dict(self.columns)


class ViewObject(_Granted):
    """A view or a materialized view."""

    kind: Literal["view", "matview"]
    definition: str = Field(description="pg_get_viewdef(oid, true)")
    columns: tuple[ViewColumn, ...]
    options: tuple[str, ...] = Field(description="sorted reloptions, e.g. `security_barrier=true`")


class SequenceObject(_Granted):
    """A sequence (not an identity column's: those are the column's `identity_options`)."""

    kind: Literal["sequence"]
    type: str
    start: str
    increment: str
    min: str
    max: str
    cache: str
    cycle: bool
    owned_by: str | None = Field(description="`table.column` or null")


class CompositeObject(_Granted):
    """A composite type."""

    kind: Literal["composite"]
    attributes: tuple[Attribute, ...]


class EnumObject(_Granted):
    """An enum type; the order of `values` is part of equality."""

    kind: Literal["enum"]
    values: tuple[str, ...]


class DomainObject(_Granted):
    """A domain."""

    kind: Literal["domain"]
    type: str
    collation: str | None
    default: str | None
    not_null: bool
    checks: dict[str, str] = Field(description="constraint name -> pg_get_constraintdef")


class RoutineObject(_Granted):
    """A function or a procedure (its key holds the input argument types: `function:public.f(integer)`)."""

    kind: Literal["function", "procedure"]
    args: str = Field(description="pg_get_function_arguments: names, modes, defaults")
    identity_args: str = Field(description="pg_get_function_identity_arguments, for DROP and COMMENT")
    result: str | None = Field(description="pg_get_function_result; null for procedures")
    language: str
    body: str
    body_kind: Literal["source", "sql"]
    volatility: Literal["i", "s", "v"]
    strict: bool
    security_definer: bool
    leakproof: bool
    parallel: Literal["s", "r", "u"]
    cost: str
    rows: str
    config: tuple[str, ...] = Field(description="sorted proconfig, e.g. `search_path=public`")


class ConstraintObject(_OnTable):
    """A table constraint (NOT NULL is a column flag)."""

    kind: Literal["constraint"]
    type: Literal["p", "u", "c", "f", "x"]
    definition: str = Field(description="pg_get_constraintdef(oid, true)")


class IndexObject(_OnTable):
    """An index that backs no constraint (indexes are schema-scoped: `index:public.users_email_idx`)."""

    kind: Literal["index"]
    definition: str = Field(description="pg_get_indexdef(oid, 0, true)")


class TriggerObject(_OnTable):
    """A trigger (internal ones are not recorded)."""

    kind: Literal["trigger"]
    definition: str = Field(description="pg_get_triggerdef(oid, true)")
    enabled: Literal["O", "D", "R", "A"]


class PolicyObject(_OnTable):
    """A row-level security policy."""

    kind: Literal["policy"]
    command: Literal["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"]
    permissive: bool
    roles: tuple[str, ...] = Field(description="sorted role names, `PUBLIC` for public")
    using: str | None
    with_check: str | None


AnyObject = Annotated[
    TableObject | ViewObject | SequenceObject | CompositeObject | EnumObject | DomainObject | RoutineObject
    | ConstraintObject | IndexObject | TriggerObject | PolicyObject,
    Field(discriminator="kind"),
]
_OBJECT: TypeAdapter[AnyObject] = TypeAdapter(AnyObject)


def parse_object(doc: Mapping[str, Any]) -> SchemaObject:
    """The typed object of one document object, by its `kind` (pydantic's ValidationError otherwise)."""
    return _OBJECT.validate_python(doc)


# --------------------------------------------------------------------------------------------- the document


class Snapshot(BaseModel):
    """A branch's schema at one moment: objects keyed by branch-relative keys (`table:public.users`).
    Each key is its object's own (`ObjectKey.of`; routines: kind, schema and name, then the arguments)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal[1]
    objects: Mapping[str, AnyObject]

    @model_validator(mode="after")
    def _keys_are_the_objects_own(self) -> Snapshot:
        for text, obj in self.objects.items():
            if obj.kind in ROUTINES:
                own = ObjectKey.parse(text)
                if (own.kind, own.schema, own.name) != (obj.kind, obj.schema_, obj.name) or own.arguments is None:
                    raise ValueError(f"object {text!r} is {obj.kind} {obj.schema_}.{obj.name}: its key must be "
                                     f"{obj.kind}:{obj.schema_}.{obj.name}(<argument types>)")
            elif str(ObjectKey.of(obj)) != text:
                raise ValueError(f"object {text!r} has the key {ObjectKey.of(obj)} by its own fields")
        return self

    @classmethod
    def empty(cls) -> Snapshot:
        """A schema with no objects."""
        return cls(format=FORMAT, objects={})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Snapshot:
        """Parse a document as returned by `pggit.snapshot()`."""
        return cls.model_validate(doc)

    def to_doc(self) -> dict[str, Any]:
        """The document as `pggit.snapshot()` returns it (round-trips exactly)."""
        return {"format": self.format, "objects": {k: o.to_doc() for k, o in sorted(self.objects.items())}}

    def items(self) -> Iterator[tuple[ObjectKey, SchemaObject]]:
        """The objects with their typed keys, in key order."""
        for text, obj in sorted(self.objects.items()):
            yield ObjectKey.parse(text), obj

    def get(self, key: ObjectKey | str) -> SchemaObject | None:
        """The object of a key, or None."""
        return self.objects.get(str(key))

    def keys_of(self, kind: Kind) -> list[str]:
        """Sorted keys of the objects of one kind."""
        return sorted(k for k, o in self.objects.items() if o.kind == kind)

    def same_schema(self, other: Snapshot) -> bool:
        """Equal up to what is not compared (dependencies, column order)."""
        if self.objects.keys() != other.objects.keys():
            return False
        return all(o.comparable() == other.objects[k].comparable() for k, o in self.objects.items())


# --------------------------------------------------------------------------------------------- JSON Schema

def json_schema() -> dict[str, Any]:
    """The JSON Schema of the document (draft 2020-12), as checked in at docs/snapshot.schema.json."""
    schema = Snapshot.model_json_schema(by_alias=True, mode="validation")
    rest = {k: v for k, v in schema.items() if k != "title"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "pggit snapshot document (format 1)", **rest}


def schema_text() -> str:
    """`json_schema()` as the checked-in file spells it."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class ChangeKind(StrEnum):
    """What happened to an object between two snapshots (``rebuilt``: unchanged, dropped and created again): the
    vocabulary of pggit.diff and of migration plans (pggit._plan)."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    REBUILT = "rebuilt"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m pggit_core.snapshot --schema [--output FILE]`: print or write the JSON Schema."""
    parser = argparse.ArgumentParser(prog="python -m pggit_core.snapshot", description=main.__doc__)
    parser.add_argument("--schema", action="store_true", required=True, help="emit the document's JSON Schema")
    parser.add_argument("--output", help="write it to this file (docs/snapshot.schema.json) instead of stdout")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
