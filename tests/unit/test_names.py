"""Branch name rules (the same as sql/branching.sql) and the quoting helper."""

from __future__ import annotations

import pytest
from psycopg import sql

from pggit_core.errors import InvalidName
from pggit_core.names import branch_name_problem, ident, validate_branch_name


@pytest.mark.parametrize("name", ["agent/claude-auth-oauth2", "feature.x_1", "0day", "a/b/c-d.e_f", "x" * 100])
def test_valid(name: str) -> None:
    assert validate_branch_name(name) == name
    assert branch_name_problem(name) is None


@pytest.mark.parametrize(("name", "problem"), [
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
])
def test_invalid(name: str, problem: str) -> None:
    reason = branch_name_problem(name)
    assert reason is not None and problem in reason
    with pytest.raises(InvalidName) as info:
        validate_branch_name(name)
    assert problem in str(info.value)
    assert info.value.hint and "agent/claude-auth-oauth2" in info.value.hint


def test_ident_is_an_identifier() -> None:
    assert ident("pggit_b_x", "users") == sql.Identifier("pggit_b_x", "users")
