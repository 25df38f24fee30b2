"""Faults around merges: the merging connection killed mid-apply, merges into one target at once, a
target that changed under a repeatable-read transaction."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from tests.db.merge.conftest import Conn, merge, on_branch, snapshot

MERGE_LOCK_CLASS = 1885824615
WAIT_LIMIT_SECONDS = 60.0


def wait_until(conn: Conn, query: str, params: tuple[Any, ...], expected: Any) -> None:
    """Poll until ``query`` returns ``expected`` (a liveness wait, not a timing assertion)."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while True:
        row = conn.execute(query, params).fetchone()
        if row is not None and row[0] == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {query!r} to return {expected!r} (got {row})")
        time.sleep(0.02)


def run_in_thread(dsn: str, source: str, outcome: dict[str, Any]) -> threading.Thread:
    def work() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as other:
                outcome["pid"] = other.info.backend_pid
                outcome["result"] = merge(other, source)
        except psycopg.Error as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_killed_merge_leaves_target_unchanged_and_retry_succeeds(users_db: Conn, db: str) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    before = snapshot(conn)
    with psycopg.connect(db) as blocker:  # holds a lock the merge's ALTER TABLE must wait for
        blocker.execute("LOCK TABLE public.users IN ACCESS SHARE MODE")
        outcome: dict[str, Any] = {}
        thread = run_in_thread(db, "agent/a", outcome)
        wait_until(conn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                         " AND query LIKE %s", ("%pggit.merge%",), 1)
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                     " AND query LIKE %s", ("%pggit.merge%",))
        thread.join()
        blocker.rollback()
    assert isinstance(outcome.get("error"), psycopg.OperationalError)
    assert snapshot(conn) == before
    assert conn.execute("SELECT count(*) FROM pggit.merges").fetchone() == (0,)
    retry = merge(conn, "agent/a")
    assert retry["result"] == "merged"
    assert "table:public.users" in snapshot(conn)["objects"]
    assert "oauth_provider" in snapshot(conn)["objects"]["table:public.users"]["columns"]


def test_concurrent_merges_into_main_serialize(users_db: Conn, db: str) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    on_branch(conn, "agent/b", "CREATE TABLE search_logs (id SERIAL, query TEXT)")
    main_id = conn.execute("SELECT id FROM pggit.branches WHERE name = 'main'").fetchone()
    assert main_id is not None
    with psycopg.connect(db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (MERGE_LOCK_CLASS, main_id[0]))
        outcomes: list[dict[str, Any]] = [{}, {}]
        threads = [run_in_thread(db, "agent/a", outcomes[0]), run_in_thread(db, "agent/b", outcomes[1])]
        wait_until(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                         " AND classid = %s::oid", (MERGE_LOCK_CLASS,), 2)
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", (MERGE_LOCK_CLASS, main_id[0]))
        for thread in threads:
            thread.join()
    results = [o["result"] for o in outcomes]
    assert [r["result"] for r in results] == ["merged", "merged"]
    rows = conn.execute("SELECT target_commit_id, result_commit_id FROM pggit.merges ORDER BY id").fetchall()
    # the second merge was computed on the state the first one left
    assert rows[1][0] == rows[0][1]
    objects = snapshot(conn)["objects"]
    assert "oauth_provider" in objects["table:public.users"]["columns"]
    assert "table:public.search_logs" in objects


def test_target_changed_under_repeatable_read_is_refused(users_db: Conn, db: str) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    on_branch(conn, "agent/b", "CREATE TABLE search_logs (id SERIAL, query TEXT)")
    with psycopg.connect(db) as stale:
        stale.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        stale.execute("SELECT count(*) FROM pggit.branches")  # the transaction's snapshot is taken here
        assert merge(conn, "agent/b")["result"] == "merged"
        with pytest.raises(psycopg.Error) as refused:
            merge(stale, "agent/a")
        assert refused.value.sqlstate == "PGG91"
        stale.rollback()
    assert merge(conn, "agent/a")["result"] == "merged"


def test_target_changed_during_apply_is_reported_stale(users_db: Conn, db: str) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    with psycopg.connect(db) as blocker:
        blocker.execute("LOCK TABLE public.users IN ACCESS SHARE MODE")
        outcome: dict[str, Any] = {}
        thread = run_in_thread(db, "agent/a", outcome)
        wait_until(conn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                         " AND query LIKE %s", ("%pggit.merge%",), 1)
        # main changes while the merge waits mid-apply, from a superuser session that switches capture off
        # (DDL that is captured would itself wait: capture's row in ddl_log references main's row, which the
        # merge holds; no setting a session sets switches capture off)
        with psycopg.connect(db) as sneaky:
            sneaky.execute("ALTER EVENT TRIGGER pggit_capture_ddl DISABLE")
            sneaky.execute("CREATE TABLE sneaky (id int)")
            sneaky.execute("ALTER EVENT TRIGGER pggit_capture_ddl ENABLE ALWAYS")
            sneaky.commit()
        blocker.rollback()
        thread.join()
    result = outcome["result"]
    assert result["result"] == "failed" and result["code"] == "PGG91"
    assert "sneaky" in result["error"]
    objects = snapshot(conn)["objects"]
    assert "table:public.sneaky" in objects
    assert "oauth_provider" not in objects["table:public.users"]["columns"]
    retry = merge(conn, "agent/a")
    assert retry["result"] == "merged"
    # the table made with capture off became main's own commit by 'outside pggit', not part of the merge
    assert retry["drift"]["main"] == ["table:public.sneaky"]
