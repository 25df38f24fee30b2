"""Tasks over an intent's lifecycle: register, gate, status changes, abandon (each calls one service function)."""

from __future__ import annotations

from prefect import task

from pggit_core import service
from pggit_core.service import GateReport, IntentView, NightlyPlan, Registration
from tasks import database
from tasks.database import dsn_of
from tasks.policy import TASK_OPTIONS


@task(name="resolve-database", **TASK_OPTIONS)
def resolve_database(dsn: str | None) -> str:
    return database.resolve_target(dsn)


@task(name="register-intent", **TASK_OPTIONS)
def register_intent(
    dsn: str,
    agent_id: str,
    feature_name: str,
    schema_changes: list[str],
    tables_affected: list[str],
    risk_level: str,
    flow_run_id: str | None,
) -> Registration:
    return service.register_intent(dsn_of(dsn), agent_id, feature_name, schema_changes, tables_affected, risk_level,
                                   flow_run_id=flow_run_id)


@task(name="resolve-intent-conflicts", **TASK_OPTIONS)
def acknowledge_conflicts(dsn: str, intent_id: int, notes: str) -> tuple[int, ...]:
    return service.acknowledge_conflicts(dsn_of(dsn), intent_id, notes)


@task(name="wait-for-conflict-gate", **TASK_OPTIONS)
def wait_for_gate(dsn: str, intent_id: int, timeout_seconds: float, poll_seconds: float) -> GateReport:
    return service.wait_for_gate(dsn_of(dsn), intent_id, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds)


@task(name="start-work", **TASK_OPTIONS)
def start_work(dsn: str, intent_id: int) -> IntentView:
    return service.start_work(dsn_of(dsn), intent_id)


@task(name="mark-pending-review", **TASK_OPTIONS)
def mark_pending_review(dsn: str, intent_id: int) -> IntentView:
    return service.mark_pending_review(dsn_of(dsn), intent_id)


@task(name="record-approval", **TASK_OPTIONS)
def record_approval(dsn: str, intent_id: int, reviewer: str, comment: str) -> IntentView:
    return service.record_approval(dsn_of(dsn), intent_id, reviewer, comment)


@task(name="mark-conflicted", **TASK_OPTIONS)
def mark_conflicted(dsn: str, intent_id: int, reason: str) -> IntentView:
    return service.mark_conflicted(dsn_of(dsn), intent_id, reason)


@task(name="abandon-intent", **TASK_OPTIONS)
def abandon_intent(dsn: str, intent_id: int, reason: str) -> IntentView:
    return service.abandon_intent(dsn_of(dsn), intent_id, reason)


@task(name="finish-intent", **TASK_OPTIONS)
def finish_intent(dsn: str, intent_id: int) -> IntentView:
    return service.finish_intent(dsn_of(dsn), intent_id)


@task(name="get-intent", **TASK_OPTIONS)
def get_intent(dsn: str, intent_id: int) -> IntentView:
    return service.get_intent(dsn_of(dsn), intent_id)


@task(name="plan-nightly-merge", **TASK_OPTIONS)
def nightly_plan(dsn: str) -> NightlyPlan:
    return service.nightly_plan(dsn_of(dsn))


@task(name="blocking-conflicts", **TASK_OPTIONS)
def blocking_conflicts(dsn: str, intent_id: int) -> tuple[int, ...]:
    return service.blocking_conflicts(dsn_of(dsn), intent_id)
