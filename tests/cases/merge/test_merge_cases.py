"""Merge cases as data: each folder holds base.sql, ours.sql, theirs.sql (changes on top of base),
case.toml (the expected conflicts) and optionally merged.sql (changes on top of base giving the
expected merged schema). Each case runs both ways (ours and theirs swapped): the same conflicts up to
labels and, when the merge is clean or auto-resolvable, the same merged document."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

CASES = Path(__file__).parent
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.toml").is_file())

Conn = psycopg.Connection[tuple[Any, ...]]


def build_doc(conn: Conn, label: str, *scripts: str) -> dict[str, Any]:
    """The snapshot document of a scratch branch (made by hand) after running the scripts in it."""
    schema = f"case_{label}"
    name = f"case/{label}"
    with conn.transaction():
        conn.execute("SELECT pggit._op_begin(0, 'install')")  # a document builder: nothing of it is captured
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        row = conn.execute("INSERT INTO pggit.branches (name) VALUES (%s) RETURNING id", (name,)).fetchone()
        assert row is not None
        conn.execute("INSERT INTO pggit.branch_schemas VALUES (%s, 'public', %s)", (row[0], schema))
        conn.execute("SELECT set_config('search_path', %s, true)", (schema,))
        for script in scripts:
            if script.strip():
                conn.execute(script.encode())
    got = conn.execute("SELECT pggit.snapshot(%s)", (name,)).fetchone()
    assert got is not None
    doc: dict[str, Any] = got[0]
    return doc


def merge3(conn: Conn, base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute("SELECT pggit._merge3(%s::jsonb, %s::jsonb, %s::jsonb)",
                       (json.dumps(base), json.dumps(ours), json.dumps(theirs))).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def strip(conn: Conn, doc: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute("SELECT pggit._comparable_doc(%s::jsonb)", (json.dumps(doc),)).fetchone()
    assert row is not None
    stripped: dict[str, Any] = row[0]
    return stripped


def path_label(path: dict[str, str]) -> str:
    if "column" in path:
        return f"{path['key']}#{path['column']}"
    if "field" in path:
        return f"{path['key']}@{path['field']}"
    return path["key"]


def conflict_shape(conflict: dict[str, Any]) -> tuple[str, str, bool, tuple[str, ...]]:
    """A conflict up to labels: type, severity, auto-resolvable, the paths it is about."""
    return (conflict["conflict_type"], conflict["severity"], bool(conflict["auto_resolvable"]),
            tuple(sorted(path_label(p) for p in conflict["paths"])))


def expected_shapes(case: dict[str, Any]) -> list[tuple[str, str, bool, tuple[str, ...]]]:
    return sorted((c["type"], c["severity"], bool(c["auto"]), tuple(sorted(c["paths"])))
                  for c in case.get("conflicts", []))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_merge_case(conn: Conn, name: str) -> None:
    folder = CASES / name
    case = tomllib.loads((folder / "case.toml").read_text())
    base_sql = (folder / "base.sql").read_text()
    base = build_doc(conn, "base", base_sql)
    ours = build_doc(conn, "ours", base_sql, (folder / "ours.sql").read_text())
    theirs = build_doc(conn, "theirs", base_sql, (folder / "theirs.sql").read_text())
    expected_merged = None
    if (folder / "merged.sql").is_file():
        expected_merged = strip(conn, build_doc(conn, "merged", base_sql, (folder / "merged.sql").read_text()))

    for swapped in (False, True):
        o, t = (theirs, ours) if swapped else (ours, theirs)
        result = merge3(conn, base, o, t)
        shapes = sorted(conflict_shape(c) for c in result["conflicts"])
        assert shapes == expected_shapes(case), f"{name} (swapped={swapped}): {result['conflicts']}"
        for conflict in result["conflicts"]:
            assert conflict["advice"], conflict
        if expected_merged is not None and (not swapped or case.get("merged_both_ways", False)):
            assert strip(conn, result["merged"]) == expected_merged, f"{name} (swapped={swapped})"
        if not result["conflicts"]:
            # a clean merge changes ours exactly where theirs changed the base
            changed = {c["key"] for c in result["changes"]}
            assert changed <= set(t["objects"]) | set(base["objects"])


def run_on(conn: Conn, branch: str, script: str) -> None:
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    try:
        if script.strip():
            conn.execute(script.encode())
    finally:
        conn.execute("SELECT pggit.checkout('main')")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_merge_case_applied(conn: Conn, name: str) -> None:
    """The same case through pggit.merge on real branches (theirs = a branch, ours = main, auto-resolve):
    either main becomes the expected merged schema, or the expected conflicts stop it unchanged."""
    folder = CASES / name
    case = tomllib.loads((folder / "case.toml").read_text())
    base_sql = (folder / "base.sql").read_text()
    conn.execute(base_sql.encode())
    conn.execute("SELECT pggit.create_branch('agent/theirs')")
    run_on(conn, "agent/theirs", (folder / "theirs.sql").read_text())
    conn.execute((folder / "ours.sql").read_text().encode())
    before = conn.execute("SELECT pggit._comparable_doc(pggit.snapshot('main'))").fetchone()
    result = conn.execute("SELECT pggit.merge('agent/theirs', 'main', auto_resolve => true)").fetchone()
    assert result is not None and before is not None
    outcome: dict[str, Any] = result[0]
    blocking = [c for c in case.get("conflicts", []) if not c["auto"]]
    after = conn.execute("SELECT pggit._comparable_doc(pggit.snapshot('main'))").fetchone()
    assert after is not None
    if blocking:
        assert outcome["result"] == "conflicts", outcome
        assert sorted(c["conflict_type"] for c in outcome["conflicts"]) == sorted(c["type"] for c in blocking)
        assert after[0] == before[0]
    else:
        assert outcome["result"] in ("merged", "noop"), outcome  # noop: main already had theirs' change
        if (folder / "merged.sql").is_file():
            expected = strip(conn, build_doc(conn, "merged", base_sql, (folder / "merged.sql").read_text()))
            assert after[0] == expected
