"""statements: splitting, parsing into touches, refusing what is not a schema change, UNKNOWN for the rest."""

from __future__ import annotations

import pytest

from pggit_core.errors import InvalidSQL
from pggit_core.statements import Action, Kind, parse, parse_one, split


def test_split_respects_quotes_and_dollar_quotes() -> None:
    text = ("CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN x; END $$; "
            "DO $b$ BEGIN UPDATE users SET a = ';'; END $b$; ALTER TABLE users ADD COLUMN \"a;b\" int;")
    parts = split(text)
    assert len(parts) == 3
    assert parts[0].endswith("END $$") and parts[2] == 'ALTER TABLE users ADD COLUMN "a;b" int'


def test_one_entry_with_two_statements_gives_two() -> None:
    statements = parse(["ALTER TABLE users ADD COLUMN x TEXT; DROP TABLE users"])
    assert [s.command for s in statements] == ["ALTER TABLE", "DROP TABLE"]
    assert [s.index for s in statements] == [0, 1]


def test_unquoted_names_fold_to_lower_case_quoted_names_keep_case() -> None:
    touches = parse_one('ALTER TABLE Public.USERS ADD COLUMN "Nick" text').touches
    assert {(t.kind, t.schema, t.name, t.table) for t in touches} == {
        (Kind.TABLE, "public", "users", None), (Kind.COLUMN, "public", "Nick", "users")}


def test_unmodelled_statements_are_unknown_on_the_tables_they_name() -> None:
    statement = parse_one("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    assert not statement.modelled and not statement.executable
    assert [(t.kind, t.name, t.action) for t in statement.touches] == [(Kind.TABLE, "users", Action.UNKNOWN)]


def test_do_block_body_is_searched_for_tables() -> None:
    statement = parse_one("DO $$ BEGIN INSERT INTO audit.events SELECT * FROM users; END $$")
    assert {(t.schema, t.name) for t in statement.touches} == {("audit", "events"), ("public", "users")}
    assert all(t.action is Action.UNKNOWN for t in statement.touches)


def test_only_plain_ddl_is_executable_in_a_dry_run() -> None:
    assert parse_one("ALTER TABLE users ADD COLUMN x int").executable
    assert not parse_one("DO $$ BEGIN END $$").executable
    assert not parse_one("INSERT INTO users (id) VALUES (1)").executable
    assert not parse_one("CREATE TABLE copy AS SELECT * FROM users").executable
    assert not parse_one("CREATE MATERIALIZED VIEW mv AS SELECT 1").executable
    assert parse_one("CREATE VIEW v AS SELECT 1").executable
    assert not parse_one("CREATE INDEX CONCURRENTLY i ON users (email)").executable
    assert not parse_one("DROP INDEX CONCURRENTLY i").executable


@pytest.mark.parametrize("text", ["ALTER TABLE users ADD COLUMN", "CREATE TABLE t (a int", "ALTER TABL users",
                                  "SELECT 1", "VACUUM users", "COPY users TO PROGRAM 'id'", "$$", "   "])
def test_refused_with_invalid_sql(text: str) -> None:
    with pytest.raises(InvalidSQL) as info:
        parse([text])
    assert info.value.hint


def test_parse_error_carries_the_parsers_position() -> None:
    with pytest.raises(InvalidSQL, match=r"line 1, column 21: Expecting \)"):
        parse(["CREATE TABLE t (a int"])
