"""Tasks that change main: approve the LLM's waiting proposals, merge an intent's branch, write a migration."""

from __future__ import annotations

from prefect import task

from pggit_core import service
from pggit_core.service import MergeOutcome, MigrationOutcome, ProposalApproval
from tasks.database import dsn_of
from tasks.policy import TASK_OPTIONS


@task(name="merge-intent", **TASK_OPTIONS)
def merge_intent(dsn: str, intent_id: int, auto_resolve: bool) -> MergeOutcome:
    return service.merge_intent(dsn_of(dsn), intent_id, auto_resolve=auto_resolve)


@task(name="generate-migration", **TASK_OPTIONS)
def generate_migration(dsn: str, name: str, directory: str) -> MigrationOutcome | None:
    return service.generate_migration(dsn_of(dsn), name, directory)


@task(name="approve-proposals", **TASK_OPTIONS)
def approve_proposals(dsn: str, intent_id: int, approver: str) -> ProposalApproval:
    return service.approve_proposals(dsn_of(dsn), intent_id, approver)
