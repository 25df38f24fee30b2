"""pggit._change / _changes / _same / _differences: the one added / removed / changed, which diff's plan,
merge and capture's drift all read."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from tests.db.engine.helpers import Conn, col, one, table

A = table(id=col("integer"))


def test_change_of_one_object(conn: Conn) -> None:
    assert one(conn, "SELECT pggit._change(NULL, %s)", A) == "added"
    assert one(conn, "SELECT pggit._change(%s, NULL)", A) == "removed"
    assert one(conn, "SELECT pggit._change(NULL, NULL)") is None
    assert one(conn, "SELECT pggit._change(%s, %s)", A, {**A, "deps": ["x"], "column_order": []}) == "same"
    assert one(conn, "SELECT pggit._change(%s, %s)", A, {**A, "comment": "c"}) == "changed"


def test_changes_between_documents(conn: Conn) -> None:
    a = {"objects": {"table:public.a": A, "table:public.b": A, "table:public.c": A}}
    b = {"objects": {"table:public.b": {**A, "deps": ["y"]}, "table:public.c": {**A, "comment": "x"},
                     "table:public.d": A}}
    assert one(conn, "SELECT pggit._changes(%s, %s)", a, b) == [
        {"key": "table:public.a", "change": "removed"}, {"key": "table:public.c", "change": "changed"},
        {"key": "table:public.d", "change": "added"}]
    assert one(conn, "SELECT pggit._same(%s, %s)", a, a) is True
    assert one(conn, "SELECT pggit._same(%s, %s)", a, b) is False
    assert one(conn, "SELECT pggit._same(%s, %s)", {"objects": {"table:public.b": A}},
               {"objects": {"table:public.b": {**A, "deps": ["y"]}}}) is True
    assert one(conn, "SELECT pggit._differences(%s, %s)", b, a) == \
        "table:public.a should not exist; table:public.c differs; table:public.d is missing"
    assert one(conn, "SELECT pggit._differences(%s, %s)", a, a) == "nothing"


def test_plan_and_diff_label_changes_the_same_way(conn: Conn) -> None:
    a = {"objects": {"table:public.a": A, "table:public.c": A}}
    b = {"objects": {"table:public.c": {**A, "comment": "x"}, "table:public.d": A}}
    rows = conn.execute("SELECT DISTINCT object_key, change FROM pggit._plan(%s, %s) ORDER BY 1",
                        (Jsonb(a), Jsonb(b))).fetchall()
    assert rows == [(c["key"], c["change"]) for c in one(conn, "SELECT pggit._changes(%s, %s)", a, b)]
