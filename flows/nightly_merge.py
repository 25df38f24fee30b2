"""The nightly merge (the seed's pipeline 4): merge every completed intent without open conflicts, one migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, ConfigDict, Field

from flows import reports
from tasks import intents, merging

NIGHTLY_SUMMARY_KEY = "nightly-merge-summary"


class NightlyEntry(BaseModel):
    """What the nightly merge did with one completed intent."""

    model_config = ConfigDict(frozen=True)

    intent_id: int
    agent_id: str
    feature_name: str
    branch_name: str
    outcome: Literal["merged", "conflicted", "skipped"]
    detail: str


class NightlyResult(BaseModel):
    """The nightly merge's report: per intent, and the one combined migration (if anything merged)."""

    model_config = ConfigDict(frozen=True)

    entries: tuple[NightlyEntry, ...]
    migration_files: tuple[str, ...] = ()

    def with_outcome(self, outcome: str) -> tuple[NightlyEntry, ...]:
        return tuple(e for e in self.entries if e.outcome == outcome)


@flow(
    name="nightly-merge",
    description="Merge every completed intent without unresolved conflicts into main in dependency order, mark "
                "the ones whose merge conflicts, delete merged branches, write one combined migration.",
    validate_parameters=True,
    persist_result=False,
)
def nightly_merge(
    dsn: str | None = None,
    auto_resolve: bool = True,
    migrations_dir: Annotated[str, Field(min_length=1)] = "db/migrations",
    migration_name: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_]+$")] = None,
) -> NightlyResult:
    """Merge what is ready, report what is not."""
    logger = get_run_logger()
    target = intents.resolve_database(dsn)
    plan = intents.nightly_plan(target)
    entries: list[NightlyEntry] = []
    merge_ids: list[int] = []
    for intent in plan.ready:
        blockers = intents.blocking_conflicts(target, intent.id)
        base: dict[str, Any] = {"intent_id": intent.id, "agent_id": intent.agent_id,
                                "feature_name": intent.feature_name, "branch_name": intent.branch_name}
        if blockers:
            entries.append(NightlyEntry(**base, outcome="skipped",
                                        detail=f"unresolved conflicts with live intents: {list(blockers)}"))
            continue
        outcome = merging.merge_intent(target, intent.id, auto_resolve)
        if outcome.merged:
            intents.finish_intent(target, intent.id)
            if outcome.merge_id is not None:
                merge_ids.append(outcome.merge_id)
            entries.append(NightlyEntry(**base, outcome="merged",
                                        detail=f"merge {outcome.merge_id}, {outcome.statements_applied} statements"))
        else:
            intents.mark_conflicted(target, intent.id,
                                    f"nightly merge stopped on {len(outcome.conflicts)} merge conflicts")
            keys = ", ".join(c.object_key for c in outcome.conflicts)
            entries.append(NightlyEntry(**base, outcome="conflicted", detail=f"merge conflicts on {keys}"))

    files: tuple[str, ...] = ()
    if merge_ids:
        name = migration_name or f"agent_changes_{datetime.now(UTC):%Y%m%d}"
        migration = merging.generate_migration(target, name, migrations_dir)
        if migration is not None:
            files = migration.files
            create_markdown_artifact(key="nightly-merge-migration", markdown=reports.migration_markdown(migration),
                                     description="The combined migration of tonight's merges")
    result = NightlyResult(entries=tuple(entries), migration_files=files)
    create_table_artifact(
        key=NIGHTLY_SUMMARY_KEY,
        table=[e.model_dump() for e in result.entries] or [{"outcome": "nothing to merge"}],
        description=f"Nightly merge: {len(result.with_outcome('merged'))} merged, "
                    f"{len(result.with_outcome('conflicted'))} conflicted, "
                    f"{len(result.with_outcome('skipped'))} skipped; migration: {', '.join(files) or 'none'}",
    )
    logger.info("nightly merge: %s merged, %s conflicted, %s skipped", len(result.with_outcome("merged")),
                len(result.with_outcome("conflicted")), len(result.with_outcome("skipped")))
    return result
