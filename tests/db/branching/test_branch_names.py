"""Branch-name rules: one definition (pggit._branch_name_problem), the same answer on every face."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pggit_core import branching
from pggit_core.errors import InvalidName

VALID = ["agent/claude-auth-oauth2", "feature.x_1", "0day", "a/b/c-d.e_f", "x" * 100]
INVALID = [
    ("", "empty"),
    ("main", "main"),
    ("x" * 101, "longer than 100"),
    ("Agent/x", "start with"),
    ("-x", "start with"),
    ("agent x", "only lowercase"),
    ("agent/é", "only lowercase"),
    ("agent;drop", "only lowercase"),
    ("agent//x", "//"),
    ("agent/x/", "ends with"),
    ("agent/../x", ".."),
]

Conn = psycopg.Connection[Any]


def _problem(conn: Conn, name: str) -> str | None:
    row = conn.execute("SELECT pggit._branch_name_problem(%s)", (name,)).fetchone()
    assert row is not None
    return None if row[0] is None else str(row[0])


@pytest.mark.parametrize("name", VALID)
def test_valid_names_have_no_problem_and_make_branches(conn: Conn, name: str) -> None:
    assert _problem(conn, name) is None
    assert branching.create_branch(conn, name).name == name


@pytest.mark.parametrize(("name", "problem"), INVALID)
def test_invalid_names_are_refused_the_same_way_in_sql_and_python(conn: Conn, name: str, problem: str) -> None:
    reason = _problem(conn, name)
    assert reason is not None and problem in reason
    before = conn.execute("SELECT count(*) FROM pggit.branches").fetchone()
    with pytest.raises(InvalidName) as info:
        branching.create_branch(conn, name)
    assert reason in str(info.value)
    assert info.value.hint and "agent/claude-auth-oauth2" in info.value.hint
    with pytest.raises(psycopg.Error) as raw:
        conn.execute("SELECT pggit.create_branch(%s)", (name,))
    assert raw.value.sqlstate == "PGG30" and reason in (raw.value.diag.message_primary or "")
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM pggit.branches").fetchone() == before
