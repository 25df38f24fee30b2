"""Serve every pggit deployment from one process: the agent lifecycle, the nightly merge, cleanup, the demo.

    python -m deployments.serve [--limit N] [--nightly-cron CRON] [--cleanup-cron CRON]

Run from the repository root (`pggit serve` starts it there), with PREFECT_API_URL set to a server that stays up.
"""

from __future__ import annotations

import argparse

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.agent_lifecycle import agent_change_flow
from flows.cleanup import cleanup
from flows.coordinator import coordinator
from flows.nightly_merge import nightly_merge

NIGHTLY_CRON = "0 2 * * *"
CLEANUP_CRON = "*/30 * * * *"


def deployments(nightly_cron: str = NIGHTLY_CRON, cleanup_cron: str = CLEANUP_CRON) -> list[RunnerDeployment]:
    """The deployments, named as in deployments/prefect.yaml (the lifecycle gets its form from the signature)."""
    built = [
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
    return [_built(d) for d in built]


def _built(deployment: object) -> RunnerDeployment:
    """to_deployment is sync-compatible: called from sync code it returns the deployment, not a coroutine."""
    assert isinstance(deployment, RunnerDeployment), deployment
    return deployment


def main(limit: int | None = None, nightly_cron: str = NIGHTLY_CRON, cleanup_cron: str = CLEANUP_CRON) -> None:
    """Block serving the deployments until interrupted (Ctrl-C)."""
    serve(*deployments(nightly_cron, cleanup_cron), limit=limit)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deployments.serve", description="Serve the pggit deployments.")
    parser.add_argument("--limit", type=int, default=None, help="most flow runs at once (default: no limit)")
    parser.add_argument("--nightly-cron", default=NIGHTLY_CRON, help="when the nightly merge runs (cron, UTC)")
    parser.add_argument("--cleanup-cron", default=CLEANUP_CRON, help="when the cleanup runs (cron, UTC)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    main(limit=options.limit, nightly_cron=options.nightly_cron, cleanup_cron=options.cleanup_cron)
