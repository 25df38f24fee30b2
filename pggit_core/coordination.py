"""IntentRegistry: agents declare what they will change, learn about conflicts at once, and move their
intent through its lifecycle (the seed's Python API)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg

from pggit_core import footprint as fp
from pggit_core.conflicts import ConflictSeverity
from pggit_core.errors import AlreadyExists, InvalidInput, from_database_error
from pggit_core.intents import (
    Approval,
    CheckResult,
    ConflictType,
    Finding,
    Intent,
    IntentConflict,
    IntentStatus,
    Party,
    RiskLevel,
    TableLock,
    against,
    lock_conflicts,
    partition_conflicts,
)
from pggit_core.store import approvals as approval_store
from pggit_core.store import intents as store
from pggit_core.store import locks as lock_store
from pggit_core.store import partitions as partition_store
from pggit_core.store.durable import durable

__all__ = ["Approval", "CheckResult", "ConflictSeverity", "ConflictType", "Intent", "IntentConflict", "IntentRegistry",
           "IntentStatus", "RiskLevel"]

MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SLUG = re.compile(r"[^a-z0-9_]+")


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-empty string", hint=f"pass --{name.replace('_', '-')} VALUE")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is {len(value)} characters long; at most {MAX_TEXT} are allowed",
                           hint=f"shorten the {name}")
    if _CONTROL.search(value):
        raise InvalidInput(f"{name} contains control characters (newline, tab, NUL...)",
                           hint=f"use printable characters in the {name}")
    return value


def _optional_text(name: str, value: str | None) -> str | None:
    return None if value is None else _text(name, value)


def _risk(value: RiskLevel | str) -> RiskLevel:
    try:
        return RiskLevel(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a risk level",
                           hint=f"use one of {', '.join(r.value for r in RiskLevel)}") from None


def _status(value: IntentStatus | str) -> IntentStatus:
    try:
        return IntentStatus(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not an intent status",
                           hint=f"use one of {', '.join(s.value for s in IntentStatus)}") from None


def _strings(name: str, value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(f"{name} must be a list of strings, got {type(item).__name__}",
                               hint=f"pass {name} as a list of strings")
        if "\x00" in item:
            raise InvalidInput(f"{name} contains a NUL character", hint=f"remove it from {name}")
    return items


def _slug(value: str) -> str:
    return _SLUG.sub("-", value.lower()).strip("-")[:40].strip("-") or "x"


def branch_name_for(agent_id: str, feature_name: str) -> str:
    """``agent/<agent>-<feature>``, reduced to lowercase letters, digits, ``_`` and ``-``."""
    return f"agent/{_slug(agent_id)}-{_slug(feature_name)}"


def _conflict_value(f: Finding, *, agent_id: str, feature_name: str, intent_id: int | None) -> IntentConflict:
    return IntentConflict(
        id=None, intent_id=intent_id, other_intent_id=f.other.intent_id if f.other else None,
        conflict_type=f.conflict_type, severity=f.severity, affected_objects=list(f.affected_objects),
        resolution_suggestions=list(f.resolution_suggestions), owner=f.owner, agent_id=agent_id,
        feature_name=feature_name, other_agent_id=f.other.agent_id if f.other else None,
        other_feature_name=f.other.feature_name if f.other else None)


class IntentRegistry:
    """Intents of agents on one database. ``create_branches``: allocate a real branch per intent (off
    ``base_branch``); ``dry_run``: run the statements on that branch in a rolled-back transaction and read
    what PostgreSQL touched (needs ``create_branches``).

    Every public method is one pggit operation (``store.durable.operation``): all or nothing, and durable
    when it returns. On a connection that is not autocommit it commits the open transaction when it is done
    (including what the caller ran before it); inside the caller's ``with conn.transaction()`` block, that
    block decides. A failing method rolls back its own work only and leaves the connection usable."""

    def __init__(self, connection: psycopg.Connection[Any], *, create_branches: bool = True, dry_run: bool = True,
                 base_branch: str = "main") -> None:
        self.conn = connection
        self.create_branches = create_branches
        self.dry_run = dry_run and create_branches
        self.base_branch = base_branch

    # ------------------------------------------------------------------------------------------ registration

    @durable
    def register(self, agent_id: str, feature_name: str, schema_changes: Sequence[str] | str,
                 tables_affected: Sequence[str] | str | None = None,
                 risk_level: RiskLevel | str = RiskLevel.MEDIUM, *, description: str | None = None,
                 agent_type: str | None = None, flow_run_id: str | None = None) -> Intent:
        """Record an intent, its footprint and its conflicts, and allocate its branch, in one transaction.
        Bad input raises (InvalidInput, InvalidSQL, AlreadyExists) and records nothing.

        ``flow_run_id`` (the Prefect flow run driving the intent) is recorded with it and makes registration
        idempotent: registering the same change again for the same agent, feature and flow run (a retried task)
        returns the intent that run registered, with the conflicts its registration recorded."""
        intent, _ = self._analyse(agent_id, feature_name, schema_changes, tables_affected, risk_level,
                                  description=description, agent_type=agent_type, record=True,
                                  flow_run_id=_optional_text("flow_run_id", flow_run_id))
        assert intent is not None
        return intent

    @durable
    def check(self, agent_id: str, feature_name: str, schema_changes: Sequence[str] | str,
              tables_affected: Sequence[str] | str | None = None,
              risk_level: RiskLevel | str = RiskLevel.MEDIUM, *, agent_type: str | None = None) -> CheckResult:
        """Pre-flight: the same analysis as ``register`` (dry run included), with nothing recorded."""
        _, result = self._analyse(agent_id, feature_name, schema_changes, tables_affected, risk_level,
                                  description=None, agent_type=agent_type, record=False)
        assert result is not None
        return result

    def _analyse(self, agent_id: str, feature_name: str, schema_changes: Sequence[str] | str,
                 tables_affected: Sequence[str] | str | None, risk_level: RiskLevel | str, *,
                 description: str | None, agent_type: str | None, record: bool,
                 flow_run_id: str | None = None) -> tuple[Intent | None, CheckResult | None]:
        agent_id = _text("agent_id", agent_id)
        feature_name = _text("feature_name", feature_name)
        risk = _risk(risk_level)
        changes = _strings("schema_changes", schema_changes)
        if not [c for c in changes if c.strip()]:
            raise InvalidInput("no schema changes given", hint="pass at least one statement, e.g. "
                               "--schema-changes \"ALTER TABLE users ADD COLUMN x TEXT\"")
        declared = _strings("tables_affected", tables_affected)
        kind = _text("agent_type", agent_type) if agent_type is not None else agent_id
        note = description if description is not None else feature_name
        if not isinstance(note, str) or "\x00" in note:
            raise InvalidInput("description must be a string without NUL characters", hint="fix the description")
        footprint = fp.build(changes, declared)

        try:
            # check(): the same work in a transaction that is always rolled back, so nothing is recorded.
            with self.conn.transaction(force_rollback=not record):
                value = self._in_transaction(agent_id, feature_name, risk, changes, declared, note, kind,
                                             footprint, record, flow_run_id)
        except psycopg.Error as exc:
            mapped = from_database_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        if isinstance(value, Intent):
            return value, None
        return None, value

    def _in_transaction(self, agent_id: str, feature_name: str, risk: RiskLevel, changes: list[str],
                        declared: list[str], note: str, agent_type: str, footprint: fp.Footprint,
                        record: bool, flow_run_id: str | None) -> Intent | CheckResult:
        conn = self.conn
        store.lock_footprint(conn, footprint.lock_keys, reason=f"registered by {agent_id}")
        branch = branch_name_for(agent_id, feature_name)
        seen = store.lookup(conn, footprint, agent_id, feature_name, branch)
        if record and seen.duplicate is not None and flow_run_id is not None \
                and seen.duplicate_flow_run == flow_run_id:
            again = store.get(conn, seen.duplicate)
            if again.schema_changes == changes:
                return again.model_copy(update={"conflicts": store.recorded_conflicts(conn, again.id)})
        if seen.duplicate is not None:
            raise AlreadyExists(f"agent {agent_id!r} already has a live intent for feature {feature_name!r} "
                                f"(intent {seen.duplicate})",
                                hint="finish, merge or abandon that intent first, or use another feature name")
        me = Party(agent_id, feature_name, footprint.objects)
        findings = [*against(me, seen.overlaps), *lock_conflicts(me, seen.locks, seen.now),
                    *partition_conflicts(me, agent_type, seen.partitions)]
        intent = store.record(conn, agent_id=agent_id, feature_name=feature_name, description=note,
                              branch_name=branch, risk_level=risk, schema_changes=changes,
                              tables_affected=_display_tables(footprint), footprint=footprint,
                              agent_type=agent_type, findings=findings, flow_run_id=flow_run_id)
        intent_id = intent.id
        warnings: list[str] = list(footprint.warnings)
        if self.create_branches:
            branch = self._allocate_branch(branch, intent_id, seen.branch_taken, agent_id)
            if self.dry_run:
                report = store.dry_run(conn, branch, footprint)
                extra = fp.DryRunReport(
                    ran=int(report["ran"]), skipped=tuple(report["skipped"]), error=report["error"],
                    failed_statement=report["failed_statement"], touched=tuple(report["touched"]),
                ).warnings(footprint)
                store.record_dry_run(conn, intent_id, report, extra)
                warnings.extend(extra)
        if record:
            if self.create_branches:
                return store.get(conn, intent_id).model_copy(update={"conflicts": intent.conflicts})
            return intent
        return CheckResult(agent_id=agent_id, feature_name=feature_name, tables=list(footprint.tables),
                           footprint=footprint.as_json(), footprint_warnings=warnings,
                           conflicts=[_conflict_value(f, agent_id=agent_id, feature_name=feature_name,
                                                      intent_id=None) for f in findings])

    def _allocate_branch(self, wanted: str, intent_id: int, taken: bool, agent_id: str) -> str:
        name = f"{wanted}-{intent_id}" if taken else wanted
        if name != wanted:
            store.set_branch_name(self.conn, intent_id, name)
        store.create_branch(self.conn, name, self.base_branch, agent_id)
        return name

    # ------------------------------------------------------------------------------------------ reading

    @durable
    def get(self, intent_id: int) -> Intent:
        return store.get(self.conn, _id("intent_id", intent_id))

    @durable
    def get_with_conflicts(self, intent_id: int) -> Intent:
        intent = self.get(intent_id)
        return intent.model_copy(update={"conflicts": self.get_conflicts(intent.id)})

    @durable
    def list_intents(self, status_filter: IntentStatus | str | Sequence[IntentStatus | str] | None = None,
                     agent_id: str | None = None) -> list[Intent]:
        if status_filter is None:
            statuses = None
        elif isinstance(status_filter, IntentStatus | str):
            statuses = [_status(status_filter)]
        else:
            statuses = [_status(s) for s in status_filter]
        return store.list_intents(self.conn, statuses, agent_id)

    @durable
    def get_conflicts(self, intent_id: int | None = None, *, unresolved_only: bool = False) -> list[IntentConflict]:
        """Conflicts of an intent (as seen from it: ``other_*`` is the other intent), or of all intents."""
        return store.conflicts(self.conn, None if intent_id is None else _id("intent_id", intent_id),
                               unresolved_only=unresolved_only)

    @durable
    def history(self, intent_id: int) -> list[dict[str, Any]]:
        """The audit trail: every status change with who, when and why."""
        return store.events(self.conn, _id("intent_id", intent_id))

    # ------------------------------------------------------------------------------------------ changes

    @durable
    def resolve_conflict(self, conflict_id: int, resolution_notes: str) -> IntentConflict:
        notes = resolution_notes if isinstance(resolution_notes, str) else ""
        if not notes.strip():
            raise InvalidInput("resolving a conflict needs notes saying how it was resolved",
                               hint="pass --notes \"Agreed to apply sequentially: auth first, then search\"")
        if "\x00" in notes:
            raise InvalidInput("the notes contain a NUL character", hint="remove it")
        return store.resolve(self.conn, _id("conflict_id", conflict_id), notes)

    def _move(self, intent_id: int, status: IntentStatus, reason: str | None) -> Intent:
        why = reason if reason is not None else f"{status.value} via IntentRegistry"
        if "\x00" in why:
            raise InvalidInput("the reason contains a NUL character", hint="remove it")
        return store.set_status(self.conn, _id("intent_id", intent_id), status, why)

    @durable
    def mark_in_progress(self, intent_id: int, reason: str | None = None) -> Intent:
        return self._move(intent_id, IntentStatus.IN_PROGRESS, reason)

    @durable
    def mark_completed(self, intent_id: int, reason: str | None = None) -> Intent:
        return self._move(intent_id, IntentStatus.COMPLETED, reason)

    @durable
    def mark_pending_review(self, intent_id: int, reason: str | None = None) -> Intent:
        return self._move(intent_id, IntentStatus.PENDING_REVIEW, reason)

    @durable
    def mark_conflicted(self, intent_id: int, reason: str | None = None) -> Intent:
        return self._move(intent_id, IntentStatus.CONFLICTED, reason)

    @durable
    def mark_merged(self, intent_id: int, reason: str | None = None) -> Intent:
        return self._move(intent_id, IntentStatus.MERGED, reason)

    @durable
    def abandon(self, intent_id: int, reason: str | None = None) -> Intent:
        return self._move(intent_id, IntentStatus.ABANDONED, reason)

    @durable
    def approve(self, intent_id: int, reviewer: str, comment: str = "") -> Approval:
        """A review approves the intent waiting for it: pending_review -> completed, recorded as an approval
        (reviewer, comment, the role that recorded it, when) with the status change. Whoever may change the
        intent's status may (its agent or a merger). The same approval again, nothing changed since, returns the
        recorded one."""
        if not isinstance(comment, str) or "\x00" in comment:
            raise InvalidInput("the comment must be a string without NUL characters", hint="fix the comment")
        return approval_store.approve(self.conn, _id("intent_id", intent_id), _text("reviewer", reviewer), comment)

    @durable
    def approval(self, intent_id: int) -> Approval | None:
        """The intent's last review approval, or None when no review approved it."""
        store.get(self.conn, _id("intent_id", intent_id))
        return approval_store.latest(self.conn, intent_id)

    # ------------------------------------------------------------------------------------------ locks, partitions

    @durable
    def lock_table(self, table_name: str, agent_id: str, ttl: timedelta | None = None,
                   reason: str | None = None) -> tuple[TableLock, bool]:
        """Take a table lock (the seed's strategy 2); False and the holder's lock when another agent has it."""
        fp.table_key(table_name)
        return lock_store.acquire(self.conn, table_name.strip(), _text("agent_id", agent_id), ttl, reason)

    @durable
    def unlock_table(self, table_name: str, agent_id: str) -> TableLock:
        return lock_store.release(self.conn, table_name.strip(), _text("agent_id", agent_id))

    @durable
    def locks(self) -> list[TableLock]:
        return lock_store.live(self.conn)

    @durable
    def define_partition(self, agent_type: str, owned_tables: Sequence[str],
                         owned_schemas: Sequence[str] = ()) -> None:
        """Give an agent type ownership of tables and schemas (the seed's strategy 3)."""
        for t in owned_tables:
            fp.table_key(t)
        partition_store.define(self.conn, _text("agent_type", agent_type), list(owned_tables), list(owned_schemas))


def _display_tables(footprint: fp.Footprint) -> list[str]:
    """Declared and parsed tables together, as people write them (``users``, ``auth.sessions``)."""
    keys = set(footprint.declared_tables) | set(footprint.tables)
    return sorted(k.removeprefix(f"{fp.DEFAULT_SCHEMA}.") for k in keys)


def _id(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{name} must be a positive integer, got {value!r}", hint=f"pass the {name} shown by "
                           "`pggit coordinate list-intents` or `pggit coordinate conflicts`")
    return value

