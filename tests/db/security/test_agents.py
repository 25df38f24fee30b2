"""`pggit agent add|list|remove` and pggit.add_agent: non-superuser login roles, idempotent, with clear errors."""

from __future__ import annotations

import json

import psycopg
import pytest

from pggit_core import agents
from pggit_core.cli import main
from pggit_core.errors import InvalidName, PermissionDenied


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_prints_a_dsn_that_connects_as_a_plain_role(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "agent", "add", "claude-payments", "--dsn", db, "--format", "json")
    assert code == 0, err
    made = json.loads(out)
    assert made["name"] == "claude-payments" and made["merger"] is False
    with psycopg.connect(made["dsn"], autocommit=True) as conn:
        row = conn.execute("SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
                           "pg_has_role(current_user, 'pggit_agent', 'MEMBER') FROM pg_roles "
                           "WHERE rolname = current_user").fetchone()
        assert row == ("claude-payments", False, False, False, False, True)
        assert conn.execute("SELECT pggit.current_branch()").fetchone() == ("main",)
    # again: the same role, the same working DSN
    code, out, _ = run(capsys, "agent", "add", "claude-payments", "--dsn", db, "--format", "json")
    again = json.loads(out)
    assert code == 0 and again["dsn"] == made["dsn"] and again["created"] is False
    code, out, _ = run(capsys, "agent", "list", "--dsn", db, "--format", "json")
    assert code == 0 and [a["name"] for a in json.loads(out)] == ["claude-payments"]
    code, out, _ = run(capsys, "agent", "remove", "claude-payments", "--dsn", db, "--format", "json")
    assert code == 0
    with psycopg.connect(db, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'claude-payments'").fetchone() == (0,)


def test_new_password_turns_the_old_dsn_off(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        first = agents.add(conn, "rotating", admin_dsn=db)
        second = agents.add(conn, "rotating", admin_dsn=db, new_password=True)
    assert second.password_changed and second.dsn != first.dsn
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(first.dsn).close()
    psycopg.connect(second.dsn).close()


def test_merger_flag(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        login = agents.add(conn, "reviewer-bot", admin_dsn=db, merger=True)
        assert conn.execute("SELECT pggit._is_merger('reviewer-bot'), pggit._is_agent('reviewer-bot')"
                            ).fetchone() == (True, False)
        agents.add(conn, "reviewer-bot", admin_dsn=db)  # merger => false takes the right away again
        assert conn.execute("SELECT pggit._is_merger('reviewer-bot')").fetchone() == (False,)
    assert login.merger


@pytest.mark.parametrize("name", ["", "pg_evil", "has space", "x" * 64, "pggit_merger", "-dash"])
def test_bad_names_are_refused(db: str, name: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn, pytest.raises(InvalidName):
        agents.add(conn, name, admin_dsn=db)


def test_an_existing_role_is_not_turned_into_an_agent(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS app_owner")
        conn.execute("CREATE ROLE app_owner")
        with pytest.raises(Exception, match="not a pggit agent"):
            agents.add(conn, "app_owner", admin_dsn=db)
        conn.execute("DROP ROLE app_owner")


def test_only_an_admin_adds_agents(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        login = agents.add(conn, "plain-agent", admin_dsn=db)
    with psycopg.connect(login.dsn, autocommit=True) as conn, pytest.raises(PermissionDenied) as refused:
        agents.add(conn, "mallory", admin_dsn=login.dsn)
    assert "superuser" in str(refused.value)
    code, _, err = run(capsys, "agent", "add", "mallory", "--dsn", login.dsn)
    assert code == 9 and "Traceback" not in err and "superuser" in err


def test_remove_refuses_an_agent_with_branches_unless_forced(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        login = agents.add(conn, "busy-agent", admin_dsn=db)
    with psycopg.connect(login.dsn, autocommit=True) as agent:
        agent.execute("SELECT pggit.create_branch('agent/busy')")
    with psycopg.connect(db, autocommit=True) as conn:
        with pytest.raises(Exception, match="owns live branches"):
            agents.remove(conn, "busy-agent")
        removed = agents.remove(conn, "busy-agent", force=True)
        assert removed["branches_deleted"] == ["agent/busy"]
        assert conn.execute("SELECT status FROM pggit.branches WHERE name = 'agent/busy'").fetchone() == ("deleted",)


def test_an_agent_owns_its_branch_and_reads_main(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
        conn.execute("INSERT INTO users VALUES (1, 'a@example.com')")
        conn.execute("SELECT pggit.commit('users')")
        login = agents.add(conn, "reader", admin_dsn=db)
    with psycopg.connect(login.dsn, autocommit=True) as agent:
        assert agent.execute("SELECT count(*) FROM public.users").fetchone() == (1,)
        agent.execute("SELECT pggit.create_branch('agent/reader', copy_data => true)")
        agent.execute("SELECT pggit.checkout('agent/reader')")
        assert agent.execute("SELECT count(*) FROM users").fetchone() == (1,)
        owners = agent.execute(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pggit.branch_schemas bs ON bs.physical_schema = n.nspname "
            "JOIN pggit.branches b ON b.id = bs.branch_id WHERE b.name = 'agent/reader'").fetchall()
        assert owners == [("reader",)]
        agent.execute("ALTER TABLE users ADD COLUMN oauth text; UPDATE users SET oauth = 'x'")
        agent.execute("SELECT pggit.commit('oauth')")


def test_an_agent_coordinates_as_itself(db: str) -> None:
    """The seed's Python and SQL, run by the agent's own role: its own intents only."""
    from pggit_core.coordination import IntentRegistry
    from pggit_core.errors import PermissionDenied as Denied

    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
        conn.execute("SELECT pggit.commit('users')")
        conn.execute("SELECT pggit._set_database_search_path()")
        mine = agents.add(conn, "claude-auth", admin_dsn=db)
        other = agents.add(conn, "local-llm-search", admin_dsn=db)
    with psycopg.connect(mine.dsn, autocommit=True) as a, psycopg.connect(other.dsn, autocommit=True) as b:
        registry_a, registry_b = IntentRegistry(a), IntentRegistry(b)
        intent_a = registry_a.register("claude-auth", "oauth", ["ALTER TABLE users ADD COLUMN oauth text"], ["users"])
        checked = registry_a.check("claude-auth", "more", ["ALTER TABLE users ADD COLUMN more text"], ["users"])
        assert checked.conflicts  # it sees its own live intent on users
        with pytest.raises(Denied):
            registry_a.register("local-llm-search", "fake", ["ALTER TABLE users ADD COLUMN x text"], ["users"])
        intent_b = registry_b.register("local-llm-search", "prefs", ["ALTER TABLE users ADD COLUMN prefs jsonb"],
                                       ["users"])
        conflict = registry_b.get_conflicts(intent_b.id)[0]
        assert conflict.other_intent_id == intent_a.id
        registry_a.resolve_conflict(conflict.id or 0, "auth first")  # either party may
        with pytest.raises(Denied):
            registry_b.mark_in_progress(intent_a.id)
        registry_a.mark_in_progress(intent_a.id)
        # the seed's Pattern 3, as written, by the agent: its own intent moves, the other's does not
        a.execute("UPDATE pggit_agent_intents SET status = 'pending_review' WHERE branch_name = %s",
                  (intent_a.branch_name,))
        moved = b.execute("UPDATE pggit_agent_intents SET status = 'abandoned' WHERE branch_name = %s",
                          (intent_a.branch_name,))
        assert moved.rowcount == 0
        assert registry_a.get(intent_a.id).status.value == "pending_review"
        # its branch is its own: check out, change, commit, diff, log
        a.execute("SELECT pggit.checkout(%s)", (intent_a.branch_name,))
        a.execute("ALTER TABLE users ADD COLUMN oauth text")
        a.execute("SELECT pggit.commit('oauth')")
        diff = a.execute("SELECT object_key, change FROM pggit.diff('main', %s)", (intent_a.branch_name,)).fetchall()
        assert diff == [("table:public.users", "changed")]
        log = a.execute("SELECT author FROM pggit.log(%s, 1)", (intent_a.branch_name,)).fetchall()
        assert log == [("claude-auth",)]
        with pytest.raises(psycopg.Error):
            b.execute("SELECT pggit.checkout(%s)", (intent_a.branch_name,))


def test_what_an_agent_may_not_do_is_one_line_on_the_cli(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY)")
        conn.execute("SELECT pggit.commit('users')")
        login = agents.add(conn, "cli-agent", admin_dsn=db)
    for argv in (["merge", "main", "--into", "main", "--dsn", login.dsn],
                 ["branch", "delete", "main", "--dsn", login.dsn],
                 ["migrate", "generate", "--from-branch", "main", "--name", "x", "--dsn", login.dsn]):
        code, _, err = run(capsys, *argv)
        assert code != 0 and "Traceback" not in err and err.count("\n") <= 3, (argv, err)


def test_an_agent_of_two_databases_always_gets_a_working_dsn(db: str, empty_db: str) -> None:
    """Roles are per server: adding the agent in a second database changes its password; adding it again in
    the first notices and gives it a working one (the first's stored password no longer matches the role)."""
    from pggit_core import install

    with psycopg.connect(empty_db, autocommit=True) as other:
        install.install(other)
    with psycopg.connect(db, autocommit=True) as first, psycopg.connect(empty_db, autocommit=True) as second:
        one = agents.add(first, "two-homes", admin_dsn=db)
        two = agents.add(second, "two-homes", admin_dsn=empty_db)
        assert two.password_changed
        again = agents.add(first, "two-homes", admin_dsn=db)
        assert again.password_changed and again.dsn != one.dsn
        psycopg.connect(again.dsn).close()
        second.execute("SELECT pggit.remove_agent('two-homes')")
        first.execute("SELECT pggit.remove_agent('two-homes')")
