"""Snapshots are stored once by hash; _record_commit snapshots a branch and moves its head."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.branching.helpers import Conn, snapshot


def test_store_snapshot_once(conn: Conn) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    first = conn.execute("SELECT pggit._store_snapshot(pggit.snapshot())").fetchone()
    again = conn.execute("SELECT pggit._store_snapshot(pggit.snapshot())").fetchone()
    assert first == again
    assert first is not None
    assert conn.execute("SELECT pggit.snapshot_hash(pggit.snapshot())").fetchone() == first
    count = conn.execute("SELECT count(*) FROM pggit.snapshots WHERE hash = %s", (first[0],)).fetchone()
    assert count == (1,)


def test_record_commit(conn: Conn) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    first = conn.execute("SELECT pggit._record_commit(1, 'first', 'tester')").fetchone()
    conn.execute("ALTER TABLE t ADD COLUMN name text")
    second = conn.execute("SELECT pggit._record_commit(1, 'second', NULL)").fetchone()
    assert first is not None and second is not None
    row = conn.execute(
        "SELECT c.parent_id, c.author = current_user, s.doc = pggit.snapshot(), b.head_commit_id "
        "FROM pggit.commits c JOIN pggit.snapshots s ON s.hash = c.snapshot_hash "
        "JOIN pggit.branches b ON b.id = c.branch_id WHERE c.id = %s", (second[0],)).fetchone()
    assert row == (first[0], True, True, second[0])
    pending = conn.execute("SELECT count(*) FROM pggit.ddl_log WHERE branch_id = 1 AND commit_id IS NULL")
    assert pending.fetchone() == (0,)
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT pggit._record_commit(424242, 'x', NULL)")
    assert info.value.sqlstate == "PGG40"
    with pytest.raises(psycopg.Error) as empty:
        conn.execute("SELECT pggit._record_commit(1, '  ', NULL)")
    assert empty.value.sqlstate == "PGG61"


def test_snapshot_leaves_the_callers_search_path_alone(conn: Conn) -> None:
    conn.execute("SELECT pggit.create_branch('agent/sp')")
    before = conn.execute("SHOW search_path").fetchone()
    with conn.transaction():
        snapshot(conn, "agent/sp")
        assert conn.execute("SHOW search_path").fetchone() == before
    assert conn.execute("SHOW search_path").fetchone() == before


def test_empty_main(conn: Conn) -> None:
    assert snapshot(conn) == {"format": 1, "objects": {}}
