"""The SQL face of capture: checkout, the guard, DDL capture into pggit.ddl_log, commit and log."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from pggit_core import install
from tests.db.capture.helpers import Conn, columns, log_count, make_branch, physical_schema

WHERE_IS_USERS = "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = to_regclass('users')"


def uncommitted(conn: Conn, branch: str) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT command_tag, object_type, object_identity, statement, role_name FROM pggit.uncommitted(%s)",
        (branch,)).fetchall()


def test_checkout_sets_search_path_and_branch(session: Conn) -> None:
    make_branch(session, "agent/claude-auth")
    schema = physical_schema(session, "agent/claude-auth")
    path = session.execute("SELECT pggit.checkout('agent/claude-auth')").fetchone()
    assert path == (f"{schema}, pggit",)
    assert session.execute("SHOW search_path").fetchone() == (f"{schema}, pggit",)
    assert session.execute("SELECT pggit.current_branch()").fetchone() == ("agent/claude-auth",)
    # The branch is the session's row in pggit.sessions: a setting the session sets changes nothing.
    session.execute("SET pggit.branch = ''")
    assert session.execute("SELECT pggit.current_branch()").fetchone() == ("agent/claude-auth",)
    # Unqualified names now resolve to the branch's copy.
    assert session.execute(WHERE_IS_USERS).fetchone() == (schema,)
    session.execute("SELECT pggit.checkout('main')")
    assert session.execute("SHOW search_path").fetchone() == ("public, pggit",)
    assert session.execute("SELECT pggit.current_branch()").fetchone() == ("main",)
    assert session.execute(WHERE_IS_USERS).fetchone() == ("public",)


def test_checkout_unknown_branch_is_not_found(session: Conn) -> None:
    with pytest.raises(psycopg.Error) as info:
        session.execute("SELECT pggit.checkout('agent/nope')")
    assert info.value.sqlstate == "PGG40"
    assert "agent/nope" in str(info.value)
    assert session.execute("SELECT pggit.current_branch()").fetchone() == ("main",)


def test_checkout_rolled_back_with_its_transaction(main_db: str) -> None:
    with psycopg.connect(main_db) as conn:
        make_branch(conn, "agent/a")
        conn.commit()
        conn.execute("SELECT pggit.checkout('agent/a')")
        conn.rollback()
        assert conn.execute("SELECT pggit.current_branch()").fetchone() == ("main",)
        conn.rollback()


def test_capture_records_statement_objects_branch_and_role(session: Conn) -> None:
    make_branch(session, "agent/claude-auth")
    schema = physical_schema(session, "agent/claude-auth")
    session.execute("SELECT pggit.checkout('agent/claude-auth')")
    session.execute("ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    rows = session.execute(
        "SELECT b.name, l.command_tag, l.object_type, l.schema_name, l.object_identity, l.statement, "
        "l.role_name, l.session_branch, l.objects FROM pggit.ddl_log l JOIN pggit.branches b ON b.id = l.branch_id "
        "WHERE l.commit_id IS NULL").fetchall()
    assert len(rows) == 1
    name, tag, kind, schema_name, identity, statement, role, session_branch, objects = rows[0]
    assert (name, tag, kind, schema_name) == ("agent/claude-auth", "ALTER TABLE", "table", schema)
    assert identity == f"{schema}.users"
    assert statement == "ALTER TABLE users ADD COLUMN oauth_provider TEXT"
    assert role == "postgres" and session_branch == "agent/claude-auth"
    assert objects == [{"action": "ddl", "type": "table", "schema": schema, "identity": f"{schema}.users",
                        "tracked_schema": "public"}]
    assert "oauth_provider" in columns(session, schema, "users")
    assert "oauth_provider" not in columns(session, "public", "users")


def test_capture_one_row_per_command_not_per_object(session: Conn) -> None:
    session.execute("CREATE TABLE oauth_tokens (id SERIAL PRIMARY KEY, user_id INT, token TEXT)")
    rows = uncommitted(session, "main")
    assert [(r[0], r[1], r[2]) for r in rows] == [("CREATE TABLE", "table", "public.oauth_tokens")]
    objects = session.execute(
        "SELECT objects FROM pggit.ddl_log WHERE commit_id IS NULL").fetchone()
    assert objects is not None
    kinds = sorted((o["type"], o["identity"]) for o in objects[0])  # type: ignore[attr-defined]
    assert kinds == [("index", "public.oauth_tokens_pkey"), ("sequence", "public.oauth_tokens_id_seq"),
                     ("table", "public.oauth_tokens")]


def test_multi_statement_query_string_is_recorded_once(session: Conn) -> None:
    make_branch(session, "agent/multi")
    session.execute("SELECT pggit.checkout('agent/multi')")
    session.execute("ALTER TABLE users ADD COLUMN a int; CREATE INDEX users_a_idx ON users (a); ALTER TABLE users "
                    "DROP COLUMN a")
    text = ("ALTER TABLE users ADD COLUMN a int;\nCREATE INDEX users_a_idx ON users (a);\n"
            "ALTER TABLE users DROP COLUMN a")
    rows = uncommitted(session, "agent/multi")
    assert [r[0] for r in rows] == ["ALTER TABLE", "CREATE INDEX", "ALTER TABLE"]
    assert all(r[3] == text for r in rows)
    stored = session.execute(
        "SELECT statement, statement_row IS NULL FROM pggit.ddl_log WHERE commit_id IS NULL ORDER BY id").fetchall()
    assert stored[0] == (text, True)
    assert all(s == ("", False) for s in stored[1:])
    commit_id = session.execute("SELECT pggit.commit('a column that came and went')").fetchone()
    assert commit_id is not None
    log = session.execute("SELECT commit_id, statements FROM pggit.log('agent/multi')").fetchall()
    assert log == [(commit_id[0], [text])]


def test_same_statement_sent_twice_in_a_transaction_is_recorded_twice(main_db: str) -> None:
    with psycopg.connect(main_db) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN n int")
        conn.execute("ALTER TABLE users ALTER COLUMN n TYPE bigint")
        conn.execute("ALTER TABLE users ALTER COLUMN n TYPE bigint")
        conn.commit()
        commit_id = conn.execute("SELECT pggit.commit('n')").fetchone()
        conn.commit()
        assert commit_id is not None
        statements = conn.execute("SELECT statements FROM pggit.log('main', 1)").fetchone()
        assert statements == (["ALTER TABLE users ADD COLUMN n int", "ALTER TABLE users ALTER COLUMN n TYPE bigint",
                                "ALTER TABLE users ALTER COLUMN n TYPE bigint"],)


def test_failed_ddl_leaves_log_and_branch_unchanged(session: Conn) -> None:
    make_branch(session, "agent/fail")
    schema = physical_schema(session, "agent/fail")
    session.execute("SELECT pggit.checkout('agent/fail')")
    before_log = log_count(session)
    before_cols = columns(session, schema, "users")
    with pytest.raises(psycopg.errors.UndefinedTable):
        session.execute("ALTER TABLE users ADD COLUMN a int; ALTER TABLE no_such_table ADD COLUMN b int")
    assert log_count(session) == before_log
    assert columns(session, schema, "users") == before_cols
    with pytest.raises(psycopg.errors.DuplicateColumn):
        session.execute("ALTER TABLE users ADD COLUMN email text")
    assert log_count(session) == before_log


def test_commit_groups_captured_statements_and_log_is_newest_first(session: Conn) -> None:
    make_branch(session, "agent/log")
    session.execute("SELECT pggit.checkout('agent/log')")
    session.execute("ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    session.execute("CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT)")
    first = session.execute("SELECT pggit.commit('oauth columns', 'claude')").fetchone()
    session.execute("CREATE INDEX oauth_tokens_user_idx ON oauth_tokens (user_id)")
    second = session.execute("SELECT pggit.commit('index tokens by user')").fetchone()
    assert first is not None and second is not None
    rows = session.execute(
        "SELECT commit_id, branch, parent_id, message, author, snapshot_hash, statements "
        "FROM pggit.log('agent/log')").fetchall()
    assert [r[0] for r in rows[:2]] == [second[0], first[0]]
    newest, older = rows[0], rows[1]
    assert newest[1] == "agent/log" and newest[2] == first[0]
    assert newest[3] == "index tokens by user" and newest[4] == "postgres"
    assert newest[6] == ["CREATE INDEX oauth_tokens_user_idx ON oauth_tokens (user_id)"]
    assert older[3] == "oauth columns" and older[4] == "claude"
    assert older[6] == ["ALTER TABLE users ADD COLUMN oauth_provider TEXT",
                        "CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT)"]
    assert newest[5] != older[5]
    assert session.execute("SELECT count(*) FROM pggit.uncommitted('agent/log')").fetchone() == (0,)
    # The session's branch is the default; the limit cuts.
    assert session.execute("SELECT commit_id FROM pggit.log(NULL, 1)").fetchall() == [(second[0],)]
    # main's log is untouched by the branch's commits.
    main_messages = session.execute("SELECT message FROM pggit.log('main')").fetchall()
    assert ("oauth columns",) not in main_messages


@pytest.mark.parametrize("message", ["", "   ", None])
def test_commit_needs_a_message(session: Conn, message: str | None) -> None:
    with pytest.raises(psycopg.Error) as info:
        session.execute("SELECT pggit.commit(%s)", (message,))
    assert info.value.sqlstate == "PGG61"


def test_log_unknown_branch_and_bad_limit(session: Conn) -> None:
    with pytest.raises(psycopg.Error) as info:
        session.execute("SELECT * FROM pggit.log('agent/nope')")
    assert info.value.sqlstate == "PGG40" and "agent/nope" in str(info.value)
    with pytest.raises(psycopg.Error) as info:
        session.execute("SELECT * FROM pggit.log('main', 0)")
    assert info.value.sqlstate == "PGG61"


def test_guard_refuses_main_objects_from_a_branch(session: Conn) -> None:
    make_branch(session, "agent/claude-auth")
    session.execute("CREATE TABLE notes (id int)")
    session.execute("SELECT pggit.checkout('agent/claude-auth')")
    before = log_count(session)
    for statement in ("ALTER TABLE public.users ADD COLUMN oauth_provider TEXT",
                      "ALTER TABLE public.users DROP COLUMN email",
                      "DROP TABLE public.notes",
                      "CREATE TABLE public.sneaky (id int)",
                      "CREATE INDEX users_email_idx ON public.users (email)",
                      "COMMENT ON TABLE public.users IS 'mine'"):
        with pytest.raises(psycopg.Error) as info:
            session.execute(statement)
        assert info.value.sqlstate == "PGG50", statement
        assert "agent/claude-auth" in str(info.value) and "main" in str(info.value)
        assert info.value.diag.message_hint is not None
        assert "pggit.checkout('main')" in info.value.diag.message_hint
    assert columns(session, "public", "users") == ["id", "email"]
    assert session.execute("SELECT to_regclass('public.sneaky')").fetchone() == (None,)
    assert session.execute("SELECT to_regclass('public.notes') IS NOT NULL").fetchone() == (True,)
    assert log_count(session) == before
    # Its own copy is fine.
    session.execute("ALTER TABLE users ADD COLUMN oauth_provider TEXT")


def test_guard_refuses_another_branchs_objects(session: Conn) -> None:
    make_branch(session, "agent/a")
    make_branch(session, "agent/b")
    b_schema = physical_schema(session, "agent/b")
    session.execute("SELECT pggit.checkout('agent/a')")
    with pytest.raises(psycopg.Error) as info:
        session.execute(f'ALTER TABLE "{b_schema}".users ADD COLUMN x int')
    assert info.value.sqlstate == "PGG50"
    assert "agent/a" in str(info.value) and "agent/b" in str(info.value)
    assert info.value.diag.message_hint == "SELECT pggit.checkout('agent/b') first to work on that branch"
    assert "x" not in columns(session, b_schema, "users")


def test_main_session_may_change_main_and_is_captured_on_main(session: Conn) -> None:
    session.execute("ALTER TABLE users ADD COLUMN created_at timestamptz")
    assert [r[0] for r in uncommitted(session, "main")] == ["ALTER TABLE"]


def test_settings_a_session_sets_change_nothing(main_db: str) -> None:
    """pggit.internal, pggit.branch and pggit.statement were once trusted: now none of them turns the guard
    off, hides DDL from capture, or changes the text recorded for a merge."""
    with psycopg.connect(main_db) as conn:
        make_branch(conn, "agent/internal")
        conn.commit()
        conn.execute("SELECT pggit.checkout('agent/internal')")
        conn.commit()
        for setting, value in (("pggit.internal", "on"), ("pggit.internal", "capture"), ("pggit.branch", "")):
            conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
            with pytest.raises(psycopg.Error) as info:
                conn.execute("ALTER TABLE public.users ADD COLUMN sneaky int")
            assert info.value.sqlstate == "PGG50", setting
            conn.rollback()
        conn.execute("SELECT set_config('pggit.statement', 'ALTER ROLE postgres NOLOGIN', true)")
        conn.execute("ALTER TABLE users ADD COLUMN on_branch int")
        conn.commit()
        rows = conn.execute("SELECT statement FROM pggit.uncommitted('agent/internal') ORDER BY id").fetchall()
        assert rows == [("ALTER TABLE users ADD COLUMN on_branch int",)]
        assert "sneaky" not in columns(conn, "public", "users")


def test_two_sessions_on_different_branches_are_isolated(connect: Callable[[], Conn]) -> None:
    one, two = connect(), connect()
    make_branch(one, "agent/one")
    make_branch(one, "agent/two")
    one.execute("SELECT pggit.checkout('agent/one')")
    two.execute("SELECT pggit.checkout('agent/two')")
    one.execute("ALTER TABLE users ADD COLUMN from_one int")
    two.execute("ALTER TABLE users ADD COLUMN from_two int")
    one.execute("CREATE TABLE only_one (id int)")
    one.execute("INSERT INTO users (email) VALUES ('a@x')")
    assert columns(one, physical_schema(one, "agent/one"), "users") == ["id", "email", "from_one"]
    assert columns(two, physical_schema(two, "agent/two"), "users") == ["id", "email", "from_two"]
    assert columns(one, "public", "users") == ["id", "email"]
    assert two.execute("SELECT to_regclass('only_one')").fetchone() == (None,)
    assert two.execute("SELECT count(*) FROM users").fetchone() == (0,)
    with pytest.raises(psycopg.errors.UndefinedColumn):
        two.execute("SELECT from_one FROM users")
    assert [r[0] for r in uncommitted(one, "agent/one")] == ["ALTER TABLE", "CREATE TABLE"]
    assert [r[0] for r in uncommitted(one, "agent/two")] == ["ALTER TABLE"]


def test_branch_in_use_tracks_live_sessions(connect: Callable[[], Conn]) -> None:
    watcher, agent = connect(), connect()
    make_branch(watcher, "agent/busy")
    branch_id = watcher.execute("SELECT id FROM pggit.branches WHERE name = 'agent/busy'").fetchone()
    assert branch_id is not None
    in_use = "SELECT pggit._branch_in_use(%s)"
    assert watcher.execute(in_use, branch_id).fetchone() == (False,)
    agent.execute("SELECT pggit.checkout('agent/busy')")
    assert watcher.execute(in_use, branch_id).fetchone() == (True,)
    # Its own checkout does not count for the session asking.
    assert agent.execute(in_use, branch_id).fetchone() == (False,)
    agent.execute("SELECT pggit.checkout('main')")
    assert watcher.execute(in_use, branch_id).fetchone() == (False,)
    agent.execute("SELECT pggit.checkout('agent/busy')")
    pid = agent.info.backend_pid
    agent.close()
    watcher.execute("SELECT pg_terminate_backend(%s)", (pid,))  # already gone: a no-op
    watcher.execute("SELECT pg_sleep(0.05)")  # let the closed backend leave pg_stat_activity
    for _ in range(100):
        if watcher.execute(in_use, branch_id).fetchone() == (False,):
            break
        watcher.execute("SELECT pg_sleep(0.05)")
    assert watcher.execute(in_use, branch_id).fetchone() == (False,)
    # The next checkout prunes the dead session's row.
    watcher.execute("SELECT pggit.checkout('main')")
    assert watcher.execute("SELECT count(*) FROM pggit.sessions WHERE pid = %s", (pid,)).fetchone() == (0,)


def test_agent_role_is_captured_and_guarded(session: Conn) -> None:
    info = session.execute("SELECT pggit.add_agent('capture-agent')").fetchone()
    assert info is not None
    session.execute("SELECT pggit.create_branch('agent/role', owner => 'capture-agent')")
    session.execute('SET ROLE "capture-agent"')
    session.execute("SELECT pggit.checkout('agent/role')")
    session.execute("ALTER TABLE users ADD COLUMN by_agent int")
    with pytest.raises(psycopg.Error) as info:
        session.execute("CREATE TABLE public.not_mine (id int)")
    assert info.value.sqlstate == "42501"  # no CREATE on main's schema: PostgreSQL itself refuses
    assert uncommitted(session, "agent/role")[-1][4] == "capture-agent"
    commit_id = session.execute("SELECT pggit.commit('by the agent')").fetchone()
    assert commit_id is not None
    assert session.execute("SELECT author FROM pggit.log('agent/role', 1)").fetchone() == ("capture-agent",)
    session.execute("RESET ROLE")
    session.execute("SELECT pggit.remove_agent('capture-agent', force => true)")


def test_temp_and_untracked_schemas_are_not_captured(session: Conn) -> None:
    before = log_count(session)
    session.execute("CREATE TEMP TABLE scratch (id int)")
    session.execute("CREATE SCHEMA elsewhere")
    session.execute("CREATE TABLE elsewhere.t (id int)")
    session.execute("DROP SCHEMA elsewhere CASCADE")
    assert log_count(session) == before


def test_drop_is_captured_once_with_the_dropped_objects(session: Conn) -> None:
    session.execute("CREATE TABLE gone (id serial PRIMARY KEY)")
    session.execute("SELECT pggit.commit('gone')")
    session.execute("DROP TABLE gone")
    rows = session.execute(
        "SELECT command_tag, object_type, object_identity, objects FROM pggit.ddl_log WHERE commit_id IS NULL"
    ).fetchall()
    assert len(rows) == 1
    tag, kind, identity, objects = rows[0]
    assert (tag, kind, identity) == ("DROP TABLE", "table", "public.gone")
    assert {"action": "drop", "type": "table", "schema": "public", "identity": "public.gone",
            "tracked_schema": "public"} in objects  # type: ignore[operator]


def test_capture_sql_is_idempotent(session: Conn) -> None:
    before = log_count(session)
    text = (install.sql_dir() / "capture.sql").read_text()
    for _ in range(2):
        with session.transaction():
            session.execute("SELECT pggit._op_begin(0, 'install')")  # as `pggit init` runs it
            session.execute(text.encode())
    assert log_count(session) == before
    triggers = session.execute(
        "SELECT evtname, evtevent FROM pg_event_trigger WHERE evtname LIKE 'pggit%' ORDER BY 1").fetchall()
    assert triggers == [("pggit_capture_ddl", "ddl_command_end"), ("pggit_capture_drop", "sql_drop")]
    session.execute("ALTER TABLE users ADD COLUMN still_captured int")
    assert [r[0] for r in uncommitted(session, "main")] == ["ALTER TABLE"]


def test_log_of_a_deleted_branch_and_commit_on_it(connect: Callable[[], Conn]) -> None:
    agent, admin = connect(), connect()
    make_branch(admin, "agent/short-lived")
    agent.execute("SELECT pggit.checkout('agent/short-lived')")
    agent.execute("CREATE TABLE scratch (id int)")
    made = agent.execute("SELECT pggit.commit('scratch table')").fetchone()
    agent.execute("SELECT pggit.checkout('main')")
    admin.execute("SELECT pggit.delete_branch('agent/short-lived', force => true)")
    # Its history stays readable.
    assert admin.execute("SELECT commit_id, message FROM pggit.log('agent/short-lived')").fetchall() == [
        (made[0] if made else None, "scratch table")]
    # A session whose branch was deleted under it is back on main; no setting puts it on the deleted branch.
    agent.execute("SET pggit.branch = 'agent/short-lived'")
    assert agent.execute("SELECT pggit.current_branch()").fetchone() == ("main",)
