"""Tasks on an intent's branch: run and commit the agent's DDL, show the review packet, LLM resolution."""

from __future__ import annotations

from prefect import task

from pggit_core import service
from pggit_core.service import MergeOutcome, ResolutionOutcome, ReviewPacket, WaitingProposal, WorkResult
from tasks.database import dsn_of
from tasks.policy import TASK_OPTIONS


@task(name="apply-changes-on-branch", **TASK_OPTIONS)
def apply_changes(dsn: str, intent_id: int, statements: list[str], message: str) -> WorkResult:
    return service.apply_changes(dsn_of(dsn), intent_id, statements, message)


@task(name="review-packet", **TASK_OPTIONS)
def review_packet(dsn: str, intent_id: int) -> ReviewPacket:
    return service.review_packet(dsn_of(dsn), intent_id)


@task(name="preview-merge", **TASK_OPTIONS)
def preview_merge(dsn: str, intent_id: int, auto_resolve: bool) -> MergeOutcome:
    return service.preview_merge(dsn_of(dsn), intent_id, auto_resolve=auto_resolve)


@task(name="resolve-conflicts-with-llm", **TASK_OPTIONS)
def resolve_with_llm(dsn: str, intent_id: int, resolver: str, auto_apply_errors: bool = False) -> ResolutionOutcome:
    return service.resolve_with_llm(dsn_of(dsn), intent_id, resolver, auto_apply_errors=auto_apply_errors)


@task(name="waiting-proposals", **TASK_OPTIONS)
def waiting_proposals(dsn: str, intent_id: int) -> tuple[WaitingProposal, ...]:
    return service.waiting_proposals(dsn_of(dsn), intent_id)
