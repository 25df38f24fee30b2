"""pggit._try_statements: try statements on a branch and report the first failure (all of them run or none
does), as the merge's custom resolutions, pggit.resolve_conflict's scratch try and the proposal check use it."""

from __future__ import annotations

from typing import Any

from tests.db.engine.helpers import Conn


def try_on(conn: Conn, branch: str, *statements: str) -> tuple[Any, ...]:
    row = conn.execute("SELECT t.failed, t.state, t.message, t.hint, t.doc"
                       "  FROM pggit._try_statements(pggit._branch_id(%s), 'public', %s) AS t",
                       (branch, list(statements))).fetchone()
    assert row is not None
    return row


def test_statements_run_on_the_branch_and_return_its_document(conn: Conn) -> None:
    conn.execute(b"CREATE TABLE users (id int PRIMARY KEY)")
    conn.execute("SELECT pggit.create_branch('agent/x')")
    failed, state, message, hint, doc = try_on(conn, "agent/x", "ALTER TABLE users ADD COLUMN email text",
                                               "CREATE INDEX users_email_idx ON users (email)")
    assert (failed, state, message, hint) == (None, None, None, None)
    assert "email" in doc["objects"]["table:public.users"]["columns"]
    assert "index:public.users_email_idx" in doc["objects"]
    assert doc == conn.execute("SELECT pggit.snapshot('agent/x')").fetchone()[0]  # type: ignore[index]
    # the branch has them, main does not
    main = conn.execute("SELECT pggit.snapshot('main')").fetchone()[0]  # type: ignore[index]
    assert "email" not in main["objects"]["table:public.users"]["columns"]


def test_the_first_failure_is_reported_and_nothing_remains(conn: Conn) -> None:
    conn.execute(b"CREATE TABLE users (id int PRIMARY KEY)")
    conn.execute("SELECT pggit.create_branch('agent/x')")
    before = conn.execute("SELECT pggit.snapshot('agent/x')").fetchone()
    failed, state, message, hint, doc = try_on(conn, "agent/x", "ALTER TABLE users ADD COLUMN email text",
                                               "ALTER TABLE nope ADD COLUMN a int",
                                               "ALTER TABLE users ADD COLUMN b int")
    assert (failed, state, doc) == (2, "42P01", None)
    assert message == 'relation "nope" does not exist' and hint is None
    assert conn.execute("SELECT pggit.snapshot('agent/x')").fetchone() == before
    failed, state, message, hint, _ = try_on(conn, "agent/x", "DO $$ BEGIN RAISE EXCEPTION USING "
                                             "MESSAGE = 'no', HINT = 'try again', ERRCODE = 'PGG60'; END $$")
    assert (failed, state, message, hint) == (1, "PGG60", "no", "try again")


def test_nothing_to_try(conn: Conn) -> None:
    conn.execute("SELECT pggit.create_branch('agent/x')")
    failed, _, _, _, doc = try_on(conn, "agent/x")
    assert failed is None and doc == conn.execute("SELECT pggit.snapshot('agent/x')").fetchone()[0]  # type: ignore[index]
