"""Fixtures of the LLM resolution tests: real merge conflicts on a real database."""

from __future__ import annotations

import pytest

from tests.db.resolution.llm_fakes import Conn, merge, register_intent, run_on


@pytest.fixture
def users(conn: Conn) -> Conn:
    """main with a committed `users` table, and two agent branches made from it."""
    conn.execute("CREATE TABLE users (id integer PRIMARY KEY, email text)")
    conn.execute("SELECT pggit.commit('users')")
    conn.execute("SELECT pggit.create_branch('agent/auth', 'main')")
    conn.execute("SELECT pggit.create_branch('agent/search', 'main')")
    register_intent(conn, "claude-auth", "oauth_support", "remember which OAuth provider a user signed in with",
                    "agent/auth", "ALTER TABLE users ADD COLUMN oauth_provider text")
    register_intent(conn, "local-llm-search", "search_prefs", "store search preferences per user",
                    "agent/search", "ALTER TABLE users ADD COLUMN search_preferences jsonb")
    return conn


@pytest.fixture
def warning_conflict(users: Conn) -> int:
    """Both agents added a different column to users (WARNING, both_added_columns); auth is merged first."""
    run_on(users, "agent/auth", "ALTER TABLE users ADD COLUMN oauth_provider text")
    assert merge(users, "agent/auth")["result"] == "merged"
    run_on(users, "agent/search", "ALTER TABLE users ADD COLUMN search_preferences jsonb")
    result = merge(users, "agent/search")
    assert result["result"] == "conflicts", result
    (conflict,) = result["conflicts"]
    assert conflict["severity"] == "WARNING"
    return int(conflict["id"])


@pytest.fixture
def error_conflict(users: Conn) -> int:
    """Both agents changed users.email: auth made it NOT NULL, search widened it to varchar(320) (ERROR)."""
    run_on(users, "agent/auth", "ALTER TABLE users ALTER COLUMN email SET NOT NULL")
    assert merge(users, "agent/auth")["result"] == "merged"
    run_on(users, "agent/search", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    result = merge(users, "agent/search")
    assert result["result"] == "conflicts", result
    (conflict,) = result["conflicts"]
    assert conflict["severity"] == "ERROR" and conflict["conflict_type"] == "COLUMN"
    return int(conflict["id"])
