"""Reads and writes of pggit.intents, intent_objects (the footprint index) and intent_conflicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pggit_core.errors import AlreadyExists, NotFound, PermissionDenied, PgGitError, from_database_error
from pggit_core.footprint import Footprint, FootprintObject
from pggit_core.intents import (
    COORDINATE_PREFIX,
    COORDINATE_WITH,
    Finding,
    Intent,
    IntentConflict,
    IntentStatus,
    Partition,
    Party,
    RiskLevel,
    TableLock,
)

Conn = psycopg.Connection[Any]

_INTENT_SELECT = """SELECT i.id, i.agent_id, i.feature_name, i.description, i.branch_name, i.status, i.risk_level,
    i.schema_changes, i.tables_affected, i.footprint, i.footprint_warnings, i.agent_type, i.created_at,
    i.started_at, i.completed_at, i.merged_at, i.updated_at, i.dry_run, i.flow_run_id
  FROM pggit.intents i"""

_CONFLICT_SELECT = """
SELECT c.id, c.intent_id, c.other_intent_id, c.conflict_type, c.severity, c.affected_objects,
       c.resolution_suggestions, c.reviewed, c.resolution_notes, c.resolved_by, c.resolved_at, c.created_at,
       c.owner, i.agent_id AS agent_id, i.feature_name AS feature_name,
       o.agent_id AS other_agent_id, o.feature_name AS other_feature_name
  FROM pggit.intent_conflicts c
  JOIN pggit.intents i ON i.id = c.intent_id
  LEFT JOIN pggit.intents o ON o.id = c.other_intent_id"""


def _database_error(exc: psycopg.Error) -> PgGitError | psycopg.Error:
    mapped = from_database_error(exc)
    return mapped if mapped is not None else exc


def set_reason(conn: Conn, reason: str) -> None:
    """The reason recorded with the next status changes of this transaction (pggit.intent_events.reason)."""
    conn.execute("SELECT set_config('pggit.reason', %s, true)", (reason,))


def lock_footprint(conn: Conn, keys: Sequence[str], reason: str | None = None) -> None:
    """Serialize with every registration sharing a key: transaction-level advisory locks, taken in one
    global order (by hash) so overlapping registrations never deadlock. ``reason`` (optional) is set as the
    transaction's pggit.reason in the same round trip."""
    conn.execute(
        """SELECT CASE WHEN %(reason)s::text IS NULL THEN NULL ELSE set_config('pggit.reason', %(reason)s, true) END,
                  (SELECT count(*) FROM (
                       SELECT pg_advisory_xact_lock(h)
                         FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(%(keys)s::text[]) AS u(k)
                                ORDER BY 1) s) x)""",
        {"keys": list(keys), "reason": reason})


@dataclass(frozen=True)
class Lookup:
    """Everything registration needs to know, read in one statement once the footprint locks are held."""

    duplicate: int | None
    duplicate_flow_run: str | None
    overlaps: tuple[Party, ...]
    locks: tuple[TableLock, ...]
    partitions: tuple[Partition, ...]
    now: datetime
    branch_taken: bool


_LOOKUP = """
SELECT d.id AS duplicate, d.flow_run_id AS duplicate_flow_run,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', i.id, 'agent_id', i.agent_id,
                                                     'feature_name', i.feature_name, 'footprint', i.footprint)
                                  ORDER BY i.id)
                   FROM pggit.intents i
                  WHERE i.id IN (SELECT o.intent_id FROM pggit.intent_objects o
                                  WHERE o.live AND o.table_key = ANY(%(tables)s::text[])
                                 UNION
                                 SELECT o.intent_id FROM pggit.intent_objects o
                                  WHERE o.live AND o.object_key = ANY(%(keys)s::text[]))), '[]') AS overlaps,
       coalesce((SELECT jsonb_agg(to_jsonb(l)) FROM pggit.pggit_live_table_locks l), '[]') AS locks,
       coalesce((SELECT jsonb_agg(to_jsonb(p)) FROM pggit.agent_partitions p), '[]') AS partitions,
       now() AS now,
       EXISTS (SELECT 1 FROM pggit.branches b WHERE b.name = %(branch)s AND b.status <> 'deleted') AS branch_taken
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (SELECT i.id, i.flow_run_id FROM pggit.intents i
                      WHERE i.agent_id = %(agent)s AND i.feature_name = %(feature)s
                        AND i.status NOT IN ('merged', 'abandoned') LIMIT 1) d ON true"""


def lookup(conn: Conn, footprint: Footprint, agent_id: str, feature_name: str, branch_name: str) -> Lookup:
    """Live overlapping intents (through the footprint index), live locks, partitions, a live duplicate of
    agent+feature (and the flow run that registered it), and whether the branch name is taken: one round trip.
    Call it after lock_footprint, in a separate statement, so that its snapshot sees every registration that held
    the same locks."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_LOOKUP, {
            "agent": agent_id, "feature": feature_name, "branch": branch_name,
            "tables": sorted({o.table_key for o in footprint.objects if o.table_key}),
            "keys": sorted({o.key for o in footprint.objects})}).fetchone()
    assert row is not None
    return Lookup(
        duplicate=row["duplicate"], duplicate_flow_run=row["duplicate_flow_run"],
        overlaps=tuple(Party(r["agent_id"], r["feature_name"],
                             tuple(FootprintObject.from_dict(d) for d in r["footprint"]), int(r["id"]))
                       for r in row["overlaps"]),
        locks=tuple(TableLock(r["table_name"], r["agent_id"], _ts(r["locked_at"]), _ts(r["expires_at"]), r["reason"])
                    for r in row["locks"]),
        partitions=tuple(Partition(r["agent_type"], tuple(r["owned_tables"]), tuple(r["owned_schemas"]))
                         for r in row["partitions"]),
        now=row["now"], branch_taken=bool(row["branch_taken"]))


def _ts(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def record(conn: Conn, *, agent_id: str, feature_name: str, description: str, branch_name: str,
           risk_level: RiskLevel, schema_changes: Sequence[str], tables_affected: Sequence[str],
           footprint: Footprint, agent_type: str | None, findings: Sequence[Finding],
           flow_run_id: str | None = None) -> Intent:
    """Insert the intent (with the flow run driving it, if any), its footprint index rows and its conflicts in one
    statement (pggit._intent_record, which checks that an agent registers as itself); the Intent comes back with
    its conflicts. AlreadyExists on a live duplicate agent+feature."""
    objects = footprint.objects
    document = {
        "agent": agent_id, "feature": feature_name, "description": description, "branch": branch_name,
        "risk": str(risk_level), "changes": list(schema_changes), "tables": list(tables_affected),
        "footprint": footprint.as_json(), "warnings": list(footprint.warnings), "agent_type": agent_type,
        "flow_run": flow_run_id,
        "objects": [{"key": o.key, "table_key": o.table_key, "kind": o.kind, "action": o.action} for o in objects],
        "findings": [{"other": f.other.intent_id if f.other else None, "type": str(f.conflict_type),
                      "severity": str(f.severity), "affected": list(f.affected_objects),
                      "advice": list(f.resolution_suggestions), "owner": f.owner} for f in findings]}
    try:
        got = conn.execute("SELECT pggit._intent_record(%s)", (Jsonb(document),)).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise AlreadyExists(f"agent {agent_id!r} already has a live intent for feature {feature_name!r}",
                            hint="finish or abandon that intent first, or use another feature name") from exc
    except psycopg.Error as exc:
        raise _database_error(exc) from exc
    row = got[0] if got is not None else None
    assert row is not None
    parties = {f.other.intent_id: f.other for f in findings if f.other is not None}
    conflicts = []
    for c in row["conflicts"]:
        other = parties.get(c["other_intent_id"])
        conflicts.append(IntentConflict(
            **c, agent_id=agent_id, feature_name=feature_name,
            other_agent_id=other.agent_id if other else None,
            other_feature_name=other.feature_name if other else None))
    return Intent(**row["intent"], conflicts=conflicts)


def _call(conn: Conn, query: str, params: Sequence[object] | dict[str, object]) -> None:
    try:
        conn.execute(query, params)
    except psycopg.Error as exc:
        raise _database_error(exc) from exc


def set_branch_name(conn: Conn, intent_id: int, branch_name: str) -> None:
    _call(conn, "SELECT pggit._intent_set_branch(%s, %s)", (intent_id, branch_name))


def record_dry_run(conn: Conn, intent_id: int, report: dict[str, Any], warnings: Sequence[str]) -> None:
    _call(conn, "SELECT pggit._intent_set_dry_run(%s, %s, %s::text[])", (intent_id, Jsonb(report), list(warnings)))


def _intent(row: dict[str, Any], conflicts: list[IntentConflict] | None = None) -> Intent:
    return Intent(**{k: v for k, v in row.items()}, conflicts=conflicts or [])


def get(conn: Conn, intent_id: int) -> Intent:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_INTENT_SELECT + " WHERE i.id = %s", (intent_id,)).fetchone()
    if row is None:
        raise NotFound(f"intent {intent_id} does not exist",
                       hint="list intents with `pggit coordinate list-intents`")
    return _intent(row)


def list_intents(conn: Conn, statuses: Sequence[IntentStatus] | None = None,
                 agent_id: str | None = None, *, flow_run_id: str | None = None,
                 with_flow_run: bool = False) -> list[Intent]:
    """Intents by id, optionally of some statuses, of one agent, of one flow run, or only those that record one."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _INTENT_SELECT + """
                 WHERE (%(statuses)s::text[] IS NULL OR i.status = ANY(%(statuses)s::text[]))
                   AND (%(agent)s::text IS NULL OR i.agent_id = %(agent)s::text)
                   AND (%(run)s::text IS NULL OR i.flow_run_id = %(run)s::text)
                   AND (NOT %(with_run)s OR i.flow_run_id IS NOT NULL)
                 ORDER BY i.id""",
            {"statuses": None if statuses is None else [str(s) for s in statuses], "agent": agent_id,
             "run": flow_run_id, "with_run": with_flow_run}).fetchall()
    return [_intent(r) for r in rows]


def _conflict(row: dict[str, Any], seen_from: int | None) -> IntentConflict:
    data = dict(row)
    if seen_from is not None and data["other_intent_id"] == seen_from:
        # Seen from the other side: swap so that other_* names the intent this one conflicts with.
        data["intent_id"], data["other_intent_id"] = data["other_intent_id"], data["intent_id"]
        data["agent_id"], data["other_agent_id"] = data["other_agent_id"], data["agent_id"]
        data["feature_name"], data["other_feature_name"] = data["other_feature_name"], data["feature_name"]
        data["resolution_suggestions"] = [
            COORDINATE_WITH.format(agent=data["other_agent_id"]) if s.startswith(COORDINATE_PREFIX) else s
            for s in data["resolution_suggestions"]]
    return IntentConflict(**data)


def conflicts(conn: Conn, intent_id: int | None = None, *, unresolved_only: bool = False) -> list[IntentConflict]:
    """Conflicts of one intent (either side), or of all intents; optionally only unresolved ones."""
    if intent_id is not None:
        get(conn, intent_id)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _CONFLICT_SELECT + """
             WHERE (%(id)s::bigint IS NULL OR c.intent_id = %(id)s::bigint OR c.other_intent_id = %(id)s::bigint)
               AND (NOT %(open)s OR NOT c.reviewed)
             ORDER BY c.id""", {"id": intent_id, "open": unresolved_only}).fetchall()
    return [_conflict(r, intent_id) for r in rows]


def recorded_conflicts(conn: Conn, intent_id: int) -> list[IntentConflict]:
    """The conflicts the intent's own registration recorded (what ``record`` returned with it)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_CONFLICT_SELECT + " WHERE c.intent_id = %s ORDER BY c.id", (intent_id,)).fetchall()
    return [IntentConflict(**r) for r in rows]


def finished_branches(conn: Conn) -> list[str]:
    """Branches still alive whose intent is merged or abandoned (and that no live intent uses), by name."""
    rows = conn.execute(
        "SELECT DISTINCT b.name FROM pggit.branches b JOIN pggit.intents i ON i.branch_name = b.name "
        "WHERE b.status <> 'deleted' AND i.status IN ('merged', 'abandoned') AND NOT EXISTS ("
        "  SELECT 1 FROM pggit.intents l WHERE l.branch_name = b.name "
        "     AND l.status NOT IN ('merged', 'abandoned')) ORDER BY 1").fetchall()
    return [str(r[0]) for r in rows]


def get_conflict(conn: Conn, conflict_id: int) -> IntentConflict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_CONFLICT_SELECT + " WHERE c.id = %s", (conflict_id,)).fetchone()
    if row is None:
        raise NotFound(f"conflict {conflict_id} does not exist",
                       hint="list open conflicts with `pggit coordinate conflicts`")
    return _conflict(row, None)


def resolve(conn: Conn, conflict_id: int, notes: str) -> IntentConflict:
    """Mark a conflict reviewed with notes (resolving it again replaces the notes, who and when); the agent of
    either intent or a merger may (pggit._intent_conflict_review)."""
    try:
        row = conn.execute("SELECT pggit._intent_conflict_review(%s, %s)", (conflict_id, notes)).fetchone()
    except psycopg.Error as exc:
        raise _database_error(exc) from exc
    if row is None or row[0] is None:
        raise NotFound(f"conflict {conflict_id} does not exist",
                       hint="list open conflicts with `pggit coordinate conflicts`")
    return get_conflict(conn, conflict_id)


def set_status(conn: Conn, intent_id: int, status: IntentStatus, reason: str) -> Intent:
    """Change an intent's status; the SQL trigger validates the transition and records the event."""
    try:
        with conn.transaction():
            set_reason(conn, reason)
            row = conn.execute("UPDATE pggit.intents SET status = %s WHERE id = %s RETURNING id",
                               (str(status), intent_id)).fetchone()
    except psycopg.Error as exc:
        raise _database_error(exc) from exc
    if row is None:
        intent = get(conn, intent_id)  # NotFound when there is no such intent
        raise PermissionDenied(f"this role may not change the status of intent {intent_id} (agent {intent.agent_id})",
                               hint="an agent changes its own intents; a merger changes any")
    return get(conn, intent_id)


def events(conn: Conn, intent_id: int) -> list[dict[str, Any]]:
    get(conn, intent_id)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT from_status, to_status, actor, reason, at FROM pggit.intent_events "
                           "WHERE intent_id = %s ORDER BY id", (intent_id,)).fetchall()


def create_branch(conn: Conn, name: str, base: str, agent_id: str) -> None:
    """The intent's branch (pggit.create_branch: a real copy of ``base``'s schemas). It belongs to the agent's
    role when the agent has one (a merger registering for it makes it so), else to whoever registers."""
    _call(conn, "SELECT pggit.create_branch(%(name)s, %(base)s, owner => CASE WHEN pggit._is_agent(%(agent)s) "
                "AND %(agent)s <> pggit._invoker() THEN %(agent)s END)",
          {"name": name, "base": base, "agent": agent_id})


def dry_run(conn: Conn, branch: str, footprint: Footprint) -> dict[str, Any]:
    """Run the executable statements on ``branch`` inside a savepoint that is always rolled back, and read
    from pggit.ddl_log (written by capture's event triggers) what PostgreSQL touched."""
    report: dict[str, Any] = {"ran": 0, "skipped": [], "error": None, "failed_statement": None, "touched": []}
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL statement_timeout = '10s'")
            conn.execute("SET LOCAL lock_timeout = '2s'")
            conn.execute("SELECT pggit.checkout(%s)", (branch,))
            for statement in footprint.statements:
                if report["error"] is not None or not statement.executable:
                    report["skipped"].append(statement.index)
                    continue
                try:
                    with conn.transaction():
                        conn.execute(statement.text.encode())
                    report["ran"] += 1
                except psycopg.Error as exc:
                    diag = exc.diag
                    report["error"] = diag.message_primary or str(exc).strip()
                    report["failed_statement"] = statement.index
            rows = conn.execute(
                """SELECT o->>'type', o->>'identity', o->>'schema', o->>'tracked_schema'
                     FROM pggit.ddl_log l, jsonb_array_elements(l.objects) o
                    WHERE l.txid = pg_current_xact_id()
                      AND l.branch_id = (SELECT id FROM pggit.branches WHERE name = %s AND status <> 'deleted')""",
                (branch,)).fetchall()
            report["touched"] = sorted({t for t in (_tracked_identity(*r) for r in rows) if t})
    except psycopg.Error as exc:
        mapped = from_database_error(exc)
        report["error"] = (mapped.message if isinstance(mapped, PgGitError) else str(exc).strip())
    return report


def _tracked_identity(obj_type: object, identity: object, schema: object, tracked: object) -> str | None:
    """A ddl_log object as a branch-relative name (``public.users``); None for what footprints do not track
    (implicit sequences, row types)."""
    if not isinstance(identity, str) or not isinstance(schema, str) or not isinstance(tracked, str):
        return None
    if obj_type not in {"table", "view", "index", "function", "materialized view", "type"}:
        return None
    name = identity
    prefix = f"{schema}."
    quoted_prefix = f'"{schema}".'
    if name.startswith(quoted_prefix):
        name = name[len(quoted_prefix):]
    elif name.startswith(prefix):
        name = name[len(prefix):]
    if obj_type == "function":
        name = name.split("(", 1)[0]
    if obj_type == "type" and name.endswith("[]"):
        return None
    return f"{tracked}.{name.strip(chr(34))}"
