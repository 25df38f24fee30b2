"""pggit._comparable / _comparable_doc: the one comparable form of an object (no `deps`, no `column_order`),
the same as Python's SchemaObject.comparable() on what pggit.snapshot() reads."""

from __future__ import annotations

from pggit_core.snapshot import Snapshot
from tests.db.engine.helpers import Conn, col, one, table


def test_comparable_drops_derived_fields_only(conn: Conn) -> None:
    users = {**table(id=col("integer")), "deps": ["type:public.mood"]}
    out = one(conn, "SELECT pggit._comparable(%s)", users)
    assert "deps" not in out and "column_order" not in out and out["columns"] == users["columns"]
    assert one(conn, "SELECT pggit._comparable_doc(%s)", {"format": 1, "objects": {"table:public.users": users}}) \
        == {"objects": {"table:public.users": out}}
    assert one(conn, "SELECT pggit._comparable_doc('{}')") == {"objects": {}}


def test_python_comparable_matches_sql_on_a_real_snapshot(conn: Conn) -> None:
    conn.execute(b"CREATE TYPE mood AS ENUM ('ok', 'sad')")
    conn.execute(b"CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, m mood)")
    conn.execute(b"CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id))")
    conn.execute(b"CREATE INDEX posts_user_idx ON posts (user_id)")
    conn.execute(b"CREATE VIEW v AS SELECT id, email FROM users")
    document = one(conn, "SELECT pggit.snapshot('main')")
    sql_form = one(conn, "SELECT pggit._comparable_doc(pggit.snapshot('main'))")["objects"]
    snap = Snapshot.from_doc(document)
    assert {k: o.comparable() for k, o in snap.objects.items()} == sql_form
