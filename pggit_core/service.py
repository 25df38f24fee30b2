"""The one layer that composes database I/O with the pipeline for the flows: plain inputs, pydantic results."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict

from pggit_core import agents, diff, install, merge, resolution
from pggit_core.advisor import AnthropicResolver, ConflictResolver
from pggit_core.client import PgGitClient
from pggit_core.connect import connection, resolve_dsn, with_database
from pggit_core.coordination import Intent, IntentConflict, IntentRegistry, IntentStatus, RiskLevel
from pggit_core.errors import (
    ConfigError,
    ConnectionFailed,
    InvalidInput,
    InvalidSQL,
    NotFound,
    PgGitError,
    ResolverUnavailable,
    from_database_error,
)
from pggit_core.intents import LIVE_STATUSES
from pggit_core.migrations import MigrationGenerator, NothingToGenerate
from pggit_core.resolution import ResolutionPolicy
from pggit_core.store import conflicts as conflict_store
from pggit_core.store import intents as intent_store

Conn = psycopg.Connection[tuple[object, ...]]

# SQLSTATEs of errors that go away when the same call is made again: serialization failure, deadlock,
# lock not available, the server shutting down or not yet accepting connections; class 08 is connection loss.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})
MAIN = "main"
APPROVAL_PREFIX = "review approved by"


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
    """An intent as the flows see it."""

    id: int
    agent_id: str
    feature_name: str
    branch_name: str
    status: str
    risk_level: str
    flow_run_id: str | None = None
    tables_affected: tuple[str, ...] = ()
    approved: bool = False


class IntentConflictView(_Frozen):
    """A conflict between two intents found at registration."""

    id: int
    intent_id: int
    other_intent_id: int | None
    conflict_type: str
    severity: str
    affected_objects: tuple[str, ...]
    resolution_suggestions: tuple[str, ...]
    reviewed: bool
    conflicting_with: str


class Registration(_Frozen):
    """What registering an intent produced: the intent, its branch and the conflicts found right away."""

    intent: IntentView
    conflicts: tuple[IntentConflictView, ...]


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


class MergeConflictView(_Frozen):
    """An unresolved merge conflict on the intent's branch."""

    id: int
    object_key: str
    conflict_type: str
    severity: str
    advice: str
    resolved: bool = False


class DiffLine(_Frozen):
    """One statement of the branch's diff since it was made, and the object it changes."""

    object_key: str
    change: str
    fields: tuple[str, ...]
    statement: str


class ReviewPacket(_Frozen):
    """What a reviewer sees before approving: what the branch changed since it was made (objects and SQL),
    the DDL committed on it, the intent's conflicts and its open merge conflicts."""

    intent: IntentView
    diff: tuple[DiffLine, ...]
    statements: tuple[str, ...]
    intent_conflicts: tuple[IntentConflictView, ...]
    merge_conflicts: tuple[MergeConflictView, ...]


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
    conflicts: tuple[MergeConflictView, ...]


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


BLOCK_PREFIX = "block:"


def dsn_of(target: str | None) -> str:
    """A usable DSN: ``block:<name>`` reads the Prefect Secret block of that name (so flows and tasks pass the
    block's name, never the password); anything else goes through `resolve_dsn`."""
    if target is None or not target.startswith(BLOCK_PREFIX):
        return resolve_dsn(target)
    name = target[len(BLOCK_PREFIX):].strip()
    from prefect.blocks.system import Secret

    try:
        block: object = Secret.load(name)
    except ValueError as exc:
        raise ConfigError(f"the Prefect Secret block {name!r} could not be loaded: {exc}",
                          hint=f"create it: Secret(value='postgresql://...').save({name!r})") from exc
    value: object = block.get() if isinstance(block, Secret) else None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"the Prefect block {name!r} is not a Secret block holding a DSN",
                          hint="store the DSN as a plain string in a Secret block")
    return value.strip()


@contextmanager
def _db(dsn: str) -> Iterator[Conn]:
    """A connection to ``dsn`` (a DSN or ``block:<name>``); errors raised by pggit's SQL become pggit errors,
    transient ones stay as they are."""
    with connection(dsn_of(dsn)) as conn:
        try:
            yield conn
        except psycopg.Error as exc:
            if is_transient(exc):
                raise
            mapped = from_database_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise


def _flow_run_id(conn: Conn, intent_id: int) -> str | None:
    row = conn.execute("SELECT flow_run_id FROM pggit.intents WHERE id = %s", (intent_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _approved(registry: IntentRegistry, intent_id: int) -> bool:
    return any(e.get("from_status") == IntentStatus.PENDING_REVIEW.value
               and e.get("to_status") == IntentStatus.COMPLETED.value
               and str(e.get("reason") or "").startswith(APPROVAL_PREFIX)
               for e in registry.history(intent_id))


def _view(conn: Conn, intent: Intent, registry: IntentRegistry | None = None) -> IntentView:
    approved = _approved(registry, intent.id) if registry is not None else False
    return IntentView(
        id=intent.id, agent_id=intent.agent_id, feature_name=intent.feature_name, branch_name=intent.branch_name,
        status=intent.status.value, risk_level=intent.risk_level.value, flow_run_id=_flow_run_id(conn, intent.id),
        tables_affected=tuple(intent.tables_affected), approved=approved,
    )


def _conflict_view(conflict: IntentConflict) -> IntentConflictView:
    return IntentConflictView(
        id=conflict.id or 0, intent_id=conflict.intent_id or 0, other_intent_id=conflict.other_intent_id,
        conflict_type=conflict.conflict_type.value, severity=conflict.severity.value,
        affected_objects=tuple(conflict.affected_objects),
        resolution_suggestions=tuple(conflict.resolution_suggestions), reviewed=conflict.reviewed,
        conflicting_with=conflict.conflicting_with,
    )


def _merge_conflict_views(conn: Conn, source: str, target: str = MAIN) -> tuple[MergeConflictView, ...]:
    """The open merge conflicts of ``source`` into ``target``."""
    return tuple(MergeConflictView(id=int(r["id"]), object_key=str(r["object_key"]),
                                   conflict_type=str(r["conflict_type"]), severity=str(r["severity"]),
                                   advice=str(r["advice"] or ""), resolved=bool(r["resolved"]))
                 for r in conflict_store.list_conflicts(conn, source=source, target=target))


def _branch_live(conn: Conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pggit.branches WHERE name = %s AND status <> 'deleted'",
                        (name,)).fetchone() is not None


def _drop_branch(conn: Conn, name: str) -> bool:
    """Delete a branch if it still exists (forced: its work is abandoned or merged); True when it existed."""
    if not _branch_live(conn, name):
        return False
    conn.execute("SELECT pggit.delete_branch(%s, true)", (name,))
    return True


def agent_target(target: str, agent_id: str | None = None, *, intent_id: int | None = None) -> str:
    """What an agent's own work connects with: its own role (pggit_core/agents.py), so that its branch and
    everything in it is its own and PostgreSQL keeps it off main. The agent is ``agent_id``, or the one of intent
    ``intent_id``. ``target`` is the flow's DSN (or ``block:<name>``): a superuser's is turned into the agent's
    login (the role is added when missing), in one connection; a DSN of the agent itself, or of a merger that is
    no superuser, does the agent's work as it is."""
    admin = dsn_of(target)
    with _db(admin) as conn:
        agent = agent_id if agent_id is not None else IntentRegistry(conn).get(intent_id or 0).agent_id
        row = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert row is not None
        if str(row[0]) == agent or not bool(row[1]):
            return target
        return agents.add(conn, agent, admin_dsn=admin).dsn


# --- the service ---------------------------------------------------------------------------------------


def resolve_target(dsn: str | None) -> str:
    """What the flow's tasks connect with: a ``block:<name>`` reference as given (checked), else the given DSN,
    else $PGGIT_DSN, else the embedded server's (started on demand). The database must have pggit installed."""
    target = dsn if dsn is not None and dsn.startswith(BLOCK_PREFIX) else resolve_dsn(dsn)
    with connection(dsn_of(target)) as conn:
        install.require_installed(conn)
    return target


def register_intent(dsn: str, agent_id: str, feature_name: str, schema_changes: Sequence[str],
                    tables_affected: Sequence[str], risk_level: str, *, flow_run_id: str | None = None,
                    description: str | None = None) -> Registration:
    """Register the intent (its branch is created, its conflicts detected) and record the flow run driving it.
    The agent registers as itself (its own role: `agent_target`)."""
    with _db(agent_target(dsn, agent_id)) as conn:
        registry = IntentRegistry(conn)
        intent = registry.register(agent_id, feature_name, list(schema_changes), list(tables_affected),
                                   RiskLevel(risk_level), description=description)
        if flow_run_id is not None:
            intent_store.set_flow_run(conn, intent.id, flow_run_id)
        return Registration(intent=_view(conn, intent),
                            conflicts=tuple(_conflict_view(c) for c in registry.get_conflicts(intent.id)))


def get_intent(dsn: str, intent_id: int) -> IntentView:
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        return _view(conn, registry.get(intent_id), registry)


def acknowledge_conflicts(dsn: str, intent_id: int, notes: str) -> tuple[int, ...]:
    """Mark every unreviewed conflict of the intent reviewed, with ``notes`` saying how it is resolved."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        done = []
        for conflict in registry.get_conflicts(intent_id, unresolved_only=True):
            if conflict.id is not None:
                registry.resolve_conflict(conflict.id, notes)
                done.append(conflict.id)
        return tuple(done)


def _creates(intent: Intent) -> set[str]:
    """Object keys the intent creates, and the table keys of the tables it creates."""
    made = [o for o in intent.footprint if o.get("action") == "create"]
    return ({str(o["key"]) for o in made}
            | {str(o["table_key"]) for o in made if o.get("kind") == "table" and o.get("table_key")})


def _uses(intent: Intent) -> set[str]:
    """Object keys the intent alters, drops or references, and every table key it touches."""
    return ({str(o["key"]) for o in intent.footprint if o.get("action") != "create"}
            | {str(o["table_key"]) for o in intent.footprint if o.get("table_key")})


def _blockers(conn: Conn, registry: IntentRegistry, intent: Intent) -> tuple[IntentView, ...]:
    """Earlier live intents that must reach main first: an ERROR conflict with them (reviewed or not), or they
    create something this intent uses. WARNING-only overlaps (two new columns on one table) work in parallel:
    the three-way merge combines them."""
    errors: set[int] = set()
    overlaps: set[int] = set()
    for c in registry.get_conflicts(intent.id):
        if c.other_intent_id is not None and c.other_intent_id < intent.id:
            (errors if c.severity.value == "ERROR" else overlaps).add(c.other_intent_id)
    found = []
    for other_id in sorted(errors | overlaps):
        other = registry.get(other_id)
        if other.status not in LIVE_STATUSES:
            continue
        if other_id in errors or _creates(other) & _uses(intent):
            found.append(_view(conn, other))
    return tuple(found)


def gate(dsn: str, intent_id: int) -> GateReport:
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        return GateReport(intent_id=intent_id, blockers=_blockers(conn, registry, registry.get(intent_id)))


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
    so work that waited at the gate starts from what its blockers merged. As the agent's own role."""
    with _db(agent_target(dsn, intent_id=intent_id)) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        if _stale_and_untouched(conn, intent.branch_name):
            with conn.transaction():
                _drop_branch(conn, intent.branch_name)
                conn.execute("SELECT pggit.create_branch(%s, %s)", (intent.branch_name, MAIN))
        moved = registry.mark_in_progress(intent_id, "work started on its branch")
        return _view(conn, moved)


def _stale_and_untouched(conn: Conn, branch: str) -> bool:
    """True when the branch has no commits or captured DDL of its own and main moved since it was made."""
    row = conn.execute(
        "SELECT b.head_commit_id IS NOT DISTINCT FROM b.base_commit_id"
        "   AND NOT EXISTS (SELECT 1 FROM pggit.ddl_log l WHERE l.branch_id = b.id AND l.commit_id IS NULL)"
        "   AND b.base_commit_id IS DISTINCT FROM m.head_commit_id"
        "  FROM pggit.branches b, pggit.branches m"
        " WHERE b.name = %s AND b.status <> 'deleted' AND m.name = 'main' AND m.status <> 'deleted'",
        (branch,)).fetchone()
    return row is None or bool(row[0])


def apply_changes(dsn: str, intent_id: int, statements: Sequence[str], message: str) -> WorkResult:
    """Run the statements on the intent's branch in one transaction, commit them, mark the intent completed.
    A failing statement raises InvalidSQL with PostgreSQL's message; the branch is left unchanged. As the agent's
    own role: what it runs cannot touch main or another agent's branch."""
    with _db(agent_target(dsn, intent_id=intent_id)) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        client = PgGitClient(conn)
        client.checkout(intent.branch_name)
        try:
            with conn.transaction():
                for number, statement in enumerate(statements, start=1):
                    try:
                        conn.execute(statement.encode())
                    except psycopg.Error as exc:
                        if is_transient(exc) or from_database_error(exc) is not None:
                            raise
                        raise InvalidSQL(
                            f"statement {number} failed on branch {intent.branch_name}: "
                            f"{(exc.diag.message_primary or str(exc)).strip()}",
                            hint="fix the statement; nothing was applied on the branch", statement=statement,
                        ) from exc
            commit = client.commit(message, intent.agent_id)
        finally:
            if not conn.closed and not conn.broken:
                client.checkout(MAIN)
        done = registry.mark_completed(intent_id, f"{len(statements)} statements committed (commit "
                                                  f"{commit.commit_id})")
        role = conn.execute("SELECT current_user").fetchone()
        return WorkResult(intent_id=intent_id, branch_name=done.branch_name, commit_id=commit.commit_id,
                          statements_applied=len(statements), role=str(role[0]) if role else "")


def review_packet(dsn: str, intent_id: int) -> ReviewPacket:
    """The diff main..branch, the intent's conflicts and its open merge conflicts."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        commits = PgGitClient(conn).log(intent.branch_name, limit=1000)
        statements = tuple(s for c in reversed(commits) for s in c.statements)
        base = conn.execute("SELECT base_commit_id FROM pggit.branches WHERE name = %s AND status <> 'deleted'",
                            (intent.branch_name,)).fetchone()
        since = f"@{base[0]}" if base is not None and base[0] is not None else MAIN
        changes = diff.diff(conn, since, intent.branch_name).changes
        return ReviewPacket(
            intent=_view(conn, intent), statements=statements,
            diff=tuple(DiffLine(object_key=c.object_key, change=c.change.value, fields=c.fields,
                                statement=c.statement) for c in changes),
            intent_conflicts=tuple(_conflict_view(c) for c in registry.get_conflicts(intent_id)),
            merge_conflicts=_merge_conflict_views(conn, intent.branch_name),
        )


def mark_pending_review(dsn: str, intent_id: int) -> IntentView:
    with _db(dsn) as conn:
        return _view(conn, IntentRegistry(conn).mark_pending_review(intent_id, "waiting for a review decision"))


def record_approval(dsn: str, intent_id: int, reviewer: str, comment: str) -> IntentView:
    """pending_review -> completed, with the reviewer and comment in the audit trail."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        reason = f"{APPROVAL_PREFIX} {reviewer}: {comment or 'no comment'}"
        return _view(conn, registry.mark_completed(intent_id, reason), registry)


def mark_conflicted(dsn: str, intent_id: int, reason: str) -> IntentView:
    with _db(dsn) as conn:
        return _view(conn, IntentRegistry(conn).mark_conflicted(intent_id, reason))


def abandon_intent(dsn: str, intent_id: int, reason: str) -> IntentView:
    """Abandon the intent and drop its branch (nothing of it reaches main)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        if intent.status in LIVE_STATUSES:
            intent = registry.abandon(intent_id, reason)
        _drop_branch(conn, intent.branch_name)
        return _view(conn, intent)


def finish_intent(dsn: str, intent_id: int) -> IntentView:
    """Mark a merged intent merged and delete its branch."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get(intent_id)
        if intent.status != IntentStatus.MERGED:
            intent = registry.mark_merged(intent_id, "merged into main")
        _drop_branch(conn, intent.branch_name)
        return _view(conn, intent)


def _merge(conn: Conn, intent: Intent, auto_resolve: bool) -> MergeOutcome:
    result = merge.merge(conn, intent.branch_name, MAIN, auto_resolve=auto_resolve)
    conflicts = tuple(MergeConflictView(id=c.id, object_key=c.object_key, conflict_type=c.conflict_type,
                                        severity=c.severity, advice=c.advice, resolved=c.resolved)
                      for c in result.conflicts)
    return MergeOutcome(intent_id=intent.id, branch_name=intent.branch_name, merged=not result.has_conflicts,
                        merge_id=result.merge_id, statements_applied=len(result.statements), conflicts=conflicts)


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
    """Merge the intent's branch into main (all or nothing); conflicts are reported, main is then unchanged."""
    with _db(dsn) as conn:
        return _merge(conn, IntentRegistry(conn).get(intent_id), auto_resolve)


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
        policy = ResolutionPolicy(auto_apply=frozenset({"WARNING", "ERROR"}) if auto_apply_errors
                                  else frozenset({"WARNING"}))
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
    """Ids of the intent's unreviewed conflicts with earlier intents that are still live (the seed's skip rule,
    in registration order like the gate: a later intent waits for this one, so it never blocks it)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        found = []
        for conflict in registry.get_conflicts(intent_id, unresolved_only=True):
            if conflict.other_intent_id is None or conflict.other_intent_id > intent_id:
                continue
            if registry.get(conflict.other_intent_id).status in LIVE_STATUSES and conflict.id is not None:
                found.append(conflict.id)
        return tuple(found)


def dependency_order(intents: Sequence[Intent]) -> list[Intent]:
    """Intents ordered so that one that uses what another creates comes after it; else registration order."""
    creates = {i.id: _creates(i) for i in intents}
    uses = {i.id: _uses(i) for i in intents}
    by_id = {i.id: i for i in intents}
    before = {i.id: {j.id for j in intents if j.id != i.id and creates[j.id] & uses[i.id]
                     and not (creates[i.id] & uses[j.id] and i.id < j.id)} for i in intents}
    ordered: list[Intent] = []
    placed: set[int] = set()
    while len(ordered) < len(intents):
        ready = [i for i in sorted(by_id) if i not in placed and before[i] <= placed]
        pick = ready[0] if ready else min(i for i in by_id if i not in placed)
        ordered.append(by_id[pick])
        placed.add(pick)
    return ordered


def nightly_plan(dsn: str) -> NightlyPlan:
    """Completed intents in dependency order (the nightly merge checks each one's conflicts as it goes)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        completed = registry.list_intents(IntentStatus.COMPLETED)
        return NightlyPlan(ready=tuple(_view(conn, i, registry) for i in dependency_order(completed)))


def settle_failed_run(dsn: str, flow_run_id: str, reason: str) -> tuple[IntentView, ...]:
    """After a flow run failed or crashed: its live intents whose branch head was merged are marked merged; the
    others are abandoned (their branches dropped), except those waiting on merge conflicts (conflicted) or on
    the nightly merge after an approval (completed + approved)."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        rows = conn.execute("SELECT id FROM pggit.intents WHERE flow_run_id = %s ORDER BY id",
                            (flow_run_id,)).fetchall()
        settled = []
        for (intent_id,) in rows:
            intent = registry.get(int(str(intent_id)))
            if intent.status not in LIVE_STATUSES or intent.status == IntentStatus.CONFLICTED:
                continue
            if _head_merged(conn, intent.branch_name):
                settled.append(_view(conn, registry.mark_merged(intent.id, f"its branch was merged; {reason}")))
                _drop_branch(conn, intent.branch_name)
                continue
            if intent.status == IntentStatus.COMPLETED and _approved(registry, intent.id):
                continue
            abandoned = registry.abandon(intent.id, reason)
            _drop_branch(conn, intent.branch_name)
            settled.append(_view(conn, abandoned))
        return tuple(settled)


def _head_merged(conn: Conn, branch: str) -> bool:
    """True when the branch's current head was merged into main (the run died after its merge)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pggit.branches b JOIN pggit.merges m ON m.source_branch = b.name"
        "  AND m.target_branch = 'main' AND m.result = 'merged' AND m.source_commit_id = b.head_commit_id"
        " WHERE b.name = %s AND b.status <> 'deleted' AND b.head_commit_id IS DISTINCT FROM b.base_commit_id)",
        (branch,)).fetchone()
    return bool(row and row[0])


def intents_with_flow_runs(dsn: str) -> tuple[IntentView, ...]:
    """Live intents that record the flow run driving them."""
    with _db(dsn) as conn:
        registry = IntentRegistry(conn)
        return tuple(_view(conn, i, registry) for i in registry.list_intents(list(LIVE_STATUSES))
                     if _flow_run_id(conn, i.id) is not None)


def leaked_branches(dsn: str) -> tuple[str, ...]:
    """Branches still alive whose intent is merged or abandoned (and that no live intent uses)."""
    with _db(dsn) as conn:
        rows = conn.execute(
            "SELECT DISTINCT b.name FROM pggit.branches b JOIN pggit.intents i ON i.branch_name = b.name "
            "WHERE b.status <> 'deleted' AND i.status IN ('merged', 'abandoned') AND NOT EXISTS ("
            "  SELECT 1 FROM pggit.intents l WHERE l.branch_name = b.name "
            "     AND l.status NOT IN ('merged', 'abandoned')) ORDER BY 1").fetchall()
        return tuple(str(r[0]) for r in rows)


def drop_branch(dsn: str, branch_name: str) -> str:
    with _db(dsn) as conn:
        if not _drop_branch(conn, branch_name):
            raise NotFound(f"branch {branch_name!r} does not exist", hint="list branches with `pggit branch`")
        return branch_name


DEMO_DATABASE_RE = re.compile(r"^pggit_demo[a-z0-9_]{0,53}$")


def prepare_demo_database(dsn: str | None, database: str) -> str:
    """A fresh database named ``database`` (must start with pggit_demo) on the server of ``dsn`` (default: the
    embedded one), dropped first if it exists, with pggit installed. Returns its DSN."""
    if not DEMO_DATABASE_RE.match(database):
        raise InvalidInput(f"{database!r} is not a demo database name",
                           hint="use pggit_demo or a name starting with pggit_demo (it is dropped and recreated)")
    admin = dsn_of(dsn)
    with connection(admin) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    target = with_database(admin, database)
    with connection(target) as conn:
        install.install(conn)
    return target


def fresh_demo_migrations_dir(database: str) -> str:
    """The demo's own migrations folder, ``.pggit/demo/<database>/migrations``, emptied: its migrations
    belong to the demo database, which every run recreates, so a previous run's would never apply."""
    if not DEMO_DATABASE_RE.match(database):
        raise InvalidInput(f"{database!r} is not a demo database name", hint="use a name starting with pggit_demo")
    folder = (Path.cwd() / ".pggit" / "demo" / database / "migrations").absolute()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return str(folder)
