"""Tasks of the cleanup flow: intents whose flow run is gone, leaked branches, and the Prefect run states."""

from __future__ import annotations

from uuid import UUID

from prefect import task
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from pydantic import BaseModel, ConfigDict

from pggit_core import service
from pggit_core.service import IntentView
from tasks.database import dsn_of
from tasks.policy import TASK_OPTIONS

# Flow run states in which the run may still act on its intent.
ACTIVE_STATE_TYPES = frozenset({"SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"})


@task(name="intents-with-flow-runs", **TASK_OPTIONS)
def intents_with_flow_runs(dsn: str) -> tuple[IntentView, ...]:
    return service.intents_with_flow_runs(dsn_of(dsn))


class RunStatus(BaseModel):
    """A flow run as the cleanup needs it: its state type and whether it asked for a review."""

    model_config = ConfigDict(frozen=True)

    state: str
    require_review: bool

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATE_TYPES


@task(name="read-flow-run-states", retries=3, retry_delay_seconds=[0.5, 1.0, 2.0], persist_result=False)
def flow_run_states(flow_run_ids: list[str]) -> dict[str, RunStatus]:
    """The state of each flow run (`MISSING` when the server does not know it; then a review is assumed)."""
    states: dict[str, RunStatus] = {}
    with get_client(sync_client=True) as client:
        for run_id in flow_run_ids:
            try:
                run = client.read_flow_run(UUID(run_id))
            except (ObjectNotFound, ValueError):
                states[run_id] = RunStatus(state="MISSING", require_review=True)
                continue
            states[run_id] = RunStatus(
                state=run.state.type.value if run.state is not None else "MISSING",
                require_review=bool(run.parameters.get("require_review", True)),
            )
    return states


@task(name="leaked-branches", **TASK_OPTIONS)
def leaked_branches(dsn: str) -> tuple[str, ...]:
    return service.leaked_branches(dsn_of(dsn))


@task(name="drop-branch", **TASK_OPTIONS)
def drop_branch(dsn: str, branch_name: str) -> str:
    return service.drop_branch(dsn_of(dsn), branch_name)
