"""footprint: the cases table (tests/cases/footprints.json), declared vs parsed tables, keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pggit_core import errors
from pggit_core.footprint import DryRunReport, build, table_key

CASES: dict[str, Any] = json.loads((Path(__file__).parents[1] / "cases" / "footprints.json").read_text())


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["statement"][:60] for c in CASES["cases"]])
def test_footprint_case(case: dict[str, Any]) -> None:
    footprint = build([case["statement"]])
    assert sorted([o.key, o.action] for o in footprint.objects) == sorted(case["objects"])
    assert all(s.modelled for s in footprint.statements) is case["modelled"]
    unknown = any(action == "unknown" for _, action in case["objects"])
    assert any("not modelled by the parser" in w for w in footprint.warnings) is (unknown or not case["objects"])


@pytest.mark.parametrize("case", CASES["refused"], ids=[c["statement"][:40] for c in CASES["refused"]])
def test_refused_case(case: dict[str, Any]) -> None:
    cls = getattr(errors, case["error"])
    with pytest.raises(cls, match=case["message"]):
        build([case["statement"]])


def test_declared_and_parsed_tables_are_unioned_and_mismatches_reported() -> None:
    footprint = build(["ALTER TABLE users ADD COLUMN x int", "ALTER TABLE orders ADD COLUMN y int"],
                      ["users", "profiles"])
    assert footprint.tables == ("public.orders", "public.profiles", "public.users")
    assert any("tables_affected lists public.profiles" in w for w in footprint.warnings)
    assert any("modify public.orders, which tables_affected does not list" in w for w in footprint.warnings)


def test_matching_declaration_gives_no_warning() -> None:
    assert build(["ALTER TABLE users ADD COLUMN x int"], ["users"]).warnings == ()


def test_lock_keys_are_tables_or_objects() -> None:
    footprint = build(["ALTER TABLE users ADD COLUMN m mood", "DROP FUNCTION f(int)"])
    assert footprint.lock_keys == ("function:public.f", "public.users", "type:public.mood")


@pytest.mark.parametrize("bad", ["", "  ", "users; drop table x", "a.b.c", "\"users\"", "us ers"])
def test_bad_table_names_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidInput):
        table_key(bad)


def test_dry_run_report_warnings() -> None:
    footprint = build(["ALTER TABLE users ADD COLUMN x int", "DO $$ BEGIN END $$"])
    report = DryRunReport(ran=0, skipped=(1,), error='relation "users" does not exist', failed_statement=0,
                          touched=("public.users", "public.surprise"))
    warnings = report.warnings(footprint)
    assert warnings[0].startswith("dry run: statement 1 fails against the branch's current schema")
    assert any("statement(s) 2 not executed" in w for w in warnings)
    assert any("public.surprise" in w for w in warnings) and not any("public.users touched" in w for w in warnings)
