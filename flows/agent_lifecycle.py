"""One agent's change as a flow: register, conflict gate, branch work, LLM resolution, review, merge, migration."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.schemas.objects import FlowRun, State
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.logging.loggers import flow_run_logger
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from flows import reports
from pggit_core import service
from pggit_core.errors import ConflictsBlock, MergeError
from pggit_core.service import WaitingProposal
from tasks import database, intents, merging, work

AgentId = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                               description="Who is changing the schema, e.g. claude-payments.")]
FeatureName = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                                   description="What the change is for, e.g. stripe_integration.")]
Statement = Annotated[str, Field(min_length=1, pattern=r"\S", description="One SQL statement.")]
TableName = Annotated[str, Field(min_length=1, max_length=127, pattern=r"^[A-Za-z_][A-Za-z0-9_$.]*$")]

GATE_POLL_SECONDS = 1.0


class ReviewDecision(RunInput):
    """A reviewer's answer to the review pause (the form in the Prefect UI)."""

    approved: bool = Field(description="Merge the change into main?")
    comment: str = Field(default="", max_length=2000, description="Why; required in spirit when rejecting.")
    reviewer: str = Field(default="reviewer", min_length=1, max_length=100, description="Who decided.")


class LifecycleResult(BaseModel):
    """How an agent's change ended: merged (with its migration) or rejected in review."""

    model_config = ConfigDict(frozen=True)

    intent_id: int
    branch_name: str
    outcome: Literal["merged", "rejected"]
    flow_run_id: str | None
    merge_id: int | None = None
    migration_files: tuple[str, ...] = ()
    review_comment: str = ""


class ReviewTimedOut(RuntimeError):
    """Nobody answered the review pause in time."""


def _failure_text(state: State[Any]) -> str:
    """The exception that ended the run when the state still holds it (else the state's message)."""
    try:
        outcome = state.result(raise_on_failure=False)
    except Exception as exc:  # the result could not be loaded: the state's message says why the run ended
        return state.message or f"no message ({type(exc).__name__} reading the result)"
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}"
    return state.message or "no message"


def settle_intent_of_failed_run(flow: Any, flow_run: FlowRun, state: State[Any]) -> None:
    """Failure/crash hook: intents the run left live are marked merged when their branch was merged, kept
    when they wait on merge conflicts or an approved merge, and abandoned (branch dropped) otherwise.
    (The parameters are named as in Prefect's FlowStateHook protocol.)"""
    dsn = database.dsn_of(database.resolve_target(flow_run.parameters.get("dsn")))
    reason = f"flow run {flow_run.name} ({flow_run.id}) ended {state.type.value}: {_failure_text(state)}"
    for intent in service.settle_failed_run(dsn, str(flow_run.id), reason):
        flow_run_logger(flow_run).warning("intent %s is now %s: %s", intent.id, intent.status, reason)


def _review_poll_seconds(review_timeout: int) -> int:
    return max(1, min(10, review_timeout // 10))


@flow(
    name="agent-change",
    description="One agent's schema change: register the intent, wait for conflicting intents, run the DDL on "
                "the intent's branch and commit, optionally let an LLM resolve merge conflicts, pause for "
                "review, merge into main, write the migration.",
    on_failure=[settle_intent_of_failed_run],
    on_crashed=[settle_intent_of_failed_run],
    validate_parameters=True,
    persist_result=False,
)
def agent_change_flow(
    agent_id: AgentId,
    feature_name: FeatureName,
    schema_changes: Annotated[list[Statement], Field(min_length=1, max_length=500)],
    tables_affected: Annotated[list[TableName], Field(max_length=500)] | None = None,
    risk_level: Literal["low", "medium", "high", "critical"] = "medium",
    auto_resolve: bool = False,
    require_review: bool = True,
    resolver: Literal["none", "anthropic"] = "none",
    dsn: str | None = None,
    gate_mode: Literal["wait", "fail_fast"] = "wait",
    gate_timeout: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 3600,
    review_timeout: Annotated[int, Field(ge=1, le=30 * 24 * 3600)] = 24 * 3600,
    migrations_dir: Annotated[str, Field(min_length=1)] = "db/migrations",
) -> LifecycleResult:
    """Drive one agent's change from intent to migration; parameters are validated before anything runs."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id()) if flow_run.get_id() else None
    target = intents.resolve_database(dsn)

    registration = intents.register_intent(target, agent_id, feature_name, list(schema_changes),
                                           list(tables_affected or []), risk_level, run_id)
    intent = registration.intent
    logger.info("registered %s", reports.intent_line(intent))
    if registration.conflicts:
        create_table_artifact(
            key=reports.artifact_key(intent.id, "conflicts"),
            table=reports.conflict_rows(registration.conflicts),
            description=f"Conflicts found when intent {intent.id} ({agent_id}/{feature_name}) was registered",
        )

    gate = intents.wait_for_gate(target, intent.id, 0 if gate_mode == "fail_fast" else gate_timeout,
                                 GATE_POLL_SECONDS)
    if not gate.clear:
        names = ", ".join(f"{b.id} ({b.agent_id}/{b.feature_name}, {b.status})" for b in gate.blockers)
        waited = "" if gate_mode == "fail_fast" else f" after waiting {gate_timeout} s"
        raise ConflictsBlock(
            f"intent {intent.id} conflicts with earlier intents that are not merged yet{waited}: {names}",
            hint="merge or abandon those intents, or resolve the conflicts, then run this flow again "
                 "(this intent is abandoned so it blocks nobody)",
        )

    intents.start_work(target, intent.id)
    work_done = work.apply_changes(target, intent.id, list(schema_changes), f"{agent_id}: {feature_name}")
    logger.info("committed %s statements on %s as role %s", work_done.statements_applied, work_done.branch_name,
                work_done.role)

    preview = work.preview_merge(target, intent.id, auto_resolve)
    waiting: tuple[WaitingProposal, ...] = ()
    if preview.conflicts and resolver != "none":
        resolution = work.resolve_with_llm(target, intent.id, resolver)
        logger.info("LLM resolution: applied %s, waiting for a human %s%s", list(resolution.applied),
                    list(resolution.awaiting_human),
                    f" ({resolution.unavailable_reason})" if resolution.unavailable_reason else "")
        if resolution.awaiting_human:
            waiting = work.waiting_proposals(target, intent.id)

    packet = work.review_packet(target, intent.id)
    create_markdown_artifact(key=reports.artifact_key(intent.id, "diff"), markdown=reports.diff_markdown(packet),
                             description=f"Diff main..{intent.branch_name}")
    if packet.merge_conflicts:
        create_table_artifact(key=reports.artifact_key(intent.id, "merge-conflicts"),
                              table=reports.merge_conflict_rows(packet.merge_conflicts),
                              description=f"Merge conflicts of {intent.branch_name} into main")
    if waiting:
        create_markdown_artifact(key=reports.artifact_key(intent.id, "proposals"),
                                 markdown=reports.proposals_markdown(waiting),
                                 description=f"LLM proposals for intent {intent.id} waiting for the review")

    comment = ""
    if require_review:
        intents.mark_pending_review(target, intent.id)
        try:
            decision = pause_flow_run(
                wait_for_input=ReviewDecision.with_initial_data(
                    description=reports.review_markdown(packet)
                    + ("\n\n" + reports.proposals_markdown(waiting) if waiting else ""), approved=False),
                timeout=review_timeout,
                poll_interval=_review_poll_seconds(review_timeout),
                key=f"review-intent-{intent.id}",
            )
        except FlowPauseTimeout as exc:
            intents.abandon_intent(target, intent.id, f"review timed out: no decision within {review_timeout} s")
            raise ReviewTimedOut(
                f"no review decision for intent {intent.id} within {review_timeout} s: the intent was abandoned "
                f"and its branch {intent.branch_name} dropped; run the flow again to retry"
            ) from exc
        comment = decision.comment
        if not decision.approved:
            intents.abandon_intent(target, intent.id,
                                   f"review rejected by {decision.reviewer}: {decision.comment or 'no comment'}")
            logger.info("review rejected intent %s: %s", intent.id, decision.comment)
            return LifecycleResult(intent_id=intent.id, branch_name=intent.branch_name, outcome="rejected",
                                   flow_run_id=run_id, review_comment=comment)
        intents.record_approval(target, intent.id, decision.reviewer, decision.comment)
        if waiting:  # the reviewer saw these proposals in the pause: approving the change approves them
            approval = merging.approve_proposals(target, intent.id, decision.reviewer)
            logger.info("%s approved the LLM proposals of conflicts %s%s", decision.reviewer, list(approval.applied),
                        "".join(f"; conflict {o.conflict_id} stays open: {o.reason}" for o in approval.refused))

    merged = merging.merge_intent(target, intent.id, auto_resolve)
    create_markdown_artifact(key=reports.artifact_key(intent.id, "merge"),
                             markdown=reports.merge_markdown(intent, merged),
                             description=f"Merge of {intent.branch_name} into main")
    if not merged.merged:
        intents.mark_conflicted(target, intent.id, f"merge into main stopped on {len(merged.conflicts)} conflicts")
        raise MergeError(
            f"merging {intent.branch_name} into main stopped on {len(merged.conflicts)} conflicts; main is unchanged",
            hint="resolve them (pggit conflicts / pggit resolve), then the nightly merge or a re-run merges it",
        )

    intents.finish_intent(target, intent.id)  # merged: from here on a failure leaves the intent merged
    migration = merging.generate_migration(target, feature_name, migrations_dir)
    if migration is not None:
        create_markdown_artifact(key=reports.artifact_key(intent.id, "migration"),
                                 markdown=reports.migration_markdown(migration),
                                 description=f"Migration for intent {intent.id}")
        logger.info("migration written: %s", ", ".join(f for f in migration.files if f.endswith(".sql")))
    return LifecycleResult(
        intent_id=intent.id, branch_name=intent.branch_name, outcome="merged", flow_run_id=run_id,
        merge_id=merged.merge_id, migration_files=migration.files if migration is not None else (),
        review_comment=comment,
    )
