"""Bad input to create/delete: clear errors with our codes, and nothing half-created."""

from __future__ import annotations

import psycopg
import pytest

from pggit_core import branching, errors
from tests.db.branching.helpers import Conn, run_on, snapshot


def _leftovers(conn: Conn) -> tuple[int, int, int]:
    schemas = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pggit_b_%'").fetchone()
    rows = conn.execute("SELECT count(*) FROM pggit.branches WHERE name <> 'main'").fetchone()
    commits = conn.execute("SELECT count(*) FROM pggit.commits").fetchone()
    assert schemas and rows and commits
    return int(schemas[0]), int(rows[0]), int(commits[0])


@pytest.mark.parametrize("name", ["", "main", "Agent/x", "agent x", "agent//x", "agent/x/", "/agent", "-x",
                                  "agent/é", "a" * 101, "agent/../x", "agent;drop"])
def test_invalid_names_are_refused_by_python_and_sql(conn: Conn, name: str) -> None:
    with pytest.raises(errors.InvalidName):
        branching.create_branch(conn, name)
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT pggit.create_branch(%s)", (name,))
    assert info.value.sqlstate == "PGG30"
    assert _leftovers(conn) == (0, 0, 0)


@pytest.mark.parametrize("name", ["agent/claude-auth-oauth2", "feature.x_1", "0day", "a/b/c-d.e_f"])
def test_valid_names(conn: Conn, name: str) -> None:
    assert branching.create_branch(conn, name).name == name


def test_duplicate_and_unknown_parent(conn: Conn) -> None:
    branching.create_branch(conn, "agent/x")
    with pytest.raises(errors.AlreadyExists, match="already exists"):
        branching.create_branch(conn, "agent/x")
    with pytest.raises(errors.NotFound, match="does not exist") as info:
        branching.create_branch(conn, "agent/y", "agent/nope")
    assert info.value.hint and "list_branches" in info.value.hint
    with pytest.raises(errors.InvalidInput):
        branching.create_branch(conn, "agent/z", row_limit=5)
    with pytest.raises(psycopg.Error) as raw:
        conn.execute("SELECT pggit.create_branch('agent/z', copy_data => true, row_limit => -1)")
    assert raw.value.sqlstate == "PGG61"


def test_failed_create_leaves_nothing_behind(kitchen: Conn) -> None:
    # a materialized view that cannot be refreshed with main's rows: the copy fails after its schema,
    # objects and rows were made; the whole call must roll back
    kitchen.execute("CREATE TABLE ratios (a int, b int)")
    kitchen.execute("INSERT INTO ratios VALUES (1, 0)")
    kitchen.execute("CREATE MATERIALIZED VIEW quotients AS SELECT a / b AS q FROM ratios WITH NO DATA")
    before = _leftovers(kitchen)
    with pytest.raises(psycopg.errors.DivisionByZero):
        branching.create_branch(kitchen, "agent/broken", copy_data=True)
    assert _leftovers(kitchen) == before
    # without data the same branch can be made
    branching.create_branch(kitchen, "agent/broken")
    assert snapshot(kitchen, "agent/broken") == snapshot(kitchen)


def test_delete_refusals(kitchen: Conn, connect: object) -> None:
    with pytest.raises(errors.BranchError, match="main cannot be deleted"):
        branching.delete_branch(kitchen, "main")
    with pytest.raises(errors.NotFound):
        branching.delete_branch(kitchen, "agent/none")

    branching.create_branch(kitchen, "agent/dirty")
    run_on(kitchen, "agent/dirty", "ALTER TABLE users ADD COLUMN x int")
    with pytest.raises(errors.BranchError, match="uncommitted") as info:
        branching.delete_branch(kitchen, "agent/dirty")
    assert info.value.hint and "force => true" in info.value.hint

    branching.create_branch(kitchen, "agent/unmerged")
    run_on(kitchen, "agent/unmerged", "ALTER TABLE users ADD COLUMN y int")
    kitchen.execute("SELECT pggit.checkout('agent/unmerged')")
    kitchen.execute("SELECT pggit.commit('add y')")
    kitchen.execute("SELECT pggit.checkout('main')")
    with pytest.raises(errors.BranchError, match="not merged") as info2:
        branching.delete_branch(kitchen, "agent/unmerged")
    assert info2.value.hint and "force => true" in info2.value.hint

    branching.create_branch(kitchen, "agent/busy")
    assert callable(connect)
    other = connect()
    other.execute("SELECT pggit.checkout('agent/busy')")
    with pytest.raises(errors.BranchError, match="checked out"):
        branching.delete_branch(kitchen, "agent/busy", force=True)
    other.execute("SELECT pggit.checkout('main')")

    for name in ("agent/dirty", "agent/unmerged", "agent/busy"):
        branching.delete_branch(kitchen, name, force=True)
    assert [b.name for b in branching.list_branches(kitchen)] == ["main"]
    assert _leftovers(kitchen)[0] == 0


def test_clean_branch_deletes_without_force(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/clean")
    branching.delete_branch(kitchen, "agent/clean")
    status = kitchen.execute("SELECT status, deleted_at IS NOT NULL FROM pggit.branches WHERE name = 'agent/clean'")
    assert status.fetchone() == ("deleted", True)


def test_merged_branch_deletes_without_force(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/done")
    kitchen.execute("SELECT pggit.checkout('agent/done')")
    kitchen.execute("ALTER TABLE users ADD COLUMN merged_col int")
    kitchen.execute("SELECT pggit.commit('add merged_col')")
    kitchen.execute("SELECT pggit.checkout('main')")
    with pytest.raises(errors.BranchError, match="not merged"):
        branching.delete_branch(kitchen, "agent/done")
    kitchen.execute("SELECT pggit.merge('agent/done', 'main')")
    assert "merged_col" in snapshot(kitchen)["objects"]["table:public.users"]["columns"]
    branching.delete_branch(kitchen, "agent/done")
    assert [b.name for b in branching.list_branches(kitchen)] == ["main"]
