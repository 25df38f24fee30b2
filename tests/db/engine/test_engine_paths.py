"""pggit._path_get / _path_set / _path_take / _dep_path / _path_dropped: the one way into a document's places."""

from __future__ import annotations

from tests.db.engine.helpers import Conn, col, one, table

USERS = table(id=col("integer"), email=col("text"))
D = {"format": 1, "objects": {"table:public.users": USERS}}
KEY = {"key": "table:public.users"}


def test_path_get_reads_objects_columns_and_fields(conn: Conn) -> None:
    assert one(conn, "SELECT pggit._path_get(%s, %s)", D, KEY) == USERS
    assert one(conn, "SELECT pggit._path_get(%s, %s)", D, {**KEY, "column": "email"}) == col("text")
    assert one(conn, "SELECT pggit._path_get(%s, %s)", D, {**KEY, "field": "comment"}) is None  # JSON null
    assert one(conn, "SELECT pggit._path_get(%s, %s) IS NULL", D, {**KEY, "column": "nope"}) is True
    assert one(conn, "SELECT pggit._path_get(%s, %s) IS NULL", D, {"key": "table:public.nope"}) is True
    assert one(conn, "SELECT pggit._path_get(%s, %s) IS NULL", D, {"key": "table:public.nope", "column": "a"}) is True


def test_path_set_writes_and_removes(conn: Conn) -> None:
    out = one(conn, "SELECT pggit._path_set(%s, %s, %s)", D, {**KEY, "column": "age"}, col("integer"))
    assert out["objects"]["table:public.users"]["columns"]["age"] == col("integer")
    out = one(conn, "SELECT pggit._path_set(%s, %s, NULL)", D, {**KEY, "column": "email"})
    assert "email" not in out["objects"]["table:public.users"]["columns"]
    out = one(conn, "SELECT pggit._path_set(%s, %s, to_jsonb(%s::text))", D, {**KEY, "field": "comment"}, "people")
    assert out["objects"]["table:public.users"]["comment"] == "people"
    out = one(conn, "SELECT pggit._path_set(%s, %s, NULL)", D, KEY)
    assert out["objects"] == {}
    # a column of an absent table stays absent; an empty document gets its objects map
    out = one(conn, "SELECT pggit._path_set(%s, %s, %s)", D, {"key": "table:public.nope", "column": "a"}, col("text"))
    assert out == D
    assert one(conn, "SELECT pggit._path_set('{}', %s, %s)", KEY, USERS) == {"objects": {"table:public.users": USERS}}


def test_path_take_copies_a_side_at_every_path(conn: Conn) -> None:
    side = {"objects": {"table:public.users": table(id=col("bigint"), email=col("text")),
                        "index:public.i": {"kind": "index", "schema": "public", "name": "i", "table": "users"}}}
    paths = [{**KEY, "column": "id"}, {"key": "index:public.i"}, {**KEY, "column": "email"}]
    out = one(conn, "SELECT pggit._path_take(%s, %s, %s)", D, side, paths)
    assert out["objects"]["table:public.users"]["columns"]["id"] == col("bigint")
    assert out["objects"]["index:public.i"] == side["objects"]["index:public.i"]
    # each path gives what _path_set of the side's value gives
    expected = D
    for p in paths:
        expected = one(conn, "SELECT pggit._path_set(%s, %s, pggit._path_get(%s, %s))", expected, p, side, p)
    assert out == expected
    assert one(conn, "SELECT pggit._path_take(%s, %s, '[]')", D, side) == D


def test_dep_path_and_path_dropped(conn: Conn) -> None:
    assert one(conn, "SELECT pggit._dep_path('column:public.users.email')") == {**KEY, "column": "email"}
    assert one(conn, "SELECT pggit._dep_path('table:public.users')") == KEY
    without_email = {"objects": {"table:public.users": table(id=col("integer"))}}
    email = {**KEY, "column": "email"}
    assert one(conn, "SELECT pggit._path_dropped(%s, %s, %s, %s)", email, D, without_email, D) is True
    assert one(conn, "SELECT pggit._path_dropped(%s, %s, %s, %s)", email, D, D, D) is False
    assert one(conn, "SELECT pggit._path_dropped(%s, %s, %s, %s)", email, without_email, without_email, D) is False
