"""The pure parts of proposal validation: statement policy, destructive drops and the field-level three-way check."""

from __future__ import annotations

from typing import Any

import pytest

from pggit_core import proposal_check as pc


def col(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "default": None, "not_null": False, "identity": None, "generated": None,
            "collation": None, "comment": None, **extra}


def table(**columns: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "table", "schema": "public", "name": "users", "comment": None, "deps": [], "grants": [],
            "columns": columns, "persistence": "permanent", "rls_enabled": False, "rls_forced": False,
            "partition_key": None, "partition_of": None, "partition_bound": None}


BASE = table(id=col("integer", not_null=True), email=col("text"))
OURS = table(id=col("integer", not_null=True), email=col("text"), oauth_provider=col("text"))
THEIRS = table(id=col("integer", not_null=True), email=col("text"), search_preferences=col("jsonb"))
BOTH = table(id=col("integer", not_null=True), email=col("text"), oauth_provider=col("text"),
             search_preferences=col("jsonb"))


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


def test_three_way_accepts_both_additions() -> None:
    assert pc.three_way(BASE, OURS, THEIRS, BOTH) == ([], [])


def test_three_way_names_the_lost_intent() -> None:
    problems, _ = pc.three_way(BASE, OURS, THEIRS, OURS)
    assert any(p.startswith("columns.search_preferences") and "theirs" in p for p in problems)


def test_three_way_refuses_changes_nobody_asked_for() -> None:
    result = table(id=col("integer", not_null=True), email=col("text", not_null=True), oauth_provider=col("text"),
                   search_preferences=col("jsonb"))
    problems, _ = pc.three_way(BASE, OURS, THEIRS, result)
    assert problems == ["columns.email.not_null: both sides have false, the proposal leaves true"]


def test_three_way_both_changed_needs_a_human_or_fails_when_lossy() -> None:
    ours = table(id=col("bigint", not_null=True), email=col("text"))
    theirs = table(id=col("numeric(12,0)", not_null=True), email=col("text"))
    keep_ours = table(id=col("bigint", not_null=True), email=col("text"))
    problems, notes = pc.three_way(BASE, ours, theirs, keep_ours)
    assert problems == [] and "keeps ours" in notes[0]
    narrowed = table(id=col("smallint", not_null=True), email=col("text"))
    problems, _ = pc.three_way(BASE, ours, theirs, narrowed)
    assert "narrows or converts" in problems[0]
    gone = table(email=col("text"))
    problems, _ = pc.three_way(BASE, ours, theirs, gone)
    assert problems == ["columns.id: both sides have present, the proposal leaves absent"]


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


def test_values_at_conflict_paths() -> None:
    objects = {"table:public.users": BOTH}
    assert pc.value_at(objects, {"key": "table:public.users", "column": "email"}) == col("text")
    assert pc.value_at(objects, {"key": "table:public.users", "field": "rls_enabled"}) is False
    assert pc.value_at(objects, {"key": "table:public.users"}) == BOTH
    assert pc.value_at(objects, {"key": "table:public.nope"}) is None
    rest = pc.without_paths(BOTH, [{"key": "table:public.users", "column": "email"}])
    assert "email" not in rest["columns"] and "deps" not in rest


def test_three_way_on_a_column_path_with_scalars_and_absence() -> None:
    # both_added_columns: ours added a, theirs added b (per path: one side has it)
    assert pc.three_way(None, col("text"), None, col("text"), "a") == ([], [])
    problems, _ = pc.three_way(None, None, col("jsonb"), None, "b")
    assert problems == ["b: <object>: theirs (the source) changed it to present, the proposal leaves absent"]
    # a table-level field
    assert pc.three_way(False, True, False, True, "rls") == ([], [])
