"""The seed's "Claude + local LLM" scenario end to end: two intents, a conflict, dependency order, one migration."""

from __future__ import annotations

from typing import Annotated, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from flows import demo, reports
from pggit_core.errors import ConflictsBlock, MergeError
from pggit_core.service import IntentView, MigrationOutcome
from tasks import intents, merging, work

ARCHITECTURE = (
    "claude-architecture",
    "auth_system",
    [
        "CREATE TABLE users (id UUID PRIMARY KEY, email TEXT UNIQUE)",
        "CREATE TABLE sessions (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
        "CREATE TABLE oauth_tokens (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
    ],
    ["users", "sessions", "oauth_tokens"],
    "high",
)
INDEXES = (
    "local-llm-indexes",
    "performance_indexes",
    [
        "CREATE INDEX idx_users_email ON users(email)",
        "CREATE INDEX idx_sessions_user ON sessions(user_id)",
    ],
    ["users", "sessions"],
    "low",
)
RESOLUTION_NOTES = "Apply architecture first, then indexes"
DEMO_DATABASE = demo.DEMO_DATABASE


class CoordinatorResult(BaseModel):
    """Where the demo left things: the two intents, the database and the migration files."""

    model_config = ConfigDict(frozen=True)

    dsn: str
    intents: tuple[IntentView, ...]
    conflicts_resolved: tuple[int, ...]
    merge_ids: tuple[int, ...]
    migration: MigrationOutcome | None


def _run_agent(target: str, intent: IntentView, statements: list[str], auto_resolve: bool, resolver: str) -> int:
    """One agent's work on its branch, then its merge into main; returns the merge id."""
    logger = get_run_logger()
    gate = intents.wait_for_gate(target, intent.id, 0, 1.0)
    if not gate.clear:
        raise ConflictsBlock(f"intent {intent.id} is still blocked by {[b.id for b in gate.blockers]}",
                             hint="the demo merges in dependency order; this should not happen")
    intents.start_work(target, intent.id)
    done = work.apply_changes(target, intent.id, statements, f"{intent.agent_id}: {intent.feature_name}")
    logger.info("%s committed %s statements on %s, connected as its own role %s", intent.agent_id,
                done.statements_applied, done.branch_name, done.role)
    preview = work.preview_merge(target, intent.id, auto_resolve)
    if preview.conflicts and resolver != "none":
        work.resolve_with_llm(target, intent.id, resolver)
    packet = work.review_packet(target, intent.id)
    create_markdown_artifact(key=reports.artifact_key(intent.id, "diff"), markdown=reports.diff_markdown(packet),
                             description=f"Diff main..{intent.branch_name}")
    merged = merging.merge_intent(target, intent.id, auto_resolve)
    if not merged.merged or merged.merge_id is None:
        intents.mark_conflicted(target, intent.id, "demo merge stopped on conflicts")
        raise MergeError(f"merging {intent.branch_name} stopped on {len(merged.conflicts)} conflicts",
                         hint="see the intent's merge artifact")
    intents.finish_intent(target, intent.id)
    logger.info("merged %s into main (merge %s)", intent.branch_name, merged.merge_id)
    return merged.merge_id


@flow(
    name="coordinator-demo",
    description="Claude designs the auth schema, a local LLM adds indexes: both register intents, the overlap is "
                "detected at registration and resolved, work happens on real branches, merges go in dependency "
                "order, and one migration is written.",
    validate_parameters=True,
    persist_result=False,
)
def coordinator(
    dsn: str | None = None,
    database: Annotated[str, Field(pattern=r"^pggit_demo[a-z0-9_]*$", max_length=63)] = DEMO_DATABASE,
    migrations_dir: Annotated[str, Field(min_length=1)] | None = None,
    resolver: Literal["none", "anthropic"] = "none",
    auto_resolve: bool = True,
) -> CoordinatorResult:
    """Run the scenario on a fresh demo database (dropped and recreated each run). The migration goes to
    ``migrations_dir``, or by default to the demo's own folder (``.pggit/demo/<database>/migrations``),
    which is emptied each run like the database it belongs to."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id()) if flow_run.get_id() else None
    target = demo.prepare_demo_database(dsn, database)

    registered = []
    for agent_id, feature, statements, tables, risk in (ARCHITECTURE, INDEXES):
        registration = intents.register_intent(target, agent_id, feature, statements, tables, risk, run_id)
        registered.append(registration)
        logger.info("registered %s", reports.intent_line(registration.intent))
    architecture, indexes = registered[0].intent, registered[1].intent

    conflicts = registered[1].conflicts
    if conflicts:
        create_table_artifact(key=reports.artifact_key(indexes.id, "conflicts"),
                              table=reports.conflict_rows(conflicts),
                              description="Overlap detected when the local LLM registered its indexes")
        for c in conflicts:
            logger.warning("%s conflict on %s: %s", c.severity, ", ".join(c.affected_objects),
                           " / ".join(c.resolution_suggestions))
    resolved = intents.acknowledge_conflicts(target, indexes.id, RESOLUTION_NOTES)

    merge_ids = (
        _run_agent(target, architecture, ARCHITECTURE[2], auto_resolve, resolver),
        _run_agent(target, indexes, INDEXES[2], auto_resolve, resolver),
    )
    out_dir = migrations_dir or demo.fresh_demo_migrations_dir(database)
    migration = merging.generate_migration(target, "auth_feature", out_dir)
    if migration is not None:
        create_markdown_artifact(key="coordinator-demo-migration", markdown=reports.migration_markdown(migration),
                                 description="The production migration of the demo")
        logger.info("migration written: %s", ", ".join(f for f in migration.files if f.endswith(".sql")))
    logger.info("the runs, their diffs, conflicts and the migration are artifacts in the Prefect UI "
                "(`prefect server start`, then http://127.0.0.1:4200)")
    final = (intents.get_intent(target, architecture.id), intents.get_intent(target, indexes.id))
    return CoordinatorResult(dsn=target, intents=final, conflicts_resolved=resolved, merge_ids=merge_ids,
                             migration=migration)
