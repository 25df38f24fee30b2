"""The conflict cases table (tests/cases/intent_conflicts.json) through the real registry, both orders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pggit_core.coordination import IntentRegistry

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "cases" / "intent_conflicts.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_through_the_registry_both_orders(conn: psycopg.Connection[tuple[object, ...]],
                                               case: dict[str, Any]) -> None:
    registry = IntentRegistry(conn, create_branches=False)
    shapes = []
    for first, second in ((case["a"], case["b"]), (case["b"], case["a"])):
        one = registry.register(first["agent"], first["feature"], first["changes"], first["tables"])
        two = registry.register(second["agent"], second["feature"], second["changes"], second["tables"])
        seen_by_second = sorted([c.conflict_type.value, c.severity.value, c.affected_objects]
                                for c in registry.get_conflicts(two.id))
        seen_by_first = sorted([c.conflict_type.value, c.severity.value, c.affected_objects]
                               for c in registry.get_conflicts(one.id))
        assert seen_by_first == seen_by_second
        assert all(c.other_intent_id == one.id for c in registry.get_conflicts(two.id))
        shapes.append(seen_by_second)
        registry.abandon(one.id)
        registry.abandon(two.id)
    assert shapes[0] == shapes[1] == sorted(case["expected"])
