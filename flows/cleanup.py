"""Cleanup: intents whose flow run crashed or ended are resumed or abandoned; leaked branches are dropped."""

from __future__ import annotations

from typing import Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, ConfigDict

from tasks import intents, maintenance, merging

CLEANUP_SUMMARY_KEY = "cleanup-summary"


class CleanupAction(BaseModel):
    """One thing the cleanup did."""

    model_config = ConfigDict(frozen=True)

    subject: str
    action: Literal["resumed", "abandoned", "dropped-branch", "kept"]
    detail: str


class CleanupResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    actions: tuple[CleanupAction, ...]


@flow(
    name="cleanup",
    description="Find intents whose Prefect flow run is no longer active: merge the completed ones (resume), "
                "abandon the rest and drop their branches; drop branches of merged or abandoned intents.",
    validate_parameters=True,
    persist_result=False,
)
def cleanup(dsn: str | None = None, auto_resolve: bool = True) -> CleanupResult:
    """Resume or abandon orphaned intents, then drop leaked branches."""
    logger = get_run_logger()
    target = intents.resolve_database(dsn)
    live = maintenance.intents_with_flow_runs(target)
    runs = maintenance.flow_run_states([i.flow_run_id for i in live if i.flow_run_id])
    missing = maintenance.RunStatus(state="MISSING", require_review=True)
    actions: list[CleanupAction] = []
    for intent in live:
        run = runs.get(intent.flow_run_id or "", missing)
        state = run.state
        subject = f"intent {intent.id} ({intent.agent_id}/{intent.feature_name})"
        if run.active:
            continue
        if intent.status == "conflicted":
            actions.append(CleanupAction(subject=subject, action="kept",
                                         detail=f"run {state}; waits for its merge conflicts to be resolved"))
            continue
        if intent.status == "completed" and (intent.approved or not run.require_review):
            outcome = merging.merge_intent(target, intent.id, auto_resolve)
            if outcome.merged:
                intents.finish_intent(target, intent.id)
                actions.append(CleanupAction(subject=subject, action="resumed",
                                             detail=f"run {state}; merged its committed work (merge "
                                                    f"{outcome.merge_id})"))
            else:
                intents.mark_conflicted(target, intent.id, f"cleanup: merge after run {state} stopped on conflicts")
                actions.append(CleanupAction(subject=subject, action="kept",
                                             detail=f"run {state}; merge conflicts, marked conflicted"))
            continue
        intents.abandon_intent(target, intent.id, f"cleanup: its flow run {intent.flow_run_id} is {state}")
        actions.append(CleanupAction(subject=subject, action="abandoned",
                                     detail=f"run {state} while the intent was {intent.status}; branch dropped"))
    for branch in maintenance.leaked_branches(target):
        maintenance.drop_branch(target, branch)
        actions.append(CleanupAction(subject=f"branch {branch}", action="dropped-branch",
                                     detail="its intent is merged or abandoned"))
    result = CleanupResult(actions=tuple(actions))
    create_table_artifact(key=CLEANUP_SUMMARY_KEY,
                          table=[a.model_dump() for a in result.actions] or [{"action": "nothing to clean"}],
                          description="What the cleanup flow did")
    logger.info("cleanup: %s", ", ".join(f"{a.action} {a.subject}" for a in result.actions) or "nothing to do")
    return result
