"""Serve every pggit deployment from one process: the agent lifecycle, the nightly merge, cleanup, the demo."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.agent_lifecycle import agent_change_flow
from flows.cleanup import cleanup
from flows.coordinator import coordinator
from flows.nightly_merge import nightly_merge

AGENT_CHANGE = "agent-change/agent-change"
NIGHTLY_CRON = "0 2 * * *"
CLEANUP_CRON = "*/30 * * * *"


def deployments(nightly_cron: str = NIGHTLY_CRON, cleanup_cron: str = CLEANUP_CRON) -> list[RunnerDeployment]:
    """The deployments, named as in deployments/prefect.yaml (the lifecycle gets its form from the signature)."""
    return [
        agent_change_flow.to_deployment(
            name="agent-change", tags=["pggit", "agents"],
            description="Launch one agent's schema change (register, gate, branch, review, merge, migration).",
        ),
        nightly_merge.to_deployment(
            name="nightly-merge", cron=nightly_cron, tags=["pggit", "scheduled"],
            description="Merge every completed intent without open conflicts; one combined migration.",
        ),
        cleanup.to_deployment(
            name="cleanup", cron=cleanup_cron, tags=["pggit", "scheduled"],
            description="Resume or abandon intents of crashed runs; drop leaked branches.",
        ),
        coordinator.to_deployment(
            name="coordinator-demo", tags=["pggit", "demo"],
            description="The Claude + local LLM scenario on a fresh demo database.",
        ),
    ]


def main(limit: int | None = None, nightly_cron: str = NIGHTLY_CRON, cleanup_cron: str = CLEANUP_CRON) -> None:
    """Block serving the deployments until interrupted (Ctrl-C)."""
    serve(*deployments(nightly_cron, cleanup_cron), limit=limit)


if __name__ == "__main__":
    main()
