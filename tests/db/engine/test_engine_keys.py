"""pggit._key_kind / _key_schema / _table_key / _is_fk, read against what pggit.snapshot() emits."""

from __future__ import annotations

from tests.db.engine.helpers import Conn, one


def test_keys(conn: Conn) -> None:
    assert one(conn, "SELECT pggit._key_kind('constraint:public.users.users_pkey')") == "constraint"
    assert one(conn, "SELECT pggit._key_schema('constraint:public.users.users_pkey')") == "public"
    assert one(conn, "SELECT pggit._key_schema('function:app.f(integer)')") == "app"


def test_table_key_and_is_fk_of_snapshot_objects(conn: Conn) -> None:
    conn.execute(b"CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, CHECK (id > 0))")
    conn.execute(b"CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id))")
    conn.execute(b"CREATE INDEX posts_user_idx ON posts (user_id)")
    rows = conn.execute("SELECT o.key, pggit._table_key(o.value), pggit._is_fk(o.value)"
                        "  FROM jsonb_each(pggit.snapshot('main') -> 'objects') AS o ORDER BY 1").fetchall()
    by_key = {r[0]: (r[1], r[2]) for r in rows}
    assert by_key["constraint:public.posts.posts_user_id_fkey"] == ("table:public.posts", True)
    assert by_key["constraint:public.users.users_pkey"] == ("table:public.users", False)
    assert by_key["constraint:public.users.users_email_key"] == ("table:public.users", False)
    assert by_key["constraint:public.users.users_id_check"] == ("table:public.users", False)
    assert by_key["index:public.posts_user_idx"] == ("table:public.posts", False)
    assert by_key["table:public.users"] == (None, False)
    assert [k for k, (_, fk) in by_key.items() if fk] == ["constraint:public.posts.posts_user_id_fkey"]
