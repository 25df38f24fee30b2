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
    Intent,
    IntentConflict,
    IntentStatus,
    Partition,
    Party,
    RiskLevel,
    Settlement,
    TableLock,
    against,
    between,
    blockers,
    blocking_conflicts,
    creates,
    dependency_order,
    lock_conflicts,
    partition_conflicts,
    settle,
    uses,
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


# ---------------------------------------------------------------------------------------------- intent rules


def _intent(intent_id: int, changes: list[str], tables: list[str],
            status: IntentStatus = IntentStatus.REGISTERED) -> Intent:
    return Intent(id=intent_id, agent_id=f"agent-{intent_id}", feature_name=f"f{intent_id}", description="",
                  branch_name=f"agent/agent-{intent_id}/f{intent_id}", status=status, risk_level=RiskLevel.LOW,
                  schema_changes=changes, tables_affected=tables, footprint=build(changes, tables).as_json(),
                  footprint_warnings=[], created_at=NOW, updated_at=NOW)


def _conflict(conflict_id: int, me: int, other: int, severity: ConflictSeverity,
              reviewed: bool = False) -> IntentConflict:
    return IntentConflict(id=conflict_id, intent_id=me, other_intent_id=other, conflict_type=ConflictType.TABLE,
                          severity=severity, affected_objects=["orders"], resolution_suggestions=["x"],
                          reviewed=reviewed)


ORDERS = _intent(1, ["CREATE TABLE orders (id bigint, user_id bigint)"], ["orders"])
INDEX = _intent(2, ["CREATE INDEX idx_orders_user ON orders (user_id)"], ["orders"])
COLUMN = _intent(3, ["ALTER TABLE orders ADD COLUMN note text"], ["orders"])
NOTES = _intent(4, ["CREATE TABLE notes (id bigint)"], ["notes"])


def test_creates_and_uses_read_the_footprint() -> None:
    assert "table:public.orders" in creates(ORDERS) and "public.orders" in creates(ORDERS)
    assert "public.orders" in uses(INDEX) and not creates(INDEX) & {"public.orders"}
    assert "index:public.idx_orders_user" in creates(INDEX)


def test_the_gate_waits_for_an_earlier_creator_and_for_errors_not_for_warnings() -> None:
    warning = [_conflict(10, 2, 1, ConflictSeverity.WARNING)]
    assert blockers(INDEX, warning, {1: ORDERS}) == [ORDERS]  # it uses what intent 1 creates
    assert blockers(COLUMN, [_conflict(11, 3, 2, ConflictSeverity.WARNING)], {2: INDEX}) == []  # parallel work
    assert blockers(COLUMN, [_conflict(12, 3, 2, ConflictSeverity.ERROR, reviewed=True)], {2: INDEX}) == [INDEX]
    merged = ORDERS.model_copy(update={"status": IntentStatus.MERGED})
    assert blockers(INDEX, warning, {1: merged}) == []
    # a later intent never blocks an earlier one
    assert blockers(ORDERS, [_conflict(13, 1, 2, ConflictSeverity.ERROR)], {}) == []


def test_blocking_conflicts_are_unreviewed_with_earlier_live_intents() -> None:
    unreviewed = [_conflict(20, 3, 1, ConflictSeverity.WARNING), _conflict(21, 3, 2, ConflictSeverity.ERROR),
                  _conflict(22, 3, 4, ConflictSeverity.ERROR)]
    abandoned = INDEX.model_copy(update={"status": IntentStatus.ABANDONED})
    assert blocking_conflicts(COLUMN, unreviewed, {1: ORDERS, 2: abandoned}) == [20]


def test_dependency_order_puts_creators_first_else_registration_order() -> None:
    assert [i.id for i in dependency_order([INDEX, ORDERS, NOTES])] == [1, 2, 4]
    assert [i.id for i in dependency_order([NOTES, COLUMN])] == [3, 4]
    late_table = _intent(5, ["CREATE TABLE audit (id bigint)"], ["audit"])
    uses_late = _intent(4, ["CREATE INDEX idx_audit ON audit (id)"], ["audit"])
    assert [i.id for i in dependency_order([uses_late, late_table])] == [5, 4]


@pytest.mark.parametrize(("status", "head_merged", "approved", "expected"), [
    (IntentStatus.MERGED, False, False, Settlement.SETTLED),
    (IntentStatus.ABANDONED, True, False, Settlement.SETTLED),
    (IntentStatus.CONFLICTED, True, False, Settlement.KEEP),
    (IntentStatus.IN_PROGRESS, True, False, Settlement.MERGED),
    (IntentStatus.COMPLETED, False, True, Settlement.KEEP),
    (IntentStatus.COMPLETED, False, False, Settlement.ABANDON),
    (IntentStatus.PENDING_REVIEW, False, True, Settlement.ABANDON),
    (IntentStatus.REGISTERED, False, False, Settlement.ABANDON),
])
def test_what_becomes_of_the_intents_of_a_failed_run(status: IntentStatus, head_merged: bool, approved: bool,
                                                      expected: Settlement) -> None:
    intent = ORDERS.model_copy(update={"status": status})
    assert settle(intent, head_merged=head_merged, approved=approved) is expected
