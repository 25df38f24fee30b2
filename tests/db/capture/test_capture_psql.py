"""The seed's psql usage, run as written through psql (a subprocess) and through psycopg."""

from __future__ import annotations

import subprocess

import psycopg

from tests.db.capture.helpers import columns, physical_schema

PSQL = "/usr/bin/psql"

SEED = """\
SELECT pggit.create_branch('agent/claude-auth');
SELECT pggit.checkout('agent/claude-auth');
ALTER TABLE users ADD COLUMN oauth_provider TEXT;
CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT);
SELECT pggit.commit('oauth support for users');
SELECT * FROM pggit.log('agent/claude-auth');
"""


def psql(dsn: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-d", dsn, *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def check_seed_result(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        schema = physical_schema(conn, "agent/claude-auth")
        assert "oauth_provider" in columns(conn, schema, "users")
        assert "oauth_provider" not in columns(conn, "public", "users")
        assert conn.execute("SELECT to_regclass('public.oauth_tokens')").fetchone() == (None,)
        rows = conn.execute("SELECT message, statements FROM pggit.log('agent/claude-auth')").fetchall()
        messages = [r[0] for r in rows]
        assert messages[0] == "oauth support for users"
        assert rows[0][1] == ["ALTER TABLE users ADD COLUMN oauth_provider TEXT",
                              "CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT)"]


def test_seed_through_psql_script(main_db: str) -> None:
    done = psql(main_db, "-f", "-", stdin=SEED)
    assert done.returncode == 0, done.stderr
    assert "oauth support for users" in done.stdout
    check_seed_result(main_db)


def test_seed_through_psql_one_command_string(main_db: str) -> None:
    # psql -c sends the whole string as one query: one transaction, one current_query(). Its DDL statements
    # are what is recorded (the pggit calls and the SELECT around them are not schema changes).
    one_line = SEED.replace("\n", " ").strip()
    done = psql(main_db, "-c", one_line)
    assert done.returncode == 0, done.stderr
    assert "oauth support for users" in done.stdout
    with psycopg.connect(main_db, autocommit=True) as conn:
        statements = conn.execute("SELECT statements FROM pggit.log('agent/claude-auth', 1)").fetchone()
    assert statements == (["ALTER TABLE users ADD COLUMN oauth_provider TEXT;\n"
                           "CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT)"],)


def test_seed_through_psycopg(main_db: str) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        for statement in SEED.splitlines():
            conn.execute(statement.encode())
    check_seed_result(main_db)


def test_psql_guard_names_the_branch(main_db: str) -> None:
    done = psql(main_db, "-c", "SELECT pggit.create_branch('agent/claude-auth')")
    assert done.returncode == 0, done.stderr
    done = psql(main_db, "-f", "-", stdin="SELECT pggit.checkout('agent/claude-auth');\n"
                                           "ALTER TABLE public.users ADD COLUMN oauth_provider TEXT;\n")
    assert done.returncode == 3
    assert "checked out to branch 'agent/claude-auth'" in done.stderr
    assert "SELECT pggit.checkout('main')" in done.stderr
    with psycopg.connect(main_db, autocommit=True) as conn:
        assert columns(conn, "public", "users") == ["id", "email"]
