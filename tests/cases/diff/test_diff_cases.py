"""Diff acceptance cases as data: <case>/before.sql (main), after.sql (changes made on a branch),
expected.sql (the SQL diff renders). For each case: the rendered SQL equals expected.sql, applying it
to main reaches the branch's schema (re-diff empty), and the reverse diff applied to the branch takes
it back (re-diff empty). Set PGGIT_REGEN_CASES=1 to rewrite expected.sql files (then review them)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pggit_core import branching, catalog
from pggit_core.diff import diff

CASES = Path(__file__).parent
Conn = psycopg.Connection[tuple[Any, ...]]


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "before.sql").is_file())


def _apply(conn: Conn, branch: str, statements: list[str]) -> None:
    """Run a diff's statements on a branch, in one transaction, as an applier would."""
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    try:
        with conn.transaction():
            conn.execute("SET LOCAL check_function_bodies = off")
            for statement in statements:
                conn.execute(statement.encode())
    finally:
        conn.execute("SELECT pggit.checkout('main')")


def test_there_are_enough_cases() -> None:
    assert len(_cases()) >= 10


@pytest.mark.parametrize("case", _cases())
def test_diff_case(conn: Conn, case: str) -> None:
    folder = CASES / case
    conn.execute((folder / "before.sql").read_text().encode())
    branching.create_branch(conn, "case/before")
    branching.create_branch(conn, "case/after")
    conn.execute("SELECT pggit.checkout('case/after')")
    conn.execute((folder / "after.sql").read_text().encode())
    conn.execute("SELECT pggit.checkout('main')")

    forward = diff(conn, "main", "case/after")
    assert not forward.is_empty
    expected_file = folder / "expected.sql"
    if os.environ.get("PGGIT_REGEN_CASES") == "1":
        expected_file.write_text(forward.sql())
    assert forward.sql() == expected_file.read_text()

    _apply(conn, "main", forward.statements)
    assert diff(conn, "main", "case/after").is_empty
    assert catalog.read_snapshot(conn).same_schema(catalog.read_snapshot(conn, "case/after"))

    backward = diff(conn, "case/after", "case/before")
    _apply(conn, "case/after", backward.statements)
    assert diff(conn, "case/after", "case/before").is_empty
