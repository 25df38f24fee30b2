"""The deployments: names and schedules as served, and the agents' launch helper (idempotent run_deployment)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client

from deployments import launch, serve

pytestmark = pytest.mark.flows

REPO = Path(__file__).resolve().parents[2]


def test_served_deployments_match_prefect_yaml() -> None:
    served = {d.name: d for d in serve.deployments()}
    spec = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text())
    declared = {d["name"]: d for d in spec["deployments"]}
    assert set(served) == set(declared) == {"agent-change", "nightly-merge", "cleanup", "coordinator-demo"}
    for entry in declared.values():
        path, _, function = entry["entrypoint"].partition(":")
        assert (REPO / path).is_file() and f"def {function}(" in (REPO / path).read_text()
    assert [s["cron"] for s in declared["nightly-merge"]["schedules"]] == [serve.NIGHTLY_CRON]
    assert [s["cron"] for s in declared["cleanup"]["schedules"]] == [serve.CLEANUP_CRON]
    assert [s.schedule.cron for s in served["nightly-merge"].schedules] == [serve.NIGHTLY_CRON]


def test_a_retried_launch_returns_the_same_flow_run() -> None:
    agent_change = next(d for d in serve.deployments() if d.name == "agent-change")
    agent_change.apply()
    with get_client(sync_client=True) as client:
        form = client.read_deployment_by_name("agent-change/agent-change").parameter_openapi_schema
    assert {"agent_id", "feature_name", "schema_changes"} <= set(form["required"])
    assert form["properties"]["risk_level"]["enum"] == ["low", "medium", "high", "critical"]
    first = launch.launch_agent_change("claude-payments", "stripe_integration",
                                       ["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"])
    again = launch.launch_agent_change("claude-payments", "stripe_integration",
                                       ["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"])
    other = launch.launch_agent_change("claude-payments", "stripe_integration",
                                       ["ALTER TABLE users ADD COLUMN stripe_customer TEXT"], tables_affected=["users"])
    chosen = launch.launch_agent_change("claude-payments", "stripe_integration",
                                        ["ALTER TABLE users ADD COLUMN stripe_id TEXT"], key="agent-task-42")
    assert first.id == again.id
    assert other.id != first.id and chosen.id not in (first.id, other.id)
    assert first.parameters["schema_changes"] == ["ALTER TABLE users ADD COLUMN stripe_id TEXT"]
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(first.id)
    assert run.idempotency_key == launch.idempotency_key(
        "claude-payments", "stripe_integration", ["ALTER TABLE users ADD COLUMN stripe_id TEXT"])
