"""How an agent launches its change as a flow run: `run_deployment` with an idempotency key.

    from deployments.launch import launch_agent_change
    run = launch_agent_change("claude-payments", "stripe_integration",
                              ["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"])
    print(run.id, run.state_name)

The key defaults to a hash of the agent, the feature and the statements, so launching the same change twice
(a retried HTTP call, a restarted agent) returns the first run instead of registering the intent again.
Pass `key` to choose it yourself (e.g. the agent's task id). Needs `PREFECT_API_URL` pointing
at the server that runs `pggit serve`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

AGENT_CHANGE_DEPLOYMENT = "agent-change/agent-change"


def idempotency_key(agent_id: str, feature_name: str, schema_changes: Sequence[str]) -> str:
    """The default key: stable for the same agent, feature and statements."""
    payload = json.dumps([agent_id, feature_name, list(schema_changes)], separators=(",", ":"))
    return "pggit-agent-change-" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def launch_agent_change(
    agent_id: str,
    feature_name: str,
    schema_changes: Sequence[str],
    *,
    tables_affected: Sequence[str] = (),
    risk_level: str = "medium",
    require_review: bool = True,
    auto_resolve: bool = False,
    key: str | None = None,
    wait_seconds: float = 0,
    deployment: str = AGENT_CHANGE_DEPLOYMENT,
    **parameters: Any,
) -> FlowRun:
    """Create (or find, for the same key) the flow run of one agent change; returns at once by default."""
    params: dict[str, Any] = {
        "agent_id": agent_id,
        "feature_name": feature_name,
        "schema_changes": list(schema_changes),
        "tables_affected": list(tables_affected),
        "risk_level": risk_level,
        "require_review": require_review,
        "auto_resolve": auto_resolve,
        **parameters,
    }
    chosen = key or idempotency_key(agent_id, feature_name, schema_changes)
    run = run_deployment(deployment, parameters=params, idempotency_key=chosen, timeout=wait_seconds)
    assert isinstance(run, FlowRun)  # run_deployment is sync-compatible: called from sync code it returns the run
    return run
