"""The pure parts of proposal validation: statement policy and destructive drops (the field-level three-way check
is the engine's: tests/db/engine/test_engine_three_way.py)."""

from __future__ import annotations

import pytest

from pggit_core import proposal_check as pc


@pytest.mark.parametrize("text, expected", [
    ("INSERT INTO users VALUES (1)", "only CREATE, ALTER, DROP and COMMENT"),
    ("DO $$ BEGIN PERFORM 1; END $$", "only CREATE, ALTER, DROP and COMMENT"),
    ("GRANT ALL ON users TO PUBLIC", "only CREATE, ALTER, DROP and COMMENT"),
    ("CREATE ROLE intruder", "outside a schema conflict"),
    ("CREATE EXTENSION hstore", "outside a schema conflict"),
    ("SELECT pg_terminate_backend(1)", "not a schema change"),
    ("ALTER TABLE users ADD COLUMN", "does not parse"),
    ("ALTER TABLE pggit.conflicts ADD COLUMN x int", "names schema pggit"),
    ("ALTER TABLE users ADD COLUMN x int; DROP TABLE users", "holds 2 statements"),
    ("CREATE TABLE x AS SELECT pg_terminate_backend(1)", "runs a query"),
    ("CREATE TABLE x (a) AS SELECT 1", "runs a query"),
    ("CREATE TABLE x AS TABLE users", "runs a query"),
    ("CREATE MATERIALIZED VIEW mv AS SELECT 1 WITH NO DATA", "runs a query"),
])
def test_statements_outside_the_policy_are_refused(text: str, expected: str) -> None:
    _, problems = pc.parse_statements([text])
    assert len(problems) == 1 and expected in problems[0]


def test_plain_ddl_passes_the_statement_policy() -> None:
    parsed, problems = pc.parse_statements([
        "ALTER TABLE users ADD COLUMN search_preferences jsonb",
        "CREATE INDEX users_prefs_idx ON users USING gin (search_preferences)",
        "COMMENT ON COLUMN users.search_preferences IS 'per-user search settings'",
        "CREATE TABLE prefs (id integer PRIMARY KEY, user_id integer REFERENCES users)",
        "CREATE TABLE prefs_copy (LIKE prefs)",
        "CREATE VIEW active_users AS SELECT id FROM users",
    ])
    assert problems == [] and [s.command for s in parsed][0] == "ALTER TABLE"


def test_join_script_splits_back_the_same() -> None:
    texts = ["ALTER TABLE users ADD COLUMN a text", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$"]
    assert pc.join_script(texts).count(";\n") == 1


def test_drop_column_is_destructive_unless_a_side_dropped_it() -> None:
    parsed, _ = pc.parse_statements(["ALTER TABLE users DROP COLUMN email"])
    problems, _ = pc.destructive_statements(parsed, set())
    assert problems and "drops column users.email" in problems[0]
    problems, _ = pc.destructive_statements(parsed, {("table:public.users", "email")})
    assert problems == []


def test_drop_table_and_cascade_are_destructive_but_index_rebuilds_are_not() -> None:
    parsed, _ = pc.parse_statements(["DROP TABLE users CASCADE"])
    problems, _ = pc.destructive_statements(parsed, {("table:public.users", "")})
    assert "with CASCADE" in problems[0]
    parsed, _ = pc.parse_statements(["DROP TABLE users"])
    assert pc.destructive_statements(parsed, {("table:public.users", "")}) == ([], [])
    parsed, _ = pc.parse_statements(["DROP INDEX users_email_idx",
                                     "CREATE INDEX users_email_idx ON users (lower(email))"])
    assert pc.destructive_statements(parsed, set()) == ([], [])


def test_retyping_a_column_twice_is_flagged() -> None:
    parsed, _ = pc.parse_statements(["ALTER TABLE users ALTER COLUMN email TYPE varchar(5)",
                                     "ALTER TABLE users ALTER COLUMN email TYPE text"])
    problems, notes = pc.destructive_statements(parsed, set())
    assert problems == [] and "changes type 2 times" in notes[0]
