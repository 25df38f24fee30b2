"""The Snapshot value: parsing, exact round trip, the jsonb-compatible id, comparisons."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from pggit_core.snapshot import ObjectKey, Snapshot, jsonb_text


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
                           "identity": "always", "generated": None, "comment": None},
                    "email": {"type": "text", "collation": None, "default": None, "not_null": True,
                              "identity": None, "generated": None, "comment": "login"},
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
    assert users.kind == "table" and users.schema_ == "public" and users.field("schema") == "public"
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


def test_id_is_sha256_of_jsonb_text() -> None:
    snap = Snapshot.from_doc(_doc())
    assert snap.id == hashlib.sha256(jsonb_text(snap.to_doc()).encode()).hexdigest()
    assert Snapshot.empty().id == hashlib.sha256(b'{"format": 1, "objects": {}}').hexdigest()


def test_jsonb_text_matches_postgres_rules() -> None:
    # keys shorter first, then bytewise; ", " and ": " separators; escapes as PostgreSQL prints them
    assert jsonb_text({"bb": 1, "a": [True, None, "x"], "c": {}}) == '{"a": [true, null, "x"], "c": {}, "bb": 1}'
    assert jsonb_text("a\"b\\c\nd\te\x01é") == '"a\\"b\\\\c\\nd\\te\\u0001é"'


def test_same_schema_ignores_deps_and_column_order() -> None:
    doc = _doc()
    other = _doc()
    other["objects"]["table:public.users"]["column_order"] = ["email", "id"]
    other["objects"]["view:public.v"]["deps"] = []
    a, b = Snapshot.from_doc(doc), Snapshot.from_doc(other)
    assert a != b and a.id != b.id
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


@pytest.mark.parametrize("text", ["users", "table:users", "constraint:public.users", "function:public.f", ":a.b"])
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
