"""One conflict vocabulary in both languages: the kinds and reasons pggit.conflicts accepts (sql/metadata.sql)
are exactly ConflictKind and ConflictReason (pggit_core/conflicts.py), the three-way merge emits every one of
them and nothing else, and the table refuses any other value, also after an upgrade."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest

from pggit_core import install, snapshot
from pggit_core.conflicts import ConflictKind, ConflictReason, ConflictSeverity, MergeConflict

Conn = psycopg.Connection[tuple[Any, ...]]
Doc = dict[str, Any]


def _table(columns: dict[str, str], **fields: Any) -> Doc:
    return {"kind": "table", "schema": "public", "name": "t",
            "columns": {name: {"type": kind} for name, kind in columns.items()}, **fields}


def _docs(objects: dict[str, Doc | None]) -> Doc:
    return {"objects": {key: obj for key, obj in objects.items() if obj is not None}}


def _index(name: str) -> Doc:
    return {"kind": "index", "schema": "public", "name": name, "table": "t",
            "definition": f"CREATE INDEX {name} ON public.t USING btree (a)"}


def _fk(name: str) -> Doc:
    return {"kind": "constraint", "schema": "public", "name": name, "table": "t", "type": "f",
            "definition": "FOREIGN KEY (a) REFERENCES public.u(id)"}


def _view(definition: str) -> Doc:
    return {"kind": "view", "schema": "public", "name": "v", "definition": definition,
            "deps": ["column:public.t.a"]}


def _enum(*values: str) -> Doc:
    return {"kind": "enum", "schema": "public", "name": "e", "values": list(values)}


T = "table:public.t"
# (base, ours, theirs) object maps that make _merge3 emit each reason; ConflictReason lists them all.
SCENARIOS: dict[str, tuple[dict[str, Doc | None], dict[str, Doc | None], dict[str, Doc | None]]] = {
    "table field changed on both sides": (
        {T: _table({"a": "integer"}, comment="base")}, {T: _table({"a": "integer"}, comment="ours")},
        {T: _table({"a": "integer"}, comment="theirs")}),
    "column added on both sides": (
        {T: _table({"a": "integer"})}, {T: _table({"a": "integer", "c": "integer"})},
        {T: _table({"a": "integer", "c": "text"})}),
    "column dropped and changed": (
        {T: _table({"a": "integer", "c": "integer"})}, {T: _table({"a": "integer"})},
        {T: _table({"a": "integer", "c": "bigint"})}),
    "column changed on both sides": (
        {T: _table({"a": "integer"})}, {T: _table({"a": "bigint"})}, {T: _table({"a": "text"})}),
    "different new columns": (
        {T: _table({"a": "integer"})}, {T: _table({"a": "integer", "x": "text"})},
        {T: _table({"a": "integer", "y": "text"})}),
    "enum values in the same place": (
        {"enum:public.e": _enum("a")}, {"enum:public.e": _enum("a", "b")}, {"enum:public.e": _enum("a", "c")}),
    "enum value at two places": (
        {"enum:public.e": _enum("a", "b")}, {"enum:public.e": _enum("a", "x", "b")},
        {"enum:public.e": _enum("a", "b", "x")}),
    "object created on both sides": (
        {}, {"function:public.f()": {"kind": "function", "schema": "public", "name": "f", "definition": "1"}},
        {"function:public.f()": {"kind": "function", "schema": "public", "name": "f", "definition": "2"}}),
    "object dropped and changed": (
        {"sequence:public.s": {"kind": "sequence", "schema": "public", "name": "s", "increment": 1}},
        {"sequence:public.s": None},
        {"sequence:public.s": {"kind": "sequence", "schema": "public", "name": "s", "increment": 2}}),
    "same-column indexes on both sides": (
        {T: _table({"a": "integer"})}, {T: _table({"a": "integer"}), "index:public.i1": _index("i1")},
        {T: _table({"a": "integer"}), "index:public.i2": _index("i2")}),
    "foreign keys on both sides": (
        {T: _table({"a": "integer"})}, {T: _table({"a": "integer"}), "constraint:public.t.fk1": _fk("fk1")},
        {T: _table({"a": "integer"}), "constraint:public.t.fk2": _fk("fk2")}),
    "a dependency removed": (
        {T: _table({"a": "integer", "b": "integer"}), "view:public.v": _view("SELECT a FROM t")},
        {T: _table({"a": "integer", "b": "integer"}), "view:public.v": _view("SELECT a, 1 FROM t")},
        {T: _table({"b": "integer"}), "view:public.v": _view("SELECT a FROM t")}),
    "a dependency changed": (
        {T: _table({"a": "integer"}), "view:public.v": _view("SELECT a FROM t")},
        {T: _table({"a": "integer"}), "view:public.v": _view("SELECT a, 1 FROM t")},
        {T: _table({"a": "bigint"}), "view:public.v": _view("SELECT a FROM t")}),
}


def merge3(conn: Conn, base: Doc, ours: Doc, theirs: Doc) -> list[dict[str, Any]]:
    row = conn.execute("SELECT pggit._merge3(%s::jsonb, %s::jsonb, %s::jsonb) -> 'conflicts'",
                       (json.dumps(base), json.dumps(ours), json.dumps(theirs))).fetchone()
    assert row is not None
    conflicts: list[dict[str, Any]] = row[0]
    return conflicts


def test_the_tables_of_the_vocabulary_are_the_python_enums(conn: Conn) -> None:
    kinds = {str(r[0]) for r in conn.execute("SELECT kind FROM pggit.conflict_kinds").fetchall()}
    reasons = {str(r[0]) for r in conn.execute("SELECT reason FROM pggit.conflict_reasons").fetchall()}
    assert kinds == {k.value for k in ConflictKind}
    assert reasons == {r.value for r in ConflictReason}
    severity = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'pggit.conflicts'::regclass"
        " AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%severity%'").fetchone()
    assert severity is not None
    assert set(re.findall(r"'(\w+)'::text", str(severity[0]))) == {s.value for s in ConflictSeverity}


def test_every_object_kind_has_a_conflict_kind(conn: Conn) -> None:
    for kind in [*sorted(snapshot.KINDS), "column", None]:
        row = conn.execute("SELECT pggit._merge_type_of(%s)", (kind,)).fetchone()
        assert row is not None
        ConflictKind(row[0])  # raises ValueError for a kind the vocabulary lacks


def test_the_merge_emits_every_reason_and_kind_and_nothing_else(conn: Conn) -> None:
    seen_reasons: set[ConflictReason] = set()
    seen_kinds: set[ConflictKind] = set()
    for name, (base, ours, theirs) in SCENARIOS.items():
        found = merge3(conn, _docs(base), _docs(ours), _docs(theirs))
        assert found, f"{name}: no conflict"
        for raw in found:
            conflict = MergeConflict.model_validate({
                **raw, "id": 0, "merge_id": 0, "source_branch": "b", "target_branch": "a",
                "base_def": raw["base"], "ours_def": raw["ours"], "theirs_def": raw["theirs"]})
            assert conflict.reason is not None, name
            seen_reasons.add(conflict.reason)
            seen_kinds.add(conflict.conflict_type)
    assert seen_reasons == set(ConflictReason)
    for kind in sorted(snapshot.KINDS):  # whole-object conflicts take their object's kind
        key = f"{kind}:public.t.o" if kind in snapshot.TABLE_SCOPED else f"{kind}:public.o"
        sides = [{key: {"kind": kind, "schema": "public", "name": "o", "table": "t", "definition": d}}
                 for d in ("base", "ours", "theirs")]
        for raw in merge3(conn, *(_docs(s) for s in sides)):
            seen_kinds.add(ConflictKind(raw["conflict_type"]))
    unreachable = {ConflictKind.OBJECT}  # only an object without a kind: pggit's snapshots always name one
    assert seen_kinds == set(ConflictKind) - unreachable


def test_pggit_conflicts_refuses_an_unknown_kind_or_reason(conn: Conn) -> None:
    row = conn.execute("INSERT INTO pggit.merges (source_branch, target_branch, result)"
                       " VALUES ('b', 'main', 'conflicts') RETURNING id").fetchone()
    assert row is not None
    insert = ("INSERT INTO pggit.conflicts (merge_id, source_branch, target_branch, object_key, object_type,"
              " conflict_type, severity, reason) VALUES (%s, 'b', 'main', 'table:public.t', 'table', %s, 'ERROR', %s)")
    conn.execute(insert, (row[0], "TABLE", "both_modified"))
    conn.execute(insert, (row[0], "TABLE", None))  # rows older than the reason column have none
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="conflict_kinds"):
        conn.execute(insert, (row[0], "MATVIEW", "both_modified"))
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="conflict_reasons"):
        conn.execute(insert, (row[0], "TABLE", "modify_modify"))


def test_an_upgrade_adds_the_checks_and_validates_the_rows_already_there(conn: Conn) -> None:
    row = conn.execute("INSERT INTO pggit.merges (source_branch, target_branch, result)"
                       " VALUES ('b', 'main', 'conflicts') RETURNING id").fetchone()
    assert row is not None
    conn.execute("ALTER TABLE pggit.conflicts DROP CONSTRAINT conflicts_conflict_type_known,"
                 " DROP CONSTRAINT conflicts_reason_known")
    conn.execute("DROP TABLE pggit.conflict_kinds, pggit.conflict_reasons")
    conn.execute("INSERT INTO pggit.conflicts (merge_id, source_branch, target_branch, object_key, object_type,"
                 " conflict_type, severity, reason) VALUES (%s, 'b', 'main', 'view:public.v', 'view', 'VIEW',"
                 " 'WARNING', 'dependency_changed')", (row[0],))
    conn.execute("UPDATE pggit.schema_version SET version = 2")
    assert install.install(conn).changed
    valid = conn.execute("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'pggit.conflicts'::regclass"
                         " AND contype = 'f' AND conname LIKE 'conflicts_%_known' ORDER BY 1").fetchall()
    assert valid == [("conflicts_conflict_type_known", True), ("conflicts_reason_known", True)]
