"""Conflict detection between intents, locks and partitions: footprint values in, conflict values out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from pggit_core.conflicts import ConflictSeverity
from pggit_core.footprint import DECLARED, MODIFYING, FootprintObject, table_key
from pggit_core.statements import Action, Kind

# The seed's advice for a TABLE conflict; rendered from the reader's side (``agent`` = the other agent).
COORDINATE_PREFIX = "Coordinate with "
COORDINATE_WITH = COORDINATE_PREFIX + "{agent} agent, consider sequential application"


class ConflictType(StrEnum):
    TABLE = "TABLE"
    COLUMN = "COLUMN"
    FUNCTION = "FUNCTION"
    INDEX = "INDEX"
    CONSTRAINT = "CONSTRAINT"
    DEPENDENCY = "DEPENDENCY"
    RENAME = "RENAME"
    UNKNOWN = "UNKNOWN"
    LOCK = "LOCK"
    PARTITION = "PARTITION"


@dataclass(frozen=True)
class Party:
    """One side of a comparison: an intent (registered or proposed) and its footprint objects."""

    agent_id: str
    feature_name: str
    objects: tuple[FootprintObject, ...]
    intent_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.agent_id} ({self.feature_name})"

    # Indexes of the footprint, computed once per party (a live intent is compared with many new ones).
    @cached_property
    def actions(self) -> dict[str, set[str]]:
        """object key -> the actions on it."""
        return _by_key(self.objects)

    @cached_property
    def by_table(self) -> dict[str, list[FootprintObject]]:
        """table key -> the objects on that table."""
        out: dict[str, list[FootprintObject]] = defaultdict(list)
        for o in self.objects:
            if o.table_key:
                out[o.table_key].append(o)
        return dict(out)

    @cached_property
    def modified(self) -> dict[str, FootprintObject]:
        """object key -> a modifying touch of it."""
        return {o.key: o for o in self.objects if o.modifying}

    @cached_property
    def modified_tables(self) -> frozenset[str]:
        return frozenset(o.table_key for o in self.objects if o.table_key and o.modifying)


@dataclass(frozen=True)
class Finding:
    """A conflict found between ``party`` (the new intent) and ``other`` (a live intent), or a lock or
    partition owner (``owner``; ``other`` is then None)."""

    conflict_type: ConflictType
    severity: ConflictSeverity
    affected_objects: tuple[str, ...]
    resolution_suggestions: tuple[str, ...]
    other: Party | None = None
    owner: str | None = None

    @property
    def signature(self) -> tuple[str, str, tuple[str, ...]]:
        """What must be equal whichever intent registered first."""
        return (str(self.conflict_type), str(self.severity), self.affected_objects)


def _display(key: str) -> str:
    kind, _, name = key.partition(":")
    if name.startswith("public."):
        name = name[len("public."):]
    return f"{name}()" if kind == Kind.FUNCTION else name


def _table_display(tkey: str) -> str:
    return tkey[len("public."):] if tkey.startswith("public.") else tkey


def _by_key(objects: Iterable[FootprintObject]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for o in objects:
        out[o.key].add(o.action)
    return out


class _Acc:
    """Findings being gathered: per (type, severity) the affected names, suggestions, and tables covered."""

    def __init__(self) -> None:
        self.items: dict[tuple[ConflictType, ConflictSeverity], tuple[set[str], list[str], set[str]]] = {}

    def add(self, ctype: ConflictType, sev: ConflictSeverity, affected: str, suggestion: str,
            table: str | None = None) -> None:
        objs, sugg, tables = self.items.setdefault((ctype, sev), (set(), [], set()))
        objs.add(affected)
        if table:
            tables.add(table)
        if suggestion not in sugg:
            sugg.append(suggestion)

    def update(self, other: _Acc) -> None:
        for (ctype, sev), (objs, sugg, tables) in other.items.items():
            mobjs, msugg, mtables = self.items.setdefault((ctype, sev), (set(), [], set()))
            mobjs.update(objs)
            mtables.update(tables)
            msugg.extend(x for x in sugg if x not in msugg)


def _sequential(first: Party, second: Party, why: str = "") -> str:
    reason = f" ({why})" if why else ""
    return f"apply sequentially: {first.label} first, then {second.label}{reason}"


def _directional(a: Party, b: Party) -> _Acc:
    """Conflicts caused by what ``a`` does to what ``b`` touches (renames, drops, creations, unknowns)."""
    found = _Acc()

    b_keys = b.actions
    b_tables = b.by_table
    b_creates = {k for k, acts in b_keys.items() if Action.CREATE in acts or Action.RENAME in acts}
    for o in a.objects:
        relation_key = o.key.split(":", 1)[1] if o.kind in {Kind.TABLE, Kind.VIEW, Kind.SEQUENCE} else None
        touched_by_b = o.key in b_keys or (relation_key is not None and relation_key in b_tables)
        if o.action == Action.RENAME and touched_by_b:
            found.add(ConflictType.RENAME, ConflictSeverity.ERROR, o.display,
                f"{a.label} renames {o.display} ({o.detail}), which {b.label} also uses: agree on the name first, "
                f"then {_sequential(b, a, 'the rename goes last').removeprefix('apply ')}", o.table_key)
        elif o.action in {Action.DROP, Action.RETYPE} and touched_by_b and not (
                o.kind in {Kind.COLUMN, Kind.FUNCTION} and b_keys.get(o.key, set()) & MODIFYING):
            verb = "drops" if o.action == Action.DROP else "changes the type of"
            found.add(ConflictType.DEPENDENCY, ConflictSeverity.ERROR, o.display,
                f"{a.label} {verb} {o.display}, which {b.label} depends on: rework one of them or "
                f"{_sequential(b, a, 'the ' + ('drop' if o.action == Action.DROP else 'type change') + ' last')}",
                o.table_key)
        elif o.action == Action.UNKNOWN and relation_key is not None and relation_key in b_tables:
            found.add(ConflictType.UNKNOWN, ConflictSeverity.ERROR, o.display,
                f"{a.label} runs a statement the parser cannot model on {o.display} ({o.detail}); review both "
                f"changes by hand, then {_sequential(a, b, 'unknown effects first')}", o.table_key)
        elif o.action == Action.CREATE and o.kind in {Kind.TABLE, Kind.VIEW, Kind.TYPE, Kind.FUNCTION,
                                                      Kind.SEQUENCE, Kind.SCHEMA} and o.key not in b_creates:
            needs = o.key in b_keys or (relation_key is not None and relation_key in b_tables)
            if needs:
                found.add(ConflictType.DEPENDENCY, ConflictSeverity.WARNING, o.display,
                    f"{b.label} needs {o.display}, which {a.label} creates: "
                    f"{_sequential(a, b, 'the creation first')}", o.table_key)
    return found


def _order(a: Party, b: Party) -> tuple[Party, Party]:
    """(earlier, later) by registration; a proposed intent (no id yet) is later."""
    return (a, b) if (a.intent_id or 1 << 62) <= (b.intent_id or 1 << 62) else (b, a)


def _symmetric(a: Party, b: Party) -> _Acc:
    """Conflicts where both intents do the same kind of thing to the same object."""
    found = _Acc()
    first, second = _order(a, b)

    a_mod, b_mod = a.modified, b.modified
    a_acts, b_acts = a.actions, b.actions
    for key in sorted(a_mod.keys() & b_mod.keys()):
        kind = a_mod[key].kind
        if kind == Kind.COLUMN:
            found.add(ConflictType.COLUMN, ConflictSeverity.ERROR, _display(key),
                f"both change {_display(key)}: decide on one definition and let one agent make it; or "
                f"{_sequential(first, second, 'the second adapts to the first')}", a_mod[key].table_key)
        elif kind == Kind.FUNCTION:
            found.add(ConflictType.FUNCTION, ConflictSeverity.ERROR, _display(key),
                f"both redefine {_display(key)}: merge the two bodies into one definition, or "
                f"{_sequential(first, second, 'the second rebases its body on the first')}")
        elif kind in {Kind.TABLE, Kind.VIEW, Kind.SEQUENCE} and Action.CREATE in a_acts[key] & b_acts[key]:
            add_table = a_mod[key].table_key
            found.add(ConflictType.TABLE, ConflictSeverity.ERROR, _display(key),
                      f"both create {_display(key)}: agree on one definition and let one agent create it, or "
                      f"{_sequential(first, second, 'the second alters what the first created')}", add_table)
        elif kind == Kind.INDEX:
            found.add(ConflictType.INDEX, ConflictSeverity.WARNING, _display(key),
                f"both create index {_display(key)}: keep one of them", a_mod[key].table_key)
    a_idx = {(o.table_key, o.columns): o for o in a.objects if o.kind == Kind.INDEX and o.action == Action.CREATE}
    for o in b.objects:
        if o.kind == Kind.INDEX and o.action == Action.CREATE and (o.table_key, o.columns) in a_idx:
            other = a_idx[(o.table_key, o.columns)]
            if other.key != o.key:
                cols = ", ".join(o.columns)
                found.add(ConflictType.INDEX, ConflictSeverity.WARNING, f"{_table_display(o.table_key or '')}({cols})",
                    f"both index {_table_display(o.table_key or '')}({cols}) ({other.display} and {o.display}): "
                    "keep one index", o.table_key)
    a_cons = {o.table_key for o in a.objects if o.kind == Kind.CONSTRAINT and o.modifying}
    b_cons = {o.table_key for o in b.objects if o.kind == Kind.CONSTRAINT and o.modifying}
    for tkey in sorted(t for t in a_cons & b_cons if t):
        found.add(ConflictType.CONSTRAINT, ConflictSeverity.WARNING, _table_display(tkey),
            f"both add or change constraints on {_table_display(tkey)}: check that the constraints agree with "
            f"each other and with existing rows; {_sequential(first, second, 'validate after each')}", tkey)
    return found


def between(new: Party, other: Party) -> list[Finding]:
    """Every conflict between two intents; the same (up to labels) whichever registered first."""
    acc = _Acc()
    for part in (_symmetric(new, other), _directional(new, other), _directional(other, new)):
        acc.update(part)
    covered = set().union(*(tables for _, _, tables in acc.items.values()))
    first, second = _order(new, other)
    shared = sorted(t for t in new.modified_tables & other.modified_tables if t not in covered)
    if shared:
        acc.items[(ConflictType.TABLE, ConflictSeverity.WARNING)] = (
            {_table_display(t) for t in shared},
            [COORDINATE_WITH.format(agent=other.agent_id),
             _sequential(first, second)], set(shared))
    findings = [Finding(ctype, sev, tuple(sorted(objs)), tuple(sugg), other=other)
                for (ctype, sev), (objs, sugg, _) in acc.items.items()]
    return sorted(findings, key=lambda f: (f.severity != ConflictSeverity.ERROR, f.conflict_type, f.affected_objects))


def against(new: Party, live: Sequence[Party]) -> list[Finding]:
    """Conflicts of ``new`` with every live intent, ordered by the other intent's id."""
    out: list[Finding] = []
    for other in sorted(live, key=lambda p: (p.intent_id or 0)):
        if other.intent_id is not None and other.intent_id == new.intent_id:
            continue
        out.extend(between(new, other))
    return out


# ---------------------------------------------------------------------------------------------- locks, partitions


@dataclass(frozen=True)
class TableLock:
    table_name: str
    agent_id: str
    locked_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None

    @property
    def table_key(self) -> str:
        return table_key(self.table_name)


@dataclass(frozen=True)
class Partition:
    agent_type: str
    owned_tables: tuple[str, ...]
    owned_schemas: tuple[str, ...]

    def owns(self, tkey: str) -> bool:
        schema = tkey.split(".", 1)[0]
        return tkey in {table_key(t) for t in self.owned_tables} or schema in self.owned_schemas


def _touched_tables(objects: Iterable[FootprintObject]) -> set[str]:
    return {o.table_key for o in objects if o.table_key and (o.modifying or o.action == DECLARED)}


def lock_conflicts(new: Party, locks: Sequence[TableLock], now: datetime) -> list[Finding]:
    """An intent touching a table another agent holds a live lock on."""
    tables = _touched_tables(new.objects)
    out: list[Finding] = []
    for lock in sorted(locks, key=lambda lk: lk.table_name):
        if lock.agent_id == new.agent_id or lock.table_key not in tables:
            continue
        if lock.expires_at is not None and lock.expires_at <= now:
            continue
        until = f" until {lock.expires_at.isoformat()}" if lock.expires_at else " with no expiry"
        why = f" ({lock.reason})" if lock.reason else ""
        out.append(Finding(ConflictType.LOCK, ConflictSeverity.ERROR, (_table_display(lock.table_key),),
                           (f"{_table_display(lock.table_key)} is locked by {lock.agent_id}{until}{why}: wait "
                            f"until {lock.agent_id} releases it (pggit coordinate unlock) or ask {lock.agent_id} "
                            "to coordinate",), owner=lock.agent_id))
    return out


def partition_conflicts(new: Party, agent_type: str, partitions: Sequence[Partition]) -> list[Finding]:
    """An intent touching tables or schemas owned by another agent type's partition."""
    tables = _touched_tables(new.objects)
    out: list[Finding] = []
    for part in sorted(partitions, key=lambda p: p.agent_type):
        if part.agent_type == agent_type:
            continue
        hits = sorted(_table_display(t) for t in tables if part.owns(t))
        if hits:
            out.append(Finding(ConflictType.PARTITION, ConflictSeverity.ERROR, tuple(hits),
                               (f"{', '.join(hits)} belong to the {part.agent_type} partition: coordinate with "
                                f"{part.agent_type} explicitly (cross-partition change), or hand the change to "
                                f"{part.agent_type}",), owner=part.agent_type))
    return out


# ---------------------------------------------------------------------------------------------- intent values


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IntentStatus(StrEnum):
    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PENDING_REVIEW = "pending_review"
    CONFLICTED = "conflicted"
    MERGED = "merged"
    ABANDONED = "abandoned"


LIVE_STATUSES = (IntentStatus.REGISTERED, IntentStatus.IN_PROGRESS, IntentStatus.COMPLETED,
                 IntentStatus.PENDING_REVIEW, IntentStatus.CONFLICTED)


class IntentConflict(BaseModel):
    """A conflict of an intent with another live intent, a table lock or a partition owner. Seen from
    ``intent_id``: ``other_*`` is the other side (None for LOCK / PARTITION, which name ``owner``)."""

    model_config = ConfigDict(frozen=True)

    id: int | None
    intent_id: int | None
    other_intent_id: int | None
    conflict_type: ConflictType
    severity: ConflictSeverity
    affected_objects: list[str]
    resolution_suggestions: list[str]
    reviewed: bool = False
    resolution_notes: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    created_at: datetime | None = None
    owner: str | None = None
    agent_id: str | None = None
    feature_name: str | None = None
    other_agent_id: str | None = None
    other_feature_name: str | None = None

    @property
    def conflicting_with(self) -> str:
        """``claude-auth (oauth_support)``, or the lock / partition owner."""
        if self.other_agent_id is not None:
            return f"{self.other_agent_id} ({self.other_feature_name})"
        kind = "lock held by" if self.conflict_type == ConflictType.LOCK else "partition"
        return f"{kind} {self.owner}"


class Intent(BaseModel):
    """A registered intent: who will change what, on which branch, and where it stands."""

    model_config = ConfigDict(frozen=True)

    id: int
    agent_id: str
    feature_name: str
    description: str
    branch_name: str
    status: IntentStatus
    risk_level: RiskLevel
    schema_changes: list[str]
    tables_affected: list[str]
    footprint: list[dict[str, Any]]
    footprint_warnings: list[str]
    agent_type: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    merged_at: datetime | None = None
    updated_at: datetime
    dry_run: dict[str, Any] | None = None
    conflicts: list[IntentConflict] = []
    flow_run_id: str | None = None

    @property
    def risk(self) -> RiskLevel:
        return self.risk_level


class CheckResult(BaseModel):
    """A pre-flight check: the same analysis as registration, nothing recorded."""

    model_config = ConfigDict(frozen=True)

    agent_id: str
    feature_name: str
    tables: list[str]
    footprint: list[dict[str, Any]]
    footprint_warnings: list[str]
    conflicts: list[IntentConflict]

    @property
    def blocking(self) -> bool:
        return any(c.severity == ConflictSeverity.ERROR for c in self.conflicts)


# ---------------------------------------------------------------------------------------------- intent rules
# What the flows decide about registered intents (the gate, the nightly order, a failed run's intents), as pure
# functions of Intent and IntentConflict values; pggit_core/service.py reads the values and calls these.


class Approval(BaseModel):
    """A review approval of an intent (a row of pggit.intent_approvals): who decided (``reviewer``, as the review
    named them), their comment, the database role that recorded it and when."""

    model_config = ConfigDict(frozen=True)

    id: int
    intent_id: int
    reviewer: str
    comment: str
    approved_by: str
    approved_at: datetime


def _footprint(intent: Intent) -> tuple[FootprintObject, ...]:
    return tuple(FootprintObject.from_dict(o) for o in intent.footprint)


def creates(intent: Intent) -> frozenset[str]:
    """Object keys the intent creates, and the table keys of the tables it creates."""
    made = [o for o in _footprint(intent) if o.action == Action.CREATE]
    return frozenset({o.key for o in made} | {o.table_key for o in made if o.kind == Kind.TABLE and o.table_key})


def uses(intent: Intent) -> frozenset[str]:
    """Object keys the intent alters, drops or references, and every table key it touches."""
    objects = _footprint(intent)
    return frozenset({o.key for o in objects if o.action != Action.CREATE}
                     | {o.table_key for o in objects if o.table_key})


def earlier_conflicting(intent: Intent, conflicts: Sequence[IntentConflict]) -> tuple[set[int], set[int]]:
    """Ids of earlier intents ``intent`` conflicts with, (with an ERROR conflict, with WARNING ones only)."""
    errors: set[int] = set()
    overlaps: set[int] = set()
    for c in conflicts:
        if c.other_intent_id is not None and c.other_intent_id < intent.id:
            (errors if c.severity == ConflictSeverity.ERROR else overlaps).add(c.other_intent_id)
    return errors, overlaps - errors


def blockers(intent: Intent, conflicts: Sequence[IntentConflict], others: Mapping[int, Intent]) -> list[Intent]:
    """The gate: earlier live intents that must reach main first, in id order. An ERROR conflict with one
    (reviewed or not) blocks, and so does one that creates something this intent uses; WARNING-only overlaps
    (two new columns on one table) work in parallel: the three-way merge combines them. ``conflicts`` are the
    intent's (seen from it); ``others`` holds the intents they name."""
    errors, overlaps = earlier_conflicting(intent, conflicts)
    found = []
    for other_id in sorted(errors | overlaps):
        other = others[other_id]
        if other.status in LIVE_STATUSES and (other_id in errors or creates(other) & uses(intent)):
            found.append(other)
    return found


def blocking_conflicts(intent: Intent, unreviewed: Sequence[IntentConflict], others: Mapping[int, Intent]) -> list[int]:
    """The nightly merge's skip rule (the seed's): ids of the intent's unreviewed conflicts with earlier intents
    that are still live. In registration order like the gate: a later intent waits for this one, so it never
    blocks it."""
    return [c.id for c in unreviewed
            if c.id is not None and c.other_intent_id is not None and c.other_intent_id <= intent.id
            and others[c.other_intent_id].status in LIVE_STATUSES]


def dependency_order(intents: Sequence[Intent]) -> list[Intent]:
    """Intents ordered so that one that uses what another creates comes after it; else registration order."""
    made = {i.id: creates(i) for i in intents}
    used = {i.id: uses(i) for i in intents}
    by_id = {i.id: i for i in intents}
    before = {i.id: {j.id for j in intents if j.id != i.id and made[j.id] & used[i.id]
                     and not (made[i.id] & used[j.id] and i.id < j.id)} for i in intents}
    ordered: list[Intent] = []
    placed: set[int] = set()
    while len(ordered) < len(intents):
        ready = [i for i in sorted(by_id) if i not in placed and before[i] <= placed]
        pick = ready[0] if ready else min(i for i in by_id if i not in placed)
        ordered.append(by_id[pick])
        placed.add(pick)
    return ordered


class Settlement(StrEnum):
    """What becomes of a live intent whose flow run failed or crashed."""

    MERGED = "merged"        # its branch head reached main: mark it merged, drop the branch
    KEEP = "keep"            # it waits on merge conflicts, or on the nightly merge after an approval
    ABANDON = "abandon"      # nothing of it reached main: abandon it, drop the branch
    SETTLED = "settled"      # not live: nothing to do


def settle(intent: Intent, *, head_merged: bool, approved: bool) -> Settlement:
    """The rule of `service.settle_failed_run` for one intent of the failed run."""
    if intent.status not in LIVE_STATUSES:
        return Settlement.SETTLED
    if intent.status == IntentStatus.CONFLICTED:
        return Settlement.KEEP
    if head_merged:
        return Settlement.MERGED
    if intent.status == IntentStatus.COMPLETED and approved:
        return Settlement.KEEP
    return Settlement.ABANDON
