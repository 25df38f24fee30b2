"""pggit._merge3: the three-way decision on documents, case by case (the merge tests run it end to end)."""

from __future__ import annotations

from typing import Any

from tests.db.engine.helpers import Conn, col, one, table

USERS = "table:public.users"


def merge3(conn: Conn, base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = one(conn, "SELECT pggit._merge3(%s, %s, %s)", {"objects": base}, {"objects": ours},
                              {"objects": theirs})
    return out


def test_one_side_changes_are_taken(conn: Conn) -> None:
    base = {USERS: table(id=col("integer"))}
    fn = {"kind": "function", "schema": "public", "name": "f", "body": "1"}
    out = merge3(conn, base, {**base, "function:public.f()": fn}, {USERS: table(id=col("bigint"))})
    assert out["conflicts"] == []
    assert out["merged"]["objects"] == {USERS: table(id=col("bigint")), "function:public.f()": fn}
    assert out["changes"] == [{"key": USERS, "change": "changed"}]


def test_same_change_on_both_sides_is_no_conflict(conn: Conn) -> None:
    base = {USERS: table(id=col("integer"))}
    both = {USERS: table(id=col("bigint"))}
    out = merge3(conn, base, both, both)
    assert out["conflicts"] == [] and out["changes"] == []


def test_both_changed_a_column_differently(conn: Conn) -> None:
    base = {USERS: table(id=col("integer"))}
    out = merge3(conn, base, {USERS: table(id=col("bigint"))}, {USERS: table(id=col("numeric"))})
    [c] = out["conflicts"]
    assert (c["object_key"], c["conflict_type"], c["reason"], c["severity"]) == \
        ("table:public.users.id", "COLUMN", "both_modified", "ERROR")
    assert c["paths"] == [{"key": USERS, "column": "id"}]
    assert out["merged"]["objects"][USERS]["columns"]["id"] == col("bigint")  # ours' value at the conflict


def test_columns_added_on_both_sides_are_kept(conn: Conn) -> None:
    base = {USERS: table(id=col("integer"))}
    ours = {USERS: table(id=col("integer"), a=col("text"))}
    theirs = {USERS: table(id=col("integer"), b=col("jsonb"))}
    out = merge3(conn, base, ours, theirs)
    [c] = out["conflicts"]
    assert (c["reason"], c["severity"], c["auto_resolvable"]) == ("both_added_columns", "WARNING", True)
    merged = out["merged"]["objects"][USERS]
    assert set(merged["columns"]) == {"id", "a", "b"} and merged["column_order"] == ["id", "a", "b"]


def test_foreign_keys_added_on_both_sides_on_one_table(conn: Conn) -> None:
    base = {USERS: table(id=col("integer"), org=col("integer"))}

    def fk(name: str) -> dict[str, Any]:
        return {"kind": "constraint", "schema": "public", "table": "users", "name": name, "type": "f",
                "definition": f"FOREIGN KEY (org) REFERENCES {name}(id)"}
    out = merge3(conn, base, {**base, "constraint:public.users.a": fk("a")},
                 {**base, "constraint:public.users.b": fk("b")})
    [c] = out["conflicts"]
    assert (c["reason"], c["severity"], c["auto_resolvable"]) == ("both_added_fk", "WARNING", False)
    # not auto-resolvable: the merged document keeps ours' side at both paths (theirs' key absent)
    assert "constraint:public.users.b" not in out["merged"]["objects"]


def test_modify_delete(conn: Conn) -> None:
    base = {USERS: table(id=col("integer"))}
    out = merge3(conn, base, {}, {USERS: table(id=col("bigint"))})
    [c] = out["conflicts"]
    assert (c["reason"], c["conflict_type"]) == ("modify_delete", "TABLE")
    assert out["merged"]["objects"] == {}
