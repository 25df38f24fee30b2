"""Less common shapes (quoted names, extensions, overloads, INSTEAD OF and transition-table triggers,
identity options, composite FKs) are copied exactly and rebuilt exactly from an empty schema."""

from __future__ import annotations

from pathlib import Path

from pggit_core import branching
from pggit_core.diff import ChangeKind, diff
from tests.db.branching.helpers import Conn, snapshot

EDGE_CASES = (Path(__file__).parent / "edge_cases.sql").read_text()


def test_edge_cases_copy_exactly(conn: Conn) -> None:
    conn.execute(EDGE_CASES.encode())
    doc = snapshot(conn)
    objects = doc["objects"]
    assert "function:public.area(integer)" in objects and "function:public.area(integer, integer)" in objects
    # extension members are not objects of the schema
    assert not any(key.startswith("function:public.similarity(") for key in objects)
    assert objects["table:public.Weird Table"]["columns"]["colors"]["type"] == "color[]"
    branching.create_branch(conn, "agent/edge", copy_data=True)
    assert snapshot(conn, "agent/edge") == doc
    # identity continues with its own options
    row = conn.execute('INSERT INTO "pggit_b_agent_edge"."Weird Table" (price) VALUES (1) RETURNING "Id"').fetchone()
    assert row == (100,)


def test_edge_cases_rebuilt_from_empty(conn: Conn) -> None:
    # extensions live in main's public schema; a session on the branch reaches them through public
    conn.execute("CREATE EXTENSION pg_trgm")
    conn.execute("CREATE EXTENSION pgcrypto")
    branching.create_branch(conn, "agent/empty")
    conn.execute("SELECT pggit.checkout('agent/empty')")
    conn.execute("SELECT set_config('search_path', current_setting('search_path') || ', public', false)")
    conn.execute(EDGE_CASES.encode())
    conn.execute("SELECT pggit.checkout('main')")
    d = diff(conn, "main", "agent/empty")
    assert set(d.objects().values()) == {ChangeKind.ADDED}
    with conn.transaction():
        conn.execute("SET LOCAL check_function_bodies = off")
        for statement in d.statements:
            conn.execute(statement.encode())
    assert diff(conn, "main", "agent/empty").is_empty
    assert diff(conn, "agent/empty", "main").is_empty
