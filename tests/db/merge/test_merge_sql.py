"""pggit.merge / pggit.conflicts / pggit.resolve_conflict on a real database: clean merges, conflicts that
leave the target unchanged, recorded resolutions applied on re-run, failures recorded and rolled back."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.db.merge.conftest import Conn, merge, on_branch, snapshot


def column_type(conn: Conn, table: str, column: str) -> str | None:
    row = conn.execute(
        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND NOT a.attisdropped",
        (f"public.{table}", column)).fetchone()
    return None if row is None else str(row[0])


def open_conflicts(conn: Conn) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, object_key, conflict_type, severity, branch_a_sql, branch_b_sql"
        " FROM pggit.conflicts WHERE resolved = false ORDER BY id").fetchall()


def test_independent_branches_merge_cleanly(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT",
              "CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT)")
    on_branch(conn, "agent/b", "CREATE TABLE search_index (id SERIAL, content TSVECTOR)",
              "CREATE TABLE search_logs (id SERIAL, query TEXT, results INT)")
    first = merge(conn, "agent/a")
    second = merge(conn, "agent/b")
    assert (first["result"], second["result"]) == ("merged", "merged")
    assert first["applied"] and not first["has_conflicts"] and first["method"] == "replay"
    keys = set(snapshot(conn)["objects"])
    assert {"table:public.oauth_tokens", "table:public.search_index", "table:public.search_logs"} <= keys
    assert column_type(conn, "users", "oauth_provider") == "text"
    parent = conn.execute("SELECT merge_parent_id FROM pggit.commits WHERE id = %s",
                          (second["result_commit_id"],)).fetchone()
    assert parent == (second["source_commit_id"],)
    history = conn.execute("SELECT source_branch, result, had_conflicts, statements_applied"
                           " FROM pggit_merge_history ORDER BY id").fetchall()
    assert history == [("agent/a", "merged", False, 2), ("agent/b", "merged", False, 2)]
    # merging again: nothing to do, recorded as a noop, main untouched
    before = snapshot(conn)
    again = merge(conn, "agent/a")
    assert again["result"] == "noop" and not again["applied"]
    assert snapshot(conn) == before


def test_conflict_stops_the_merge_and_target_is_unchanged(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
    before = snapshot(conn)
    result = merge(conn, "agent/a", auto_resolve=True)
    assert result["result"] == "conflicts" and result["has_conflicts"] and not result["applied"]
    assert snapshot(conn) == before
    rows = open_conflicts(conn)
    assert len(rows) == 1
    conflict_id, key, ctype, severity, ours_sql, theirs_sql = rows[0]
    assert (key, ctype, severity) == ("table:public.users.email", "COLUMN", "ERROR")
    assert "varchar" in ours_sql or "character varying(100)" in ours_sql
    assert "character varying(320)" in theirs_sql
    # retrying gives the same result: the same open conflict, nothing new
    retry = merge(conn, "agent/a", auto_resolve=True)
    assert [c["id"] for c in retry["conflicts"]] == [conflict_id]
    assert len(open_conflicts(conn)) == 1
    assert snapshot(conn) == before
    conn.execute("SELECT pggit.resolve_conflict(%s, 'theirs')", (conflict_id,))
    done = merge(conn, "agent/a")
    assert done["result"] == "merged"
    assert done["resolutions"] == [{"id": conflict_id, "object_key": key, "conflict_type": "COLUMN",
                                    "resolution": "theirs"}]
    assert column_type(conn, "users", "email") == "character varying(320)"
    assert open_conflicts(conn) == []


def test_resolution_ours_keeps_the_target(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)",
              "CREATE TABLE audit (id int)")
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
    conflict_id = merge(conn, "agent/a")["conflicts"][0]["id"]
    conn.execute("SELECT pggit.resolve_conflict(%s, 'ours', notes => 'main wins')", (conflict_id,))
    done = merge(conn, "agent/a")
    assert done["result"] == "merged" and done["method"] == "plan"
    assert column_type(conn, "users", "email") == "character varying(100)"
    assert column_type(conn, "audit", "id") == "integer"


def test_auto_resolve_keeps_both_new_columns(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    on_branch(conn, "agent/b", "ALTER TABLE users ADD COLUMN search_preferences JSONB")
    assert merge(conn, "agent/a")["result"] == "merged"
    stopped = merge(conn, "agent/b")
    assert stopped["result"] == "conflicts"
    assert [(c["conflict_type"], c["severity"], c["auto_resolvable"]) for c in stopped["conflicts"]] == [
        ("TABLE", "WARNING", True)]
    done = merge(conn, "agent/b", auto_resolve=True)
    assert done["result"] == "merged"
    assert [a["object_key"] for a in done["auto_resolved"]] == ["table:public.users"]
    assert column_type(conn, "users", "oauth_provider") == "text"
    assert column_type(conn, "users", "search_preferences") == "jsonb"


def test_replay_keeps_data_of_a_renamed_column(users_db: Conn) -> None:
    conn = users_db
    conn.execute("INSERT INTO users VALUES (1, 'a@example.com', 'ann')")
    on_branch(conn, "agent/a", "ALTER TABLE users RENAME COLUMN nickname TO handle")
    done = merge(conn, "agent/a")
    assert done["result"] == "merged" and done["method"] == "replay"
    assert conn.execute("SELECT handle FROM public.users").fetchall() == [("ann",)]


def test_dependency_conflict_drop_of_an_indexed_column(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "CREATE INDEX users_nickname_idx ON users (nickname)")
    on_branch(conn, "agent/b", "ALTER TABLE users DROP COLUMN nickname")
    assert merge(conn, "agent/a")["result"] == "merged"
    before = snapshot(conn)
    stopped = merge(conn, "agent/b", auto_resolve=True)
    assert [(c["conflict_type"], c["severity"], c["object_key"]) for c in stopped["conflicts"]] == [
        ("DEPENDENCY", "ERROR", "index:public.users_nickname_idx")]
    assert snapshot(conn) == before
    conn.execute("SELECT pggit.resolve_conflict(%s, 'theirs')", (stopped["conflicts"][0]["id"],))
    assert merge(conn, "agent/b")["result"] == "merged"
    assert column_type(conn, "users", "nickname") is None
    assert "index:public.users_nickname_idx" not in snapshot(conn)["objects"]


def test_custom_resolution_is_tried_on_a_scratch_branch(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
    conflict_id = merge(conn, "agent/a")["conflicts"][0]["id"]
    branches_before = conn.execute("SELECT count(*) FROM pggit.branches").fetchone()
    with pytest.raises(psycopg.Error) as failed:
        conn.execute("SELECT pggit.resolve_conflict(%s, 'custom', 'ALTER TABLE users ALTER COLUMN nope TYPE int')",
                     (conflict_id,))
    assert failed.value.sqlstate == "PGG60"
    assert "nope" in str(failed.value)
    with pytest.raises(psycopg.Error) as undefined:
        conn.execute("SELECT pggit.resolve_conflict(%s, 'custom', 'ALTER TABLE users DROP COLUMN email')",
                     (conflict_id,))
    assert undefined.value.sqlstate == "PGG60"
    assert "undefined" in str(undefined.value)
    # nothing recorded, no scratch branch left behind
    assert conn.execute("SELECT resolved FROM pggit.conflicts WHERE id = %s", (conflict_id,)).fetchone() == (False,)
    assert conn.execute("SELECT count(*) FROM pggit.branches").fetchone() == branches_before
    conn.execute("SELECT pggit.resolve_conflict(conflict_id => %s, resolution => 'custom',"
                 " custom_sql => 'ALTER TABLE users ALTER COLUMN email TYPE varchar(500)')", (conflict_id,))
    done = merge(conn, "agent/a")
    assert done["result"] == "merged"
    assert done["statements"][-1] == "ALTER TABLE users ALTER COLUMN email TYPE varchar(500)"
    assert column_type(conn, "users", "email") == "character varying(500)"


def test_failed_merge_is_recorded_and_rolled_back(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
    conflict_id = merge(conn, "agent/a")["conflicts"][0]["id"]
    conn.execute("SELECT pggit.resolve_conflict(%s, 'custom', %s)",
                 (conflict_id, "ALTER TABLE users ALTER COLUMN email TYPE varchar(500); "
                               "CREATE INDEX users_audit ON users (email)"))
    conn.execute("CREATE TABLE users_audit (id int)")  # main changes after the resolution was checked
    before = snapshot(conn)
    failed = merge(conn, "agent/a")
    assert failed["result"] == "failed" and failed["code"] == "PGG90" and not failed["applied"]
    assert "users_audit" in failed["error"]
    assert snapshot(conn) == before
    row = conn.execute("SELECT result, error IS NOT NULL, statements_applied FROM pggit.merges WHERE id = %s",
                       (failed["merge_id"],)).fetchone()
    assert row == ("failed", True, 0)


def test_concurrent_index_is_applied_as_a_plain_index(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "CREATE INDEX CONCURRENTLY users_email_idx ON users (email)")
    done = merge(conn, "agent/a")
    assert done["result"] == "merged"
    assert any("CONCURRENTLY" in note for note in done["notes"])
    assert any(s.startswith("CREATE INDEX users_email_idx") for s in done["statements"])
    assert "index:public.users_email_idx" in snapshot(conn)["objects"]


@pytest.mark.parametrize(("source", "target", "sqlstate"), [
    ("agent/nope", "main", "PGG40"),
    ("agent/a", "agent/nope", "PGG40"),
    ("agent/a", "agent/a", "PGG50"),
    ("", "main", "PGG61"),
])
def test_bad_merge_input(users_db: Conn, source: str, target: str, sqlstate: str) -> None:
    before = snapshot(users_db)
    with pytest.raises(psycopg.Error) as failed:
        merge(users_db, source, target)
    assert failed.value.sqlstate == sqlstate
    assert failed.value.diag.message_hint
    assert snapshot(users_db) == before


@pytest.mark.parametrize(("args", "sqlstate"), [
    ((999, "ours", None), "PGG40"),
    ((None, "mine", None), "PGG61"),
    ((None, "custom", None), "PGG61"),
    ((None, "theirs", "SELECT 1"), "PGG61"),
])
def test_bad_resolution_input(users_db: Conn, args: tuple[Any, ...], sqlstate: str) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
    conflict_id = merge(conn, "agent/a")["conflicts"][0]["id"]
    given, resolution, custom = args
    with pytest.raises(psycopg.Error) as failed:
        conn.execute("SELECT pggit.resolve_conflict(%s, %s, %s)", (given or conflict_id, resolution, custom))
    assert failed.value.sqlstate == sqlstate
    assert conn.execute("SELECT resolved FROM pggit.conflicts WHERE id = %s", (conflict_id,)).fetchone() == (False,)


def test_stale_open_conflicts_are_closed(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    conn.execute("ALTER TABLE users ADD COLUMN search_preferences JSONB")
    stopped = merge(conn, "agent/a")
    assert [c["conflict_type"] for c in stopped["conflicts"]] == ["TABLE"]
    done = merge(conn, "agent/a", auto_resolve=True)
    assert done["result"] == "merged"
    row = conn.execute("SELECT resolved, resolution, resolution_notes FROM pggit.conflicts WHERE id = %s",
                       (stopped["conflicts"][0]["id"],)).fetchone()
    assert row is not None and row[0] is True and row[1] is None and "auto-resolve" in row[2]
    assert open_conflicts(conn) == []


def test_merges_between_branches(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "CREATE TABLE oauth_tokens (id int PRIMARY KEY, token text)")
    conn.execute("CREATE TABLE audit (id int PRIMARY KEY)")
    # main into a branch (sync), then the branch into another branch, then into main
    assert merge(conn, "main", "agent/a")["result"] == "merged"
    assert "table:public.audit" in snapshot(conn, "agent/a")["objects"]
    assert merge(conn, "agent/a", "agent/b")["result"] == "merged"
    objects = snapshot(conn, "agent/b")["objects"]
    assert {"table:public.audit", "table:public.oauth_tokens"} <= set(objects)
    assert merge(conn, "agent/b", "main")["result"] == "merged"
    assert snapshot(conn, "main") == snapshot(conn, "agent/b")
    assert merge(conn, "agent/a", "main")["result"] == "noop"


def test_branch_synced_from_main_replays_only_its_own_work(users_db: Conn) -> None:
    conn = users_db
    conn.execute("CREATE TABLE audit (id int PRIMARY KEY)")
    on_branch(conn, "agent/a", "ALTER TABLE users RENAME COLUMN nickname TO handle")
    assert merge(conn, "main", "agent/a")["result"] == "merged"  # the branch catches up with main
    done = merge(conn, "agent/a")
    assert done["result"] == "merged" and done["method"] == "replay"
    assert done["statements"] == ["ALTER TABLE users RENAME COLUMN nickname TO handle"]


def test_rename_against_alter_names_the_rename(users_db: Conn) -> None:
    conn = users_db
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN last_login timestamptz")
    conn.execute("ALTER TABLE users RENAME TO accounts")  # on main
    before = snapshot(conn)
    stopped = merge(conn, "agent/a", auto_resolve=True)
    (conflict,) = [c for c in stopped["conflicts"] if c["object_key"] == "table:public.users"]
    assert (conflict["conflict_type"], conflict["severity"]) == ("TABLE", "ERROR")
    assert "renamed table:public.users to table:public.accounts" in conflict["advice"]
    assert snapshot(conn) == before
    for other in stopped["conflicts"]:
        conn.execute("SELECT pggit.resolve_conflict(%s, 'ours')", (other["id"],))
    conn.execute("SELECT pggit.resolve_conflict(%s, 'custom', %s)",
                 (conflict["id"], "ALTER TABLE accounts ADD COLUMN last_login timestamptz"))
    done = merge(conn, "agent/a")
    assert done["result"] == "merged"
    assert "last_login" in snapshot(conn)["objects"]["table:public.accounts"]["columns"]
