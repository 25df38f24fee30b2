"""The LLM resolution loop: propose, validate, retry with the error, apply by policy or wait for a human."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from pggit_core import proposal_check
from pggit_core.advisor import Answer, ConflictContext, ConflictResolver, Exchange, IntentSummary, Proposal
from pggit_core.conflicts import ConflictSeverity, MergeConflict
from pggit_core.errors import (
    ConfigError,
    ConnectionFailed,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PgGitError,
    ResolverUnavailable,
    from_database_error,
)
from pggit_core.store import conflicts as conflict_store
from pggit_core.store.commits import database_errors
from pggit_core.store.durable import operation

Conn = psycopg.Connection[Any]
Status = Literal["applied", "awaiting_approval", "escalated", "unavailable", "stale", "already_resolved"]
SCHEMA_EXCERPT_LIMIT = 40


class ResolutionPolicy(BaseModel):
    """When a validated proposal may be applied without a person: by severity, and above a confidence."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=3, ge=1, le=10)
    auto_apply: frozenset[ConflictSeverity] = frozenset({ConflictSeverity.WARNING})
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    sample_rows: int = Field(default=0, ge=0)


class Attempt(BaseModel):
    """One round: the resolver's answer and what validation made of it."""

    model_config = ConfigDict(frozen=True)

    number: int
    model: str
    prompt_hash: str
    response_text: str
    proposal: Proposal | None
    error: str | None = None
    validation: proposal_check.CheckResult | None = None


class ConflictOutcome(BaseModel):
    """Where one conflict ended: applied, waiting for approval, or left to a human (and why)."""

    model_config = ConfigDict(frozen=True)

    conflict_id: int
    status: Status
    attempts: int = 0
    reason: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat()


# --------------------------------------------------------------------------------------------- loading


def _intents(conn: Conn, source: str, target: str, table_keys: Sequence[str]) -> tuple[IntentSummary, ...]:
    """Intents behind both sides: the source's, the target's and those of branches merged into the target,
    keeping (for the target side) the ones whose footprint touches the conflict's tables; at most 10."""
    rows = conn.execute(
        "SELECT agent_id, feature_name, description, branch_name, schema_changes FROM pggit.intents i"
        " WHERE i.status <> 'abandoned'"
        "   AND (i.branch_name = %(source)s"
        "        OR ((i.branch_name = %(target)s OR i.branch_name IN (SELECT m.source_branch FROM pggit.merges m"
        "             WHERE m.target_branch = %(target)s AND m.result = 'merged'))"
        "            AND (cardinality(%(tables)s::text[]) = 0"
        "                 OR NOT EXISTS (SELECT 1 FROM pggit.intent_objects o WHERE o.intent_id = i.id)"
        "                 OR EXISTS (SELECT 1 FROM pggit.intent_objects o WHERE o.intent_id = i.id"
        "                            AND o.table_key = ANY(%(tables)s::text[])))))"
        " ORDER BY (i.branch_name = %(source)s) DESC, i.id DESC LIMIT 10",
        {"source": source, "target": target, "tables": list(table_keys)},
    ).fetchall()
    return tuple(IntentSummary(agent_id=r[0], feature_name=r[1], description=r[2], branch_name=r[3],
                               schema_changes=tuple(r[4] or ())) for r in rows)


def _table_keys(path_keys: Sequence[str]) -> list[str]:
    """`public.users` for every `table:public.users` path key (the footprint index's table keys)."""
    return sorted({key.partition(":")[2] for key in path_keys if key.startswith("table:")})


def related_objects(objects: dict[str, Any], object_key: str) -> dict[str, Any]:
    """The part of a schema document a resolver needs: the object, its table's sub-objects and its dependents."""
    kind, _, qualified = object_key.partition(":")
    schema, _, name = qualified.partition(".")
    related: dict[str, Any] = {}
    for key, obj in sorted(objects.items()):
        if not isinstance(obj, dict):
            continue
        same_table = kind == "table" and obj.get("schema") == schema and obj.get("table") == name
        if key == object_key or same_table or object_key in (obj.get("deps") or ()):
            related[key] = obj
        if len(related) >= SCHEMA_EXCERPT_LIMIT:
            break
    return related


def load_context(conn: Conn, conflict_id: int) -> tuple[ConflictContext, bool]:
    """The conflict as a resolver sees it, and whether it is resolved already."""
    conflict = conflict_store.get(conn, conflict_id)
    if conflict is None:
        raise NotFound(f"conflict {conflict_id} does not exist",
                       hint="list open conflicts with SELECT * FROM pggit.conflicts WHERE NOT resolved")
    snap = conn.execute("SELECT pggit.snapshot(%s)", (conflict.target_branch,)).fetchone()
    objects = snap[0].get("objects", {}) if snap is not None and isinstance(snap[0], dict) else {}
    path_keys = [str(p.get("key", "")) for p in conflict.paths if isinstance(p, dict)] or [conflict.object_key]
    context = ConflictContext(
        conflict=conflict,
        intents=_intents(conn, conflict.source_branch, conflict.target_branch, _table_keys(path_keys)),
        schema_objects={k: v for key in path_keys for k, v in related_objects(objects, key).items()},
    )
    return context, conflict.resolved


# --------------------------------------------------------------------------------------------- recording


def _record(conn: Conn, conflict_id: int, document: dict[str, Any]) -> bool:
    """Store the proposal document on the open conflict, durably (store/durable.py: the record survives
    the caller's connection mode and an error raised afterwards); False if it was resolved meanwhile."""
    with database_errors(), operation(conn):
        row = conn.execute("SELECT pggit._conflict_record_proposal(%s, %s)", (conflict_id, Jsonb(document))).fetchone()
    return bool(row and row[0])


def _attempt_doc(attempt: Attempt) -> dict[str, Any]:
    return attempt.model_dump(mode="json")


def _apply(conn: Conn, conflict_id: int, script: str, notes: str) -> None:
    """Resolve through pggit.resolve_conflict; the script goes as a bound parameter, never into SQL text."""
    try:
        conn.execute("SELECT pggit.resolve_conflict(%s, 'custom', %s, %s)", (conflict_id, script, notes))
    except psycopg.Error as exc:
        mapped = from_database_error(exc)
        if mapped is not None:
            raise mapped from exc
        raise


def _decide(context: ConflictContext, proposal: Proposal, check: proposal_check.CheckResult,
            policy: ResolutionPolicy) -> tuple[bool, str]:
    """May this validated proposal be applied now? (yes/no, why)."""
    if check.needs_human:
        return False, "validated, but a person must choose: " + "; ".join(check.notes)
    if context.severity not in policy.auto_apply:
        return False, f"validated; {context.severity} conflicts wait for human approval"
    if proposal.confidence < policy.min_confidence:
        return False, f"validated, but confidence {proposal.confidence:.2f} is below {policy.min_confidence:.2f}"
    return True, f"validated; {context.severity} conflicts are applied automatically"


# --------------------------------------------------------------------------------------------- the loop


def resolve(conn: Conn, conflict_id: int, resolver: ConflictResolver | None,
            policy: ResolutionPolicy | None = None, *, unavailable_reason: str | None = None) -> ConflictOutcome:
    """(Each record and each apply is its own durable operation: no transaction stays open while the
    model answers.) Ask the resolver for a proposal, validate it on a scratch branch, feed failures back (bounded), then
    apply it (policy) or leave it for approval; when nothing valid comes, the conflict stays for a human.
    Every attempt is recorded on the conflict's `proposal` column. Without a resolver (`unavailable_reason`
    says why) the conflict is marked for human review."""
    policy = policy or ResolutionPolicy()
    context, resolved = load_context(conn, conflict_id)
    if resolved:
        return ConflictOutcome(conflict_id=conflict_id, status="already_resolved")
    document: dict[str, Any] = {"resolver": None, "policy": policy.model_dump(mode="json"), "attempts": [],
                                "started_at": _now()}
    if resolver is None:
        return _unavailable(conn, context, document, unavailable_reason or "no resolver configured", 0)
    document["resolver"] = resolver.name
    attempts: list[Attempt] = []
    history: list[Exchange] = []
    for number in range(1, policy.max_attempts + 1):
        try:
            answer = resolver.propose(context, history)
        except ResolverUnavailable as exc:
            return _unavailable(conn, context, document, str(exc), len(attempts))
        except ConfigError as exc:
            _unavailable(conn, context, document, str(exc), len(attempts))
            raise
        attempt, problem = _try(conn, context, answer, number, policy.sample_rows)
        attempts.append(attempt)
        document["attempts"] = [_attempt_doc(a) for a in attempts]
        if problem is None:
            return _accept(conn, context, document, attempt, policy)
        if attempt.validation is not None and not attempt.validation.retryable:
            status: Status = "stale" if attempt.validation.stale else "escalated"
            return _escalate(conn, context, document, status, problem, len(attempts))
        history.append(Exchange(response_text=answer.response_text, problem=problem))
    reason = f"no valid proposal after {len(attempts)} attempts; last problem: {history[-1].problem}"
    return _escalate(conn, context, document, "escalated", reason, len(attempts))


def _try(conn: Conn, context: ConflictContext, answer: Answer, number: int,
         sample_rows: int) -> tuple[Attempt, str | None]:
    base = Attempt(number=number, model=answer.model, prompt_hash=answer.prompt_hash,
                   response_text=answer.response_text, proposal=answer.proposal, error=answer.error)
    if answer.proposal is None:
        return base, answer.error or "the response held no proposal"
    check = proposal_check.check(conn, context, answer.proposal.statements, sample_rows=sample_rows)
    attempt = base.model_copy(update={"validation": check})
    return attempt, (None if check.ok else check.feedback())


def _unavailable(conn: Conn, context: ConflictContext, document: dict[str, Any], reason: str,
                 attempts: int) -> ConflictOutcome:
    document.update(status="unavailable", reason=reason, finished_at=_now())
    _record(conn, context.conflict_id, document)
    return ConflictOutcome(conflict_id=context.conflict_id, status="unavailable", attempts=attempts, reason=reason)


def _escalate(conn: Conn, context: ConflictContext, document: dict[str, Any], status: Status, reason: str,
              attempts: int) -> ConflictOutcome:
    document.update(status=status, reason=reason, finished_at=_now())
    _record(conn, context.conflict_id, document)
    return ConflictOutcome(conflict_id=context.conflict_id, status=status, attempts=attempts, reason=reason)


def _accept(conn: Conn, context: ConflictContext, document: dict[str, Any], attempt: Attempt,
            policy: ResolutionPolicy) -> ConflictOutcome:
    assert attempt.proposal is not None and attempt.validation is not None
    check = attempt.validation
    apply_now, why = _decide(context, attempt.proposal, check, policy)
    document["accepted"] = {
        "attempt": attempt.number,
        "model": attempt.model,
        "prompt_hash": attempt.prompt_hash,
        "statements": list(attempt.proposal.statements),
        "script": check.script,
        "rationale": attempt.proposal.rationale,
        "preserved_intents": list(attempt.proposal.preserved_intents),
        "confidence": attempt.proposal.confidence,
        "validation": check.model_dump(mode="json"),
    }
    document["reason"] = why
    if not apply_now:
        document.update(status="awaiting_approval", finished_at=_now())
        if not _record(conn, context.conflict_id, document):
            return ConflictOutcome(conflict_id=context.conflict_id, status="already_resolved")
        return ConflictOutcome(conflict_id=context.conflict_id, status="awaiting_approval",
                               attempts=attempt.number, reason=why)
    document.update(status="applied", approved_by=f"policy:auto-{context.severity.lower()}",
                    approved_at=_now(), finished_at=_now())
    try:
        with operation(conn):
            if not _record(conn, context.conflict_id, document):
                return ConflictOutcome(conflict_id=context.conflict_id, status="already_resolved")
            _apply(conn, context.conflict_id, check.script, _notes(attempt, document["approved_by"]))
    except PgGitError as exc:
        for key in ("approved_by", "approved_at"):
            document.pop(key)
        return _escalate(conn, context, document, "escalated",
                         f"pggit.resolve_conflict refused the validated SQL: {exc}", attempt.number)
    return ConflictOutcome(conflict_id=context.conflict_id, status="applied", attempts=attempt.number, reason=why)


def _notes(attempt: Attempt, approver: str) -> str:
    assert attempt.proposal is not None
    return (f"LLM proposal ({attempt.model}, prompt {attempt.prompt_hash[:12]}), approved by {approver}: "
            f"{attempt.proposal.rationale}")


# --------------------------------------------------------------------------------------------- approval


def _approver(name: str) -> str:
    approver = name.strip()
    if not approver:
        raise InvalidInput("an approval needs the approver's name", hint="pass who approves, e.g. 'alice'")
    return approver


def approve_proposal(conn: Conn, conflict_id: int, approver: str, *, sample_rows: int = 0) -> ConflictOutcome:
    """A person approves the recorded proposal: it is validated again against the target as it is now (with
    `sample_rows` rows per table copied, if given), then applied through pggit.resolve_conflict. Only a
    proposal that validated and waits for approval qualifies."""
    approver = _approver(approver)
    context, resolved = load_context(conn, conflict_id)
    if resolved:
        return ConflictOutcome(conflict_id=conflict_id, status="already_resolved")
    document = conflict_store.proposal(conn, conflict_id)
    if document is None or document.get("status") != "awaiting_approval" or "accepted" not in document:
        raise IllegalTransition(
            f"conflict {conflict_id} has no validated proposal waiting for approval",
            hint="run the LLM resolution first, or resolve it by hand with pggit.resolve_conflict",
        )
    accepted = document["accepted"]
    statements = [str(s) for s in accepted.get("statements", [])]
    check = proposal_check.check(conn, context, statements, sample_rows=sample_rows)
    if not check.ok:
        document.update(status="escalated", reason="the recorded proposal no longer validates: " + check.feedback(),
                        finished_at=_now())
        _record(conn, conflict_id, document)
        raise IllegalTransition(
            f"the proposal for conflict {conflict_id} no longer validates; nothing was applied",
            hint="run the LLM resolution again or resolve by hand; problems: " + check.feedback(),
        )
    document.update(status="applied", approved_by=approver, approved_at=_now(),
                    revalidation=check.model_dump(mode="json"))
    notes = (f"LLM proposal ({accepted.get('model')}, prompt {str(accepted.get('prompt_hash'))[:12]}), "
             f"approved by {approver}: {accepted.get('rationale')}")
    try:
        with operation(conn):
            if not _record(conn, conflict_id, document):
                return ConflictOutcome(conflict_id=conflict_id, status="already_resolved")
            _apply(conn, conflict_id, check.script, notes)
    except PgGitError as exc:
        document.update(status="escalated", reason=f"pggit.resolve_conflict refused the validated SQL: {exc}")
        for key in ("approved_by", "approved_at"):
            document.pop(key)
        _record(conn, conflict_id, document)
        raise
    return ConflictOutcome(conflict_id=conflict_id, status="applied", attempts=int(accepted.get("attempt", 0)),
                           reason=f"approved by {approver}")


class WaitingProposal(BaseModel):
    """A validated proposal recorded on an open conflict, waiting for a person's approval: what approving
    would apply (the statements are validated again against the target before they are)."""

    model_config = ConfigDict(frozen=True)

    conflict: MergeConflict
    model: str
    statements: tuple[str, ...]
    rationale: str
    confidence: float
    reason: str | None = None


class RecordedProposal(BaseModel):
    """A conflict and the LLM resolution document recorded on it (None when the loop never ran for it)."""

    model_config = ConfigDict(frozen=True)

    conflict: MergeConflict
    document: dict[str, Any] | None = None

    @property
    def status(self) -> str | None:
        return str(self.document["status"]) if self.document and "status" in self.document else None

    @property
    def reason(self) -> str | None:
        return str(self.document["reason"]) if self.document and self.document.get("reason") else None

    @property
    def waiting(self) -> WaitingProposal | None:
        """The proposal waiting for approval, if the conflict is open and one is."""
        if self.conflict.resolved or self.status != "awaiting_approval" or self.document is None:
            return None
        accepted = self.document.get("accepted")
        if not isinstance(accepted, dict):
            return None
        return WaitingProposal(
            conflict=self.conflict, model=str(accepted.get("model", "")),
            statements=tuple(str(s) for s in accepted.get("statements", [])),
            rationale=str(accepted.get("rationale", "")), confidence=float(accepted.get("confidence", 0.0)),
            reason=self.reason)


def recorded_proposal(conn: Conn, conflict_id: int) -> RecordedProposal:
    """The conflict and what the LLM resolution recorded on it."""
    conflict = conflict_store.get(conn, conflict_id)
    if conflict is None:
        raise NotFound(f"conflict {conflict_id} does not exist",
                       hint="list open conflicts with `pggit conflicts`")
    return RecordedProposal(conflict=conflict, document=conflict_store.proposal(conn, conflict_id))


def waiting_proposals(conn: Conn, source_branch: str, target_branch: str) -> list[WaitingProposal]:
    """The open conflicts between two branches whose proposal waits for approval, oldest first."""
    waiting: list[WaitingProposal] = []
    for conflict in conflict_store.list_conflicts(conn, source=source_branch, target=target_branch):
        found = RecordedProposal(conflict=conflict, document=conflict_store.proposal(conn, conflict.id)).waiting
        if found is not None:
            waiting.append(found)
    return waiting


def approve_waiting(conn: Conn, source_branch: str, target_branch: str, approver: str, *,
                    sample_rows: int = 0) -> list[ConflictOutcome]:
    """A person approves every proposal waiting between two branches (`approve_proposal` for each). One that
    no longer validates, or that pggit.resolve_conflict refuses, is not applied: its outcome is `escalated`
    with the reason, it is recorded so on the conflict, and the conflict stays open for a human."""
    approver = _approver(approver)
    outcomes: list[ConflictOutcome] = []
    for waiting in waiting_proposals(conn, source_branch, target_branch):
        try:
            outcomes.append(approve_proposal(conn, waiting.conflict.id, approver, sample_rows=sample_rows))
        except ConnectionFailed:
            raise
        except PgGitError as exc:  # recorded on the conflict by approve_proposal (status escalated)
            outcomes.append(ConflictOutcome(conflict_id=waiting.conflict.id, status="escalated", reason=str(exc)))
    return outcomes


def open_conflicts(conn: Conn, source_branch: str, target_branch: str) -> list[int]:
    """Ids of the unresolved conflicts between two branches, oldest first."""
    return [c.id for c in conflict_store.list_conflicts(conn, source=source_branch, target=target_branch)]


def resolve_all(conn: Conn, source_branch: str, target_branch: str, resolver: ConflictResolver | None,
                policy: ResolutionPolicy | None = None, *, unavailable_reason: str | None = None,
                ) -> list[ConflictOutcome]:
    """Run the loop on every open conflict between two branches; once the resolver is unavailable, the rest
    go straight to human review without asking it again."""
    outcomes: list[ConflictOutcome] = []
    current, reason = resolver, unavailable_reason
    for conflict_id in open_conflicts(conn, source_branch, target_branch):
        outcome = resolve(conn, conflict_id, current, policy, unavailable_reason=reason)
        if outcome.status == "unavailable":
            current, reason = None, outcome.reason
        outcomes.append(outcome)
    return outcomes
