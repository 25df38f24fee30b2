"""The composition the flows call (one thin task each): a call opens its own connection, works through the
faces (PgGitClient, IntentRegistry, MigrationGenerator) and the store, decides with the intent rules of
pggit_core/intents.py, and returns plain frozen pydantic values, the tasks' boundary types. It takes a DSN
(tasks/database.py turns Prefect blocks into one). Every call is retry-safe: one transaction, or idempotent by a
key (the flow run of a registration, the commit of an intent's work, the merge of a branch head), so a task
retried after its commit neither does its work twice nor fails."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from pydantic import BaseModel, ConfigDict

from pggit_core import agents, diff, install, intents, merge, resolution
from pggit_core.advisor import AnthropicResolver, ConflictResolver
from pggit_core.client import PgGitClient
from pggit_core.conflicts import ConflictSeverity, MergeConflict
from pggit_core.connect import connection, resolve_dsn, with_database
from pggit_core.coordination import Intent, IntentConflict, IntentRegistry, IntentStatus, RiskLevel
from pggit_core.diff import Change
from pggit_core.errors import (
    ConnectionFailed,
    InvalidInput,
    InvalidSQL,
    NotFound,
    PgGitError,
    ResolverUnavailable,
    from_database_error,
)
from pggit_core.intents import LIVE_STATUSES, Settlement
from pggit_core.migrations import MigrationGenerator, NothingToGenerate
from pggit_core.names import MAIN
from pggit_core.resolution import ResolutionPolicy, WaitingProposal
from pggit_core.store import approvals as approval_store
from pggit_core.store import branches as branch_store
from pggit_core.store import conflicts as conflict_store
from pggit_core.store import intents as intent_store
from pggit_core.store import merges as merge_store

Conn = psycopg.Connection[tuple[object, ...]]

# What the tasks and flows see of the library: these types (results and their parts) and the functions below.
# They import nothing else of pggit_core but errors (the import contracts in pyproject.toml).
__all__ = ["Change", "IntentConflict", "MergeConflict", "WaitingProposal", "recreate_database", "resolve_dsn"]

# SQLSTATEs of errors that go away when the same call is made again: serialization failure, deadlock,
# lock not available, the server shutting down or not yet accepting connections; class 08 is connection loss.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying as they are (connection loss, serialization, locks); never pggit errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, psycopg.OperationalError):
            state = current.sqlstate
            return state is None or state in TRANSIENT_SQLSTATES or state.startswith("08")
        if isinstance(current, PgGitError) and not isinstance(current, ConnectionFailed):
            return False
        current = current.__cause__
    return False


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class IntentView(_Frozen):
    """An intent as the flows see and report it (derived from the Intent by `of`)."""

    id: int
    agent_id: str
    feature_name: str
    branch_name: str
    status: str
    risk_level: str
    flow_run_id: str | None = None
    tables_affected: tuple[str, ...] = ()
    approved: bool = False

    @classmethod
    def of(cls, intent: Intent, *, approved: bool) -> IntentView:
        return cls(id=intent.id, agent_id=intent.agent_id, feature_name=intent.feature_name,
                   branch_name=intent.branch_name, status=intent.status.value, risk_level=intent.risk_level.value,
                   flow_run_id=intent.flow_run_id, tables_affected=tuple(intent.tables_affected), approved=approved)


class Registration(_Frozen):
    """What registering an intent produced: the intent, its branch and the conflicts found right away."""

    intent: IntentView
    conflicts: tuple[IntentConflict, ...]


class GateReport(_Frozen):
    """Whether an intent may start: the earlier live intents it conflicts with, which it must wait for."""

    intent_id: int
    blockers: tuple[IntentView, ...]

    @property
    def clear(self) -> bool:
        return not self.blockers


class WorkResult(_Frozen):
    """The agent's statements ran on its branch and were committed, by the role named."""

    intent_id: int
    branch_name: str
    commit_id: int | None
    statements_applied: int
    role: str = ""




class ReviewPacket(_Frozen):
    """What a reviewer sees before approving: what the branch changed since it was made (objects and SQL),
    the DDL committed on it, the intent's conflicts and its open merge conflicts."""

    intent: IntentView
    diff: tuple[Change, ...]
    statements: tuple[str, ...]
    intent_conflicts: tuple[IntentConflict, ...]
    merge_conflicts: tuple[MergeConflict, ...]


class ResolutionOutcome(_Frozen):
    """What the LLM step did with the intent's open merge conflicts."""

    intent_id: int
    resolver: str
    applied: tuple[int, ...]
    awaiting_human: tuple[int, ...]
    unavailable_reason: str | None = None


class MergeOutcome(_Frozen):
    """A merge of an intent's branch into main: merged, or stopped by conflicts (main unchanged)."""

    intent_id: int
    branch_name: str
    merged: bool
    merge_id: int | None
    statements_applied: int
    conflicts: tuple[MergeConflict, ...]


class MigrationOutcome(_Frozen):
    """A migration written to disk."""

    version: str
    name: str
    files: tuple[str, ...]
    up_sql: str
    down_sql: str
    hazards: tuple[str, ...]


class NightlyPlan(_Frozen):
    """Completed intents in the order the nightly merge takes them (dependency order)."""

    ready: tuple[IntentView, ...]


# --- connections and conversions -------------------------------------------------------------------------


@contextmanager
def _db(dsn: str) -> Iterator[Conn]:
    """An autocommit connection to ``dsn``; errors raised by pggit's SQL become pggit errors, transient ones stay
    as they are."""
    with connection(dsn) as conn:
        try:
            yield conn
        except psycopg.Error as exc:
            if is_transient(exc):
                raise
            mapped = from_database_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise


def _views(conn: Conn, found: Sequence[Intent]) -> tuple[IntentView, ...]:
    approved = approval_store.approved(conn, [i.id for i in found]) if found else frozenset()
    return tuple(IntentView.of(i, approved=i.id in approved) for i in found)


def _view(conn: Conn, intent: Intent) -> IntentView:
    return _views(conn, [intent])[0]


def _merge_conflicts(conn: Conn, source: str, target: str = MAIN) -> tuple[MergeConflict, ...]:
    """The open merge conflicts of ``source`` into ``target``."""
    return tuple(conflict_store.list_conflicts(conn, source=source, target=target))


def _drop_branch(conn: Conn, name: str) -> bool:
    """Delete a branch if it still exists (forced: its work is abandoned or merged); True when it existed."""
    if not branch_store.is_live(conn, name):
        return False
    branch_store.delete(conn, name, True)
    return True


def _named_others(registry: IntentRegistry, intent: Intent, conflicts: Sequence[IntentConflict]) -> dict[int, Intent]:
    """The earlier intents the conflicts name, by id."""
    ids = {c.other_intent_id for c in conflicts if c.other_intent_id is not None and c.other_intent_id <= intent.id}
    return {other: registry.get(other) for other in sorted(ids)}


def agent_target(target: str, agent_id: str | None = None, *, intent_id: int | None = None) -> str:
    """What an agent's own work connects with: its own role (pggit_core/agents.py), so that its branch and
    everything in it is its own and PostgreSQL keeps it off main. The agent is ``agent_id``, or the one of intent
    ``intent_id``. ``target`` is the flow's DSN: a superuser's is turned into the agent's login (the role is added
    when missing), in one connection; a DSN of the agent itself, or of a merger that is no superuser, does the
    agent's work as it is."""
    with _db(target) as conn:
        agent = agent_id if agent_id is not None else IntentRegistry(conn).get(intent_id or 0).agent_id
        me = agents.session_role(conn)
        if me.name == agent or not me.superuser:
            return target
        return agents.add(conn, agent, admin_dsn=target).dsn


# --- the service ---------------------------------------------------------------------------------------


def require_installed(dsn: str) -> None:
    """NotInstalled unless pggit is installed in the database of ``dsn``."""
    with connection(dsn) as conn:
        install.require_installed(conn)


def register_intent(dsn: str, agent_id: str, feature_name: str, schema_changes: Sequence[str],
                    tables_affected: Sequence[str], risk_level: str, *, flow_run_id: str | None = None,
                    description: str | None = None) -> Registration:
    """Register the intent (its branch is created, its conflicts detected) with the flow run driving it, in one
    transaction. Registering the same change again from the same flow run (a retried task) returns that
    intent. The agent registers as itself (its own role: `agent_target`)."""
    with _db(agent_target(dsn, agent_id)) as conn:
        registry = IntentRegistry(conn)
        intent = registry.register(agent_id, feature_name, list(schema_changes), list(tables_affected),
                                   RiskLevel(risk_level), description=description, flow_run_id=flow_run_id)
        return Registration(intent=_view(conn, intent), conflicts=tuple(registry.get_conflicts(intent.id)))


def get_intent(dsn: str, intent_id: int) -> IntentView:
    with _db(dsn) as conn:
        return _view(conn, IntentRegistry(conn).get(intent_id))


def acknowledge_conflicts(dsn: str, intent_id: int, notes: str) -> tuple[int, ...]:
    """Mark every unreviewed conflict of the intent reviewed, with ``notes`` saying how it is resolved, in one
    transaction; returns the ids of the intent's conflicts reviewed with these notes (so a retry returns the
    same ids)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        with conn.transaction():
            for conflict in registry.get_conflicts(intent_id, unresolved_only=True):
                if conflict.id is not None:
                    registry.resolve_conflict(conflict.id, notes)
        return tuple(c.id for c in registry.get_conflicts(intent_id)
                     if c.id is not None and c.reviewed and c.resolution_notes == notes)


def gate(dsn: str, intent_id: int) -> GateReport:
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        conflicts = registry.get_conflicts(intent_id)
        found = intents.blockers(intent, conflicts, _named_others(registry, intent, conflicts))
        return GateReport(intent_id=intent_id, blockers=_views(conn, found))


def wait_for_gate(dsn: str, intent_id: int, *, timeout_seconds: float, poll_seconds: float = 1.0) -> GateReport:
    """Poll until no earlier conflicting intent is live, or ``timeout_seconds`` pass (0: look once)."""
    deadline = time.monotonic() + max(0.0, timeout_seconds)
    while True:
        report = gate(dsn, intent_id)
        if report.clear or time.monotonic() >= deadline:
            return report
        time.sleep(max(0.05, min(poll_seconds, deadline - time.monotonic())))


def start_work(dsn: str, intent_id: int) -> IntentView:
    """Mark the intent in progress; a branch without commits of its own is recreated from the current main,
    so work that waited at the gate starts from what its blockers merged. As the agent's own role, in one
    transaction (a retry finds the branch fresh and the intent in progress)."""
    with _db(agent_target(dsn, intent_id=intent_id)) as conn:
        registry = IntentRegistry(conn)
        with conn.transaction():
            intent = registry.get(intent_id)
            if branch_store.stale_and_untouched(conn, intent.branch_name):
                _drop_branch(conn, intent.branch_name)
                branch_store.create(conn, intent.branch_name, MAIN, False, None)
            moved = registry.mark_in_progress(intent_id, "work started on its branch")
        return _view(conn, moved)


def _run_statements(conn: Conn, branch: str, statements: Sequence[str]) -> None:
    """Run the agent's statements on the session's branch; the first failure raises InvalidSQL."""
    for number, statement in enumerate(statements, start=1):
        try:
            conn.execute(statement.encode())
        except psycopg.Error as exc:
            if is_transient(exc) or from_database_error(exc) is not None:
                raise
            raise InvalidSQL(
                f"statement {number} failed on branch {branch}: "
                f"{(exc.diag.message_primary or str(exc)).strip()}",
                hint="fix the statement; nothing was applied on the branch", statement=statement,
            ) from exc


def _work_done(client: PgGitClient, intent: Intent, message: str) -> int | None:
    """The commit of this work when it is already done (a retried call): the intent is completed and its
    branch's head is its agent's own commit with this message."""
    if intent.status != IntentStatus.COMPLETED:
        return None
    head = client.log(intent.branch_name, limit=1)
    if head and head[0].branch == intent.branch_name and head[0].message == message \
            and head[0].author == intent.agent_id:
        return head[0].commit_id
    return None


def apply_changes(dsn: str, intent_id: int, statements: Sequence[str], message: str) -> WorkResult:
    """Run the statements on the intent's branch, commit them and mark the intent completed, in one transaction:
    a failing statement raises InvalidSQL with PostgreSQL's message and leaves the branch unchanged; a retry
    after the commit returns that commit. As the agent's own role: what it runs cannot touch main or another
    agent's branch."""
    with _db(agent_target(dsn, intent_id=intent_id)) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        client = PgGitClient(conn)
        commit_id = _work_done(client, intent, message)
        if commit_id is None:
            try:
                with conn.transaction():
                    client.checkout(intent.branch_name)
                    _run_statements(conn, intent.branch_name, statements)
                    commit_id = client.commit(message, intent.agent_id).commit_id
                    intent = registry.mark_completed(intent_id, f"{len(statements)} statements committed (commit "
                                                                f"{commit_id})")
            finally:
                if not conn.closed and not conn.broken:
                    client.checkout(MAIN)
        return WorkResult(intent_id=intent_id, branch_name=intent.branch_name, commit_id=commit_id,
                          statements_applied=len(statements), role=agents.session_role(conn).name)


def review_packet(dsn: str, intent_id: int) -> ReviewPacket:
    """The diff main..branch, the intent's conflicts and its open merge conflicts."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        commits = PgGitClient(conn).log(intent.branch_name, limit=1000)
        statements = tuple(s for c in reversed(commits) for s in c.statements)
        base = branch_store.base_commit(conn, intent.branch_name)
        since = f"@{base}" if base is not None else MAIN
        return ReviewPacket(
            intent=_view(conn, intent), statements=statements,
            diff=diff.diff(conn, since, intent.branch_name).changes,
            intent_conflicts=tuple(registry.get_conflicts(intent_id)),
            merge_conflicts=_merge_conflicts(conn, intent.branch_name),
        )


def mark_pending_review(dsn: str, intent_id: int) -> IntentView:
    with _db(dsn) as conn:
        return _view(conn, IntentRegistry(conn).mark_pending_review(intent_id, "waiting for a review decision"))


def record_approval(dsn: str, intent_id: int, reviewer: str, comment: str) -> IntentView:
    """The review approved the intent: pending_review -> completed, recorded as an approval (pggit.intent_approvals:
    reviewer, comment, recording role, when); a retry returns the same approval."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        registry.approve(intent_id, reviewer, comment)
        return _view(conn, registry.get(intent_id))


def mark_conflicted(dsn: str, intent_id: int, reason: str) -> IntentView:
    with _db(dsn) as conn:
        return _view(conn, IntentRegistry(conn).mark_conflicted(intent_id, reason))


def abandon_intent(dsn: str, intent_id: int, reason: str) -> IntentView:
    """Abandon the intent and drop its branch (nothing of it reaches main), in one transaction."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        with conn.transaction():
            intent = registry.get(intent_id)
            if intent.status in LIVE_STATUSES:
                intent = registry.abandon(intent_id, reason)
            _drop_branch(conn, intent.branch_name)
        return _view(conn, intent)


def finish_intent(dsn: str, intent_id: int) -> IntentView:
    """Mark a merged intent merged and delete its branch, in one transaction."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        with conn.transaction():
            intent = registry.get(intent_id)
            if intent.status != IntentStatus.MERGED:
                intent = registry.mark_merged(intent_id, "merged into main")
            _drop_branch(conn, intent.branch_name)
        return _view(conn, intent)


def _merge(conn: Conn, intent: Intent, auto_resolve: bool) -> MergeOutcome:
    result = merge.merge(conn, intent.branch_name, MAIN, auto_resolve=auto_resolve)
    return MergeOutcome(intent_id=intent.id, branch_name=intent.branch_name, merged=not result.has_conflicts,
                        merge_id=result.merge_id, statements_applied=len(result.statements),
                        conflicts=result.conflicts)


def preview_merge(dsn: str, intent_id: int, *, auto_resolve: bool) -> MergeOutcome:
    """Would merging into main conflict? A clean merge is rolled back; conflicts stay recorded (nothing was
    applied) so that resolution can work on them."""
    with _db(dsn) as conn:
        intent = IntentRegistry(conn).get(intent_id)
        found: list[MergeOutcome] = []
        with conn.transaction():
            found.append(_merge(conn, intent, auto_resolve))
            if found[0].merged:
                raise psycopg.Rollback()
        outcome = found[0]
        return outcome.model_copy(update={"merged": False, "merge_id": None} if outcome.merged else {})


def merge_intent(dsn: str, intent_id: int, *, auto_resolve: bool) -> MergeOutcome:
    """Merge the intent's branch into main (all or nothing); conflicts are reported, main is then unchanged.
    When the branch's head is already merged (a retried call), that merge is the outcome."""
    with _db(dsn) as conn:
        intent = IntentRegistry(conn).get(intent_id)
        done = merge_store.merge_of_head(conn, intent.branch_name, MAIN)
        if done is not None:
            return MergeOutcome(intent_id=intent.id, branch_name=intent.branch_name, merged=True,
                                merge_id=int(done["id"]), statements_applied=int(done["statements_applied"]),
                                conflicts=())
        return _merge(conn, intent, auto_resolve)


def resolve_with_llm(dsn: str, intent_id: int, resolver: str, *,
                     auto_apply_errors: bool = False) -> ResolutionOutcome:
    """Let the named resolver propose resolutions of the intent's open merge conflicts (validated on a scratch
    branch, applied by policy); without a usable resolver they stay for human review."""
    with _db(dsn) as conn:
        intent = IntentRegistry(conn).get(intent_id)
        chosen: ConflictResolver | None = None
        unavailable: str | None = None
        if resolver == "anthropic":
            try:
                chosen = AnthropicResolver()
            except ResolverUnavailable as exc:
                unavailable = str(exc)
        elif resolver != "none":
            raise InvalidInput(f"unknown resolver {resolver!r}", hint="use none or anthropic")
        else:
            unavailable = "no resolver configured"
        # Validated proposals for WARNING conflicts apply by themselves; ERROR ones wait for a person
        # (the review pause) unless the operator configured otherwise. `auto_resolve` (the merge's safe
        # cases) deliberately does not widen this.
        policy = ResolutionPolicy(auto_apply=frozenset(ConflictSeverity) if auto_apply_errors
                                  else frozenset({ConflictSeverity.WARNING}))
        outcomes = resolution.resolve_all(conn, intent.branch_name, MAIN, chosen, policy,
                                          unavailable_reason=unavailable)
        return ResolutionOutcome(
            intent_id=intent_id, resolver=chosen.name if chosen is not None else resolver,
            applied=tuple(o.conflict_id for o in outcomes if o.status in ("applied", "already_resolved")),
            awaiting_human=tuple(o.conflict_id for o in outcomes if o.status not in ("applied", "already_resolved")),
            unavailable_reason=unavailable,
        )


def generate_migration(dsn: str, name: str, directory: str) -> MigrationOutcome | None:
    """Write the migration of what main gained since its last generated migration; None when main has no
    new schema change to cover. Safe to retry: asked again for the same snapshots and name (after the first
    call committed), it returns the migration written then."""
    with _db(dsn) as conn:
        try:
            written = MigrationGenerator(PgGitClient(conn)).write_from_branch(MAIN, _migration_name(name),
                                                                              Path(directory))
        except NothingToGenerate:
            return None
        return MigrationOutcome(version=written.version, name=written.name,
                                files=tuple(str(f) for f in written.paths), up_sql=written.up_sql,
                                down_sql=written.down_sql, hazards=written.hazards)


def _migration_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"m_{cleaned}".rstrip("_")
    return cleaned[:63]


def blocking_conflicts(dsn: str, intent_id: int) -> tuple[int, ...]:
    """Ids of the intent's unreviewed conflicts with earlier intents that are still live (the nightly merge's
    skip rule, `intents.blocking_conflicts`)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        unreviewed = registry.get_conflicts(intent_id, unresolved_only=True)
        return tuple(intents.blocking_conflicts(intent, unreviewed, _named_others(registry, intent, unreviewed)))


def nightly_plan(dsn: str) -> NightlyPlan:
    """Completed intents in dependency order (the nightly merge checks each one's conflicts as it goes)."""
    with _db(dsn) as conn:
        completed = IntentRegistry(conn).list_intents(IntentStatus.COMPLETED)
        return NightlyPlan(ready=_views(conn, intents.dependency_order(completed)))


def settle_failed_run(dsn: str, flow_run_id: str, reason: str) -> tuple[IntentView, ...]:
    """After a flow run failed or crashed, in one transaction (`intents.settle`): its live intents whose branch
    head was merged are marked merged; the others are abandoned (their branches dropped), except those waiting on
    merge conflicts (conflicted) or on the nightly merge after an approval (completed + approved)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        settled: list[Intent] = []
        with conn.transaction():
            of_run = intent_store.list_intents(conn, flow_run_id=flow_run_id)
            approved = approval_store.approved(conn, [i.id for i in of_run])
            for intent in of_run:
                head_merged = merge_store.merge_of_head(conn, intent.branch_name, MAIN) is not None
                match intents.settle(intent, head_merged=head_merged, approved=intent.id in approved):
                    case Settlement.MERGED:
                        settled.append(registry.mark_merged(intent.id, f"its branch was merged; {reason}"))
                    case Settlement.ABANDON:
                        settled.append(registry.abandon(intent.id, reason))
                    case Settlement.KEEP | Settlement.SETTLED:
                        continue
                _drop_branch(conn, intent.branch_name)
        return _views(conn, settled)


def intents_with_flow_runs(dsn: str) -> tuple[IntentView, ...]:
    """Live intents that record the flow run driving them."""
    with _db(dsn) as conn:
        return _views(conn, intent_store.list_intents(conn, list(LIVE_STATUSES), with_flow_run=True))


def leaked_branches(dsn: str) -> tuple[str, ...]:
    """Branches still alive whose intent is merged or abandoned (and that no live intent uses)."""
    with _db(dsn) as conn:
        return tuple(intent_store.finished_branches(conn))


def drop_branch(dsn: str, branch_name: str) -> str:
    """Delete the branch (forced). NotFound when no such branch was ever made; one already deleted (a retried
    call) is done."""
    with _db(dsn) as conn:
        if not _drop_branch(conn, branch_name) and not branch_store.ever_existed(conn, branch_name):
            raise NotFound(f"branch {branch_name!r} does not exist", hint="list branches with `pggit branch`")
        return branch_name


# --- the review approves the LLM's waiting proposals (docs/llm-resolution.md) -----------------------------


class ProposalApproval(_Frozen):
    """What approving the intent's waiting LLM proposals did: one outcome per proposal, `applied` (recorded as
    the conflict's resolution, applied by the merge) or `escalated` (refused and left for a human, with why)."""

    intent_id: int
    approver: str
    outcomes: tuple[resolution.ConflictOutcome, ...]

    @property
    def applied(self) -> tuple[int, ...]:
        return tuple(o.conflict_id for o in self.outcomes if o.status in ("applied", "already_resolved"))

    @property
    def refused(self) -> tuple[resolution.ConflictOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status not in ("applied", "already_resolved"))


def waiting_proposals(dsn: str, intent_id: int) -> tuple[WaitingProposal, ...]:
    """The validated LLM proposals for the intent's open merge conflicts into main that wait for a person."""
    with _db(dsn) as conn:
        intent = IntentRegistry(conn).get(intent_id)
        return tuple(resolution.waiting_proposals(conn, intent.branch_name, MAIN))


def approve_proposals(dsn: str, intent_id: int, approver: str) -> ProposalApproval:
    """``approver`` approves every waiting proposal of the intent's merge conflicts into main: each is validated
    again against main as it is now, then recorded as its conflict's resolution. Safe to retry: what was
    applied no longer waits."""
    with _db(dsn) as conn:
        intent = IntentRegistry(conn).get(intent_id)
        outcomes = resolution.approve_waiting(conn, intent.branch_name, MAIN, approver)
        return ProposalApproval(intent_id=intent_id, approver=approver, outcomes=tuple(outcomes))


def recreate_database(admin_dsn: str, database: str) -> str:
    """Drop ``database`` on the server of ``admin_dsn`` if it exists, create it afresh and install pggit in it;
    returns its DSN. For throwaway databases only (the demo's): the caller decides which names may go."""
    with connection(admin_dsn) as conn:
        install.recreate_database(conn, database)
    target = with_database(admin_dsn, database)
    with connection(target) as conn:
        install.install(conn)
    return target
