"""Footprints: the objects a set of proposed statements touches, keyed like snapshot objects, with
declared tables unioned in and every mismatch between declared and parsed tables reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pggit_core.errors import InvalidInput
from pggit_core.snapshot import ObjectKey
from pggit_core.statements import DEFAULT_SCHEMA, Action, Kind, Statement, Touch, parse

__all__ = ["DEFAULT_SCHEMA", "DECLARED", "MODIFYING", "DryRunReport", "Footprint", "FootprintObject", "build",
           "from_statements", "table_key"]

# Actions that change an object (everything but a plain reference).
MODIFYING = frozenset({Action.CREATE, Action.ALTER, Action.DROP, Action.RENAME, Action.RETYPE, Action.DATA,
                       Action.UNKNOWN, "declared"})
DECLARED = "declared"

_RELATION_KINDS = {Kind.TABLE, Kind.VIEW, Kind.SEQUENCE}
_TABLE_BOUND = {Kind.COLUMN, Kind.INDEX, Kind.CONSTRAINT, Kind.TRIGGER, Kind.POLICY}


@dataclass(frozen=True, order=True)
class FootprintObject:
    """One object touched, and how. ``key`` follows the snapshot's keys (``column:public.users.email``);
    ``table_key`` (``public.users``) is the relation it belongs to (None for functions, types, schemas);
    ``lock_key`` is what registrations serialize on."""

    key: str
    action: str
    kind: str
    table_key: str | None = None
    columns: tuple[str, ...] = ()
    detail: str = ""
    statement: int = -1

    @property
    def lock_key(self) -> str:
        return self.table_key or self.key

    @property
    def modifying(self) -> bool:
        return self.action in MODIFYING

    @property
    def display(self) -> str:
        """How people read it: ``users``, ``users.email``, ``auth.sessions``, ``process_payment()``."""
        name = self.key.split(":", 1)[1]
        if name.startswith(f"{DEFAULT_SCHEMA}."):
            name = name[len(DEFAULT_SCHEMA) + 1:]
        return f"{name}()" if self.kind == Kind.FUNCTION else name

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "action": self.action, "kind": self.kind, "table_key": self.table_key,
                "columns": list(self.columns), "detail": self.detail, "statement": self.statement}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FootprintObject:
        cols = data.get("columns") or []
        table_key = data.get("table_key")
        statement = data.get("statement", -1)
        return cls(key=str(data["key"]), action=str(data["action"]), kind=str(data["kind"]),
                   table_key=None if table_key is None else str(table_key),
                   columns=tuple(str(c) for c in cols) if isinstance(cols, list) else (),
                   detail=str(data.get("detail") or ""),
                   statement=int(statement) if isinstance(statement, int) else -1)


@dataclass(frozen=True)
class Footprint:
    """Everything a proposed change touches, the tables it modifies, and what the agent should know."""

    objects: tuple[FootprintObject, ...]
    statements: tuple[Statement, ...] = ()
    warnings: tuple[str, ...] = ()
    declared_tables: tuple[str, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        """Relations this change modifies (table keys), sorted."""
        return tuple(sorted({o.table_key for o in self.objects if o.table_key and o.modifying}))

    @property
    def lock_keys(self) -> tuple[str, ...]:
        return tuple(sorted({o.lock_key for o in self.objects}))

    @property
    def unknown(self) -> bool:
        return any(o.action == Action.UNKNOWN for o in self.objects)

    def as_json(self) -> list[dict[str, object]]:
        return [o.as_dict() for o in self.objects]


def table_key(name: str) -> str:
    """``users`` -> ``public.users``; ``auth.users`` stays; surrounding spaces go; quotes are refused."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput("an empty table name was given", hint="pass table names like users or auth.sessions")
    if any(ch in cleaned for ch in "\"'();\n\t ") or cleaned.count(".") > 1:
        raise InvalidInput(f"{name!r} is not a table name", hint="pass table names like users or auth.sessions")
    return cleaned if "." in cleaned else f"{DEFAULT_SCHEMA}.{cleaned}"


def _object(touch: Touch, statement: int) -> FootprintObject:
    schema, kind = touch.schema, str(touch.kind)
    tkey: str | None = None
    if touch.kind in _TABLE_BOUND:
        tkey = ObjectKey.table_key(schema, touch.table).qualified if touch.table else None
        scoped = touch.table if touch.table and touch.kind is not Kind.INDEX else None
        key = ObjectKey(kind, schema, touch.name, table=scoped)
    elif touch.kind in _RELATION_KINDS:
        tkey = ObjectKey.table_key(schema, touch.name).qualified
        key = ObjectKey(kind, schema, touch.name)
    elif touch.kind in {Kind.SCHEMA, Kind.EXTENSION}:
        key = ObjectKey.unqualified(kind, touch.name)
    else:
        key = ObjectKey(kind, schema, touch.name)
    return FootprintObject(key=str(key), action=str(touch.action), kind=kind, table_key=tkey,
                           columns=touch.columns, detail=touch.detail, statement=statement)


def from_statements(statements: Sequence[Statement], tables_affected: Sequence[str] = ()) -> Footprint:
    """The footprint of parsed statements, unioned with the declared tables (mismatches become warnings)."""
    objects = {_object(t, s.index) for s in statements for t in s.touches}
    declared = sorted({table_key(t) for t in tables_affected})
    parsed = {o.table_key for o in objects if o.table_key and o.modifying}
    warnings: list[str] = []
    for key in declared:
        if key not in parsed:
            warnings.append(f"tables_affected lists {key}, but no statement modifies it; it is kept in the "
                            "footprint as declared")
            referenced = any(o.table_key == key for o in objects)
            if not referenced:
                declared_key = ObjectKey.table_key(*key.split(".", 1))
                objects.add(FootprintObject(key=str(declared_key), action=DECLARED, kind=str(Kind.TABLE),
                                            table_key=key, detail="declared in tables_affected"))
    for key in sorted(parsed - set(declared)):
        warnings.append(f"the statements modify {key}, which tables_affected does not list; it is added to the "
                        "footprint")
    for s in statements:
        if s.modelled:
            continue
        unknown = sorted({f"{t.schema}.{t.name}" for t in s.touches if t.action is Action.UNKNOWN})
        if unknown:
            warnings.append(f"statement {s.index + 1} ({s.command}) is not modelled by the parser: treated as "
                            f"UNKNOWN on {', '.join(unknown)}, which conflicts with every other change there")
        elif not s.touches:
            warnings.append(f"statement {s.index + 1} ({s.command}) is not modelled by the parser and names no "
                            "table: it is recorded but cannot conflict with anything")
    return Footprint(tuple(sorted(objects)), tuple(statements), tuple(warnings), tuple(declared))


def build(schema_changes: Sequence[str], tables_affected: Sequence[str] = ()) -> Footprint:
    """Parse ``schema_changes`` (InvalidSQL when one does not parse) and build their footprint."""
    return from_statements(parse(list(schema_changes)), tables_affected)


@dataclass(frozen=True)
class DryRunReport:
    """What PostgreSQL itself reported for a dry run of the statements on the intent's branch."""

    ran: int
    skipped: tuple[int, ...] = ()
    error: str | None = None
    failed_statement: int | None = None
    touched: tuple[str, ...] = field(default=())

    def warnings(self, footprint: Footprint) -> list[str]:
        """Differences between the parsed footprint and what PostgreSQL touched, and failures."""
        out: list[str] = []
        if self.error is not None and self.failed_statement is not None:
            out.append(f"dry run: statement {self.failed_statement + 1} fails against the branch's current schema: "
                       f"{self.error}")
        if self.skipped:
            listed = ", ".join(str(i + 1) for i in self.skipped)
            out.append(f"dry run: statement(s) {listed} not executed (not plain DDL, or after a failure)")
        known = {o.key.split(":", 1)[1] for o in footprint.objects} | {o.table_key for o in footprint.objects
                                                                       if o.table_key}
        # A primary key or unique constraint comes with an index of the same name (schema.name).
        known |= {f"{o.table_key.split('.', 1)[0]}.{o.key.rsplit('.', 1)[1]}" for o in footprint.objects
                  if o.kind == Kind.CONSTRAINT and o.table_key}
        for identity in self.touched:
            if identity not in known:
                out.append(f"dry run: PostgreSQL reports {identity} touched, which the parsed footprint lacks")
        return out
