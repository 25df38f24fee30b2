"""The Snapshot value: the typed model of the document, its exact round trip, its JSON Schema, comparisons."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pggit_core import snapshot as snapshot_mod
from pggit_core.snapshot import ObjectKey, Snapshot, TableObject, ViewObject, parse_object
from tests.snapshot_contract import problems

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "snapshot.schema.json"


def _doc() -> dict[str, Any]:
    return {
        "format": 1,
        "objects": {
            "table:public.users": {
                "kind": "table", "schema": "public", "name": "users", "comment": None, "deps": [],
                "grants": ["reader:SELECT"], "persistence": "permanent", "rls_enabled": False,
                "rls_forced": False, "partition_key": None, "partition_of": None, "partition_bound": None,
                "column_order": ["id", "email"],
                "columns": {
                    "id": {"type": "integer", "collation": None, "default": None, "not_null": True,
                           "identity": "always", "generated": None, "comment": None, "grants": [],
                           "identity_options": {"start": "1", "increment": "1", "min": "1",
                                                "max": "2147483647", "cache": "1", "cycle": False}},
                    "email": {"type": "text", "collation": None, "default": None, "not_null": True,
                              "identity": None, "identity_options": None, "generated": None,
                              "comment": "login", "grants": ["reader:UPDATE"]},
                },
            },
            "index:public.users_email_idx": {
                "kind": "index", "schema": "public", "name": "users_email_idx", "table": "users", "comment": None,
                "definition": "CREATE INDEX users_email_idx ON users USING btree (email)",
                "deps": ["column:public.users.email", "table:public.users"],
            },
            "view:public.v": {
                "kind": "view", "schema": "public", "name": "v", "comment": None, "deps": ["table:public.users"],
                "definition": " SELECT users.id\n   FROM users;", "columns": [{"name": "id", "type": "integer"}],
                "options": [], "grants": [],
            },
        },
    }


def test_round_trip_is_exact() -> None:
    doc = _doc()
    snap = Snapshot.from_doc(doc)
    assert snap.to_doc() == doc
    assert Snapshot.from_doc(snap.to_doc()) == snap


def test_typed_access() -> None:
    snap = Snapshot.from_doc(_doc())
    users = snap.objects["table:public.users"]
    assert isinstance(users, TableObject) and isinstance(snap.objects["view:public.v"], ViewObject)
    assert users.kind == "table" and users.schema_ == "public" and users.field("schema") == "public"
    assert users.columns["id"].identity_options is not None and users.columns["id"].identity_options.cache == "1"
    assert users.field("definition") is None
    assert users.table_columns()["id"].identity == "always"
    assert users.table_columns()["email"].comment == "login"
    assert users.field("persistence") == "permanent"
    assert snap.objects["view:public.v"].table_columns() == {}
    assert snap.keys_of("index") == ["index:public.users_email_idx"]


def test_frozen() -> None:
    snap = Snapshot.from_doc(_doc())
    with pytest.raises(ValidationError):
        snap.objects["table:public.users"].name = "other"  # type: ignore[misc]


def test_unknown_kind_is_refused() -> None:
    doc = _doc()
    doc["objects"]["rule:public.r"] = {"kind": "rule", "schema": "public", "name": "r"}
    with pytest.raises(ValidationError):
        Snapshot.from_doc(doc)
    assert any("rule:public.r" in p and "kind" in p for p in problems(doc))


def _broken(path: tuple[str, ...], value: Any = None, *, drop: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(_doc())
    here: Any = doc
    for step in path[:-1]:
        here = here[step]
    if drop:
        del here[path[-1]]
    else:
        here[path[-1]] = value
    return doc


@pytest.mark.parametrize(("path", "value", "drop", "named"), [
    (("objects", "table:public.users", "tablespace"), "fast", False, "tablespace"),
    (("objects", "table:public.users", "columns", "id", "storage"), "plain", False, "columns.id"),
    (("objects", "index:public.users_email_idx", "definition"), None, True, "definition"),
    (("objects", "view:public.v", "columns"), "id", False, "columns"),
    (("objects", "table:public.users", "persistence"), "temporary", False, "persistence"),
])
def test_a_field_outside_the_contract_fails_naming_key_and_field(path: tuple[str, ...], value: Any, drop: bool,
                                                                 named: str) -> None:
    doc = _broken(path, value, drop=drop)
    with pytest.raises(ValidationError):
        Snapshot.from_doc(doc)
    found = problems(doc)
    assert found and all(path[1] in p for p in found) and any(named in p for p in found), found


def test_a_key_must_be_its_objects_own() -> None:
    doc = _doc()
    doc["objects"]["table:public.people"] = doc["objects"].pop("table:public.users")
    with pytest.raises(ValidationError, match="table:public.users"):
        Snapshot.from_doc(doc)
    assert any("table:public.people" in p for p in problems(doc))


def test_checked_in_json_schema_is_the_generated_one() -> None:
    """docs/snapshot.schema.json is regenerated with `python -m pggit_core.snapshot --schema --output ...`."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == snapshot_mod.schema_text()
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")


def test_the_schema_accepts_the_document_and_the_model_reads_each_kind() -> None:
    assert problems(_doc()) == []
    assert problems(Snapshot.empty().to_doc()) == []
    assert type(parse_object(_doc()["objects"]["view:public.v"])) is ViewObject


def test_same_schema_ignores_deps_and_column_order() -> None:
    doc = _doc()
    other = _doc()
    other["objects"]["table:public.users"]["column_order"] = ["email", "id"]
    other["objects"]["view:public.v"]["deps"] = []
    a, b = Snapshot.from_doc(doc), Snapshot.from_doc(other)
    assert a != b
    assert a.same_schema(b)
    other["objects"]["table:public.users"]["columns"]["email"]["not_null"] = False
    assert not a.same_schema(Snapshot.from_doc(other))


@pytest.mark.parametrize("text, expected", [
    ("table:public.users", ObjectKey("table", "public", "users")),
    ("index:public.users_email_idx", ObjectKey("index", "public", "users_email_idx")),
    ("constraint:public.users.users_pkey", ObjectKey("constraint", "public", "users_pkey", table="users")),
    ("column:app.orders.total", ObjectKey("column", "app", "total", table="orders")),
    ("function:public.f(integer, text)", ObjectKey("function", "public", "f", arguments="integer, text")),
    ("procedure:public.p()", ObjectKey("procedure", "public", "p", arguments="")),
])
def test_object_keys_round_trip(text: str, expected: ObjectKey) -> None:
    assert ObjectKey.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text, expected", [
    ("function:public.f", ObjectKey.routine("function", "public", "f", None)),
    ("trigger:public.t", ObjectKey("trigger", "public", "t")),
    ("schema:app", ObjectKey.unqualified("schema", "app")),
    ("extension:citext", ObjectKey("extension", "citext", "citext")),
])
def test_footprint_keys_round_trip(text: str, expected: ObjectKey) -> None:
    assert ObjectKey.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["users", "table:users", "function:public.f(integer", "function:public.(x)",
                                  ":a.b", "schema:", "constraint:public..x"])
def test_malformed_object_keys_are_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        ObjectKey.parse(text)


def test_object_key_of_an_object_and_its_table() -> None:
    key = ObjectKey.of({"kind": "trigger", "schema": "public", "name": "t", "table": "users"})
    assert str(key) == "trigger:public.users.t"
    assert key.table_of == ObjectKey.table_key("public", "users")
    assert str(ObjectKey.column("public", "users", "email")) == "column:public.users.email"
    with pytest.raises(ValueError, match="argument types"):
        ObjectKey.of({"kind": "function", "schema": "public", "name": "f"})
