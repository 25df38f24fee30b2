"""intents: the conflict cases table (tests/cases/intent_conflicts.json) in both registration orders,
locks and partitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pggit_core.conflicts import ConflictSeverity
from pggit_core.footprint import build
from pggit_core.intents import (
    ConflictType,
    Finding,
    Partition,
    Party,
    TableLock,
    against,
    between,
    lock_conflicts,
    partition_conflicts,
)

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "cases" / "intent_conflicts.json").read_text())["cases"]


def _party(side: dict[str, Any], intent_id: int | None) -> Party:
    return Party(side["agent"], side["feature"], build(side["changes"], side["tables"]).objects, intent_id)


def _shape(findings: list[Finding]) -> list[list[Any]]:
    return sorted([str(f.conflict_type), str(f.severity), list(f.affected_objects)] for f in findings)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_conflict_case_both_orders(case: dict[str, Any]) -> None:
    a_first = between(_party(case["b"], 2), _party(case["a"], 1))
    b_first = between(_party(case["a"], 2), _party(case["b"], 1))
    expected = sorted(case["expected"])
    assert _shape(a_first) == expected
    assert _shape(b_first) == expected
    for findings in (a_first, b_first):
        for f in findings:
            assert f.resolution_suggestions, f
            if "first" in case and f.conflict_type in {ConflictType.DEPENDENCY, ConflictType.RENAME}:
                # Directional conflicts put the same intent first whichever registered first.
                for s in f.resolution_suggestions:
                    if "apply sequentially: " in s:
                        assert s.split("apply sequentially: ", 1)[1].startswith(case["first"] + " ("), s


def test_seed_suggestion_names_the_other_agent() -> None:
    case = CASES[0]
    [finding] = between(_party(case["b"], 2), _party(case["a"], 1))
    assert finding.resolution_suggestions[0] == ("Coordinate with claude-auth agent, consider sequential "
                                                 "application")
    assert finding.resolution_suggestions[1] == ("apply sequentially: claude-auth (oauth_support) first, then "
                                                 "local-llm-search (search_prefs)")


def test_against_skips_itself_and_orders_by_intent() -> None:
    me = _party(CASES[0]["b"], 5)
    others = [_party(CASES[0]["a"], 3), _party(CASES[0]["b"], 5), _party(CASES[0]["a"], 1)]
    found = against(me, others)
    assert [f.other.intent_id for f in found if f.other] == [1, 3]


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_lock_of_another_agent_is_an_error_naming_the_owner() -> None:
    me = _party(CASES[0]["b"], None)
    locks = [TableLock("users", "claude-123", NOW, NOW + timedelta(hours=1), "migrating")]
    [finding] = lock_conflicts(me, locks, NOW)
    assert finding.conflict_type is ConflictType.LOCK and finding.severity is ConflictSeverity.ERROR
    assert finding.owner == "claude-123" and "locked by claude-123" in finding.resolution_suggestions[0]


def test_own_and_expired_locks_do_not_conflict() -> None:
    me = _party(CASES[0]["b"], None)
    assert lock_conflicts(me, [TableLock("users", "local-llm-search", NOW, None)], NOW) == []
    assert lock_conflicts(me, [TableLock("public.users", "x", NOW, NOW - timedelta(seconds=1))], NOW) == []
    assert len(lock_conflicts(me, [TableLock("public.users", "x", NOW, None)], NOW)) == 1


def test_partition_of_another_agent_type_conflicts() -> None:
    partitions = [Partition("auth-agent", ("users", "sessions", "oauth_tokens"), ("auth",)),
                  Partition("search-agent", ("search_index", "search_logs"), ("search",))]
    me = Party("local-llm-search", "prefs", build(["ALTER TABLE users ADD COLUMN p JSONB",
                                                   "CREATE TABLE auth.keys (id int)"]).objects)
    [finding] = partition_conflicts(me, "search-agent", partitions)
    assert finding.conflict_type is ConflictType.PARTITION and finding.owner == "auth-agent"
    assert finding.affected_objects == ("auth.keys", "users")
    assert partition_conflicts(me, "auth-agent", partitions) == []
