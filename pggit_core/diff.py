"""Diff rows between two branches or commits: typed Change values from pggit.diff, in apply order."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from pggit_core.snapshot import ChangeKind, Snapshot

__all__ = ["Change", "ChangeKind", "Diff", "diff", "diff_snapshots"]
from pggit_core.store.commits import database_errors


class Change(BaseModel):
    """One statement of the diff and the object it belongs to."""

    model_config = ConfigDict(frozen=True)

    ord: int
    object_key: str
    object_type: str
    object_name: str
    change: ChangeKind
    fields: tuple[str, ...]
    statement: str


class Diff(BaseModel):
    """Everything that turns ``a`` into ``b``: statements in dependency order."""

    model_config = ConfigDict(frozen=True)

    a: str
    b: str
    changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def statements(self) -> list[str]:
        return [c.statement for c in self.changes]

    def objects(self) -> dict[str, ChangeKind]:
        """The objects that differ (not the ones only rebuilt), key -> added/removed/changed."""
        return {c.object_key: c.change for c in self.changes if c.change is not ChangeKind.REBUILT}

    def fields_of(self, key: str) -> tuple[str, ...]:
        """The fields that differ on one object (empty when added, removed or absent)."""
        for change in self.changes:
            if change.object_key == key:
                return change.fields
        return ()

    def sql(self) -> str:
        """The statements as one script."""
        return "".join(f"{s};\n" for s in self.statements)


_DIFF_REFS = ("SELECT ord, object_key, object_type, object_name, change, fields, statement "
              "FROM pggit.diff(%s, %s) ORDER BY ord")
_DIFF_DOCS = ("SELECT ord, object_key, object_type, object_name, change, fields, statement "
              "FROM pggit._diff_docs(%(a)s, %(b)s) ORDER BY ord")
_HASHES = "SELECT pggit.snapshot_hash(%(a)s), pggit.snapshot_hash(%(b)s)"


def diff(conn: psycopg.Connection[Any], a: str, b: str) -> Diff:
    """Diff two refs: branch names or commits written ``@<id>``."""
    with database_errors(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_DIFF_REFS, (a, b)).fetchall()
    return Diff(a=a, b=b, changes=tuple(Change.model_validate(r) for r in rows))


def diff_snapshots(conn: psycopg.Connection[Any], a: Snapshot, b: Snapshot) -> Diff:
    """Diff two snapshot values (the database renders the statements); `a` and `b` are labelled
    `snapshot:<first 12 digits of pggit.snapshot_hash>`."""
    docs = {"a": Jsonb(a.to_doc()), "b": Jsonb(b.to_doc())}
    with database_errors(), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_DIFF_DOCS, docs).fetchall()
        hashes = conn.execute(_HASHES, docs).fetchone()
    assert hashes is not None
    return Diff(a=f"snapshot:{str(hashes[0])[:12]}", b=f"snapshot:{str(hashes[1])[:12]}",
                changes=tuple(Change.model_validate(r) for r in rows))
