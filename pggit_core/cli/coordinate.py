"""`pggit coordinate ...`: agent intents, conflicts, locks, partitions and the dashboard (JSON documented in
docs/coordinate-json.md; exit 10 when ERROR conflicts block)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer
from psycopg.rows import dict_row

from pggit_core.cli.output import Format, print_json, print_table
from pggit_core.conflicts import ConflictSeverity
from pggit_core.connect import connection
from pggit_core.coordination import IntentRegistry
from pggit_core.errors import ConflictsBlock, InvalidInput
from pggit_core.intents import CheckResult, Intent, IntentConflict, TableLock

app = typer.Typer(help="Coordinate agents: declare intents, see conflicts first, lock and partition tables.",
                  no_args_is_help=True)

DsnOption = Annotated[str | None, typer.Option("--dsn", envvar="PGGIT_DSN",
                                               help="PostgreSQL DSN; default: the embedded server.")]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]
AgentOption = Annotated[str, typer.Option("--agent-id", help="Who will make the change.")]
FeatureOption = Annotated[str, typer.Option("--feature-name", help="What the change is for.")]
ChangesOption = Annotated[list[str], typer.Option("--schema-changes",
                                                  help="A proposed statement (repeat for several).")]
TablesOption = Annotated[list[str] | None, typer.Option(
    "--tables-affected", help="A table the change affects (repeat, or comma-separate).")]
RiskOption = Annotated[str, typer.Option("--risk-level", help="low, medium, high or critical.")]
AgentTypeOption = Annotated[str | None, typer.Option(
    "--agent-type", help="The agent's partition (pggit_agent_partitions.agent_type); default: the agent id.")]
IntentOption = Annotated[int, typer.Option("--intent-id", help="The intent's id.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit trail).")]
NoBranchOption = Annotated[bool, typer.Option("--no-branch", help="Do not allocate a branch (and no dry run).")]

BLOCKED = ConflictsBlock.exit_code


def register(root: typer.Typer) -> None:
    """Add this face's commands to the root app."""
    root.add_typer(app, name="coordinate")


def _tables(values: list[str] | None) -> list[str]:
    return [t.strip() for v in values or [] for t in v.split(",") if t.strip()]


def _exit_if_blocked(conflicts: list[IntentConflict]) -> None:
    if any(c.severity == ConflictSeverity.ERROR and not c.reviewed for c in conflicts):
        raise SystemExit(BLOCKED)


def print_conflict(c: IntentConflict) -> None:
    """One conflict, as the seed prints it."""
    icon = "❌" if c.severity == ConflictSeverity.ERROR else "⚠️"
    typer.echo(f"{icon} {c.severity}: {c.conflict_type} conflict detected")
    typer.echo(f"  Affected: {', '.join(c.affected_objects)}")
    typer.echo(f"  Conflicting intent: {c.conflicting_with}")
    for suggestion in c.resolution_suggestions:
        typer.echo(f"  Suggestion: {suggestion}")
    if c.id is not None:
        state = f"resolved: {c.resolution_notes}" if c.reviewed else \
            f"resolve with: pggit coordinate resolve --conflict-id {c.id} --notes \"...\""
        typer.echo(f"  Conflict id: {c.id} ({state})")


def _print_intent(intent: Intent) -> None:
    typer.echo(f"Intent {intent.id}: {intent.agent_id} ({intent.feature_name}) is {intent.status}, "
               f"risk {intent.risk_level}, branch {intent.branch_name}")
    typer.echo(f"  Tables: {', '.join(intent.tables_affected) or '-'}")
    for warning in intent.footprint_warnings:
        typer.echo(f"  Note: {warning}")


def _print_check(result: CheckResult) -> None:
    typer.echo(f"Pre-flight for {result.agent_id} ({result.feature_name}): nothing recorded")
    typer.echo(f"  Tables: {', '.join(result.tables) or '-'}")
    for warning in result.footprint_warnings:
        typer.echo(f"  Note: {warning}")
    if not result.conflicts:
        typer.echo("✅ No conflicts with live intents, locks or partitions")
    for c in result.conflicts:
        print_conflict(c)


@app.command("register")
def register_cmd(agent_id: AgentOption, feature_name: FeatureOption, schema_changes: ChangesOption,
                 tables_affected: TablesOption = None, risk_level: RiskOption = "medium",
                 description: Annotated[str | None, typer.Option("--description", help="What the agent intends.")]
                 = None, agent_type: AgentTypeOption = None, no_branch: NoBranchOption = False,
                 dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Register an intent (allocates its branch) and report its conflicts; exit 10 when ERROR conflicts."""
    with connection(dsn) as conn:
        registry = IntentRegistry(conn, create_branches=not no_branch)
        intent = registry.register(agent_id=agent_id, feature_name=feature_name, schema_changes=schema_changes,
                                   tables_affected=_tables(tables_affected), risk_level=risk_level,
                                   description=description, agent_type=agent_type)
    if format is Format.json:
        print_json(intent)
    else:
        _print_intent(intent)
        if not intent.conflicts:
            typer.echo("✅ No conflicts with live intents, locks or partitions")
        for c in intent.conflicts:
            print_conflict(c)
    _exit_if_blocked(intent.conflicts)


@app.command("check")
def check_cmd(agent_id: AgentOption, feature_name: FeatureOption, schema_changes: ChangesOption,
              tables_affected: TablesOption = None, risk_level: RiskOption = "medium",
              agent_type: AgentTypeOption = None, no_branch: NoBranchOption = False, dsn: DsnOption = None,
              format: FormatOption = Format.table) -> None:
    """Pre-flight conflict check: the same analysis as register, nothing recorded; exit 10 on ERROR conflicts."""
    with connection(dsn) as conn:
        result = IntentRegistry(conn, create_branches=not no_branch).check(agent_id=agent_id, feature_name=feature_name,
                                            schema_changes=schema_changes,
                                            tables_affected=_tables(tables_affected), risk_level=risk_level,
                                            agent_type=agent_type)
    if format is Format.json:
        print_json(result)
    else:
        _print_check(result)
    _exit_if_blocked(result.conflicts)


@app.command("list-intents")
def list_intents_cmd(status_filter: Annotated[list[str] | None, typer.Option(
                         "--status-filter", help="Only these statuses (repeat, or comma-separate).")] = None,
                     agent_id: Annotated[str | None, typer.Option("--agent-id", help="Only this agent.")] = None,
                     dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """List intents (all, or those with the given statuses)."""
    statuses = _tables(status_filter) or None
    with connection(dsn) as conn:
        intents = IntentRegistry(conn).list_intents(status_filter=statuses, agent_id=agent_id)
    if format is Format.json:
        print_json(intents)
        return
    print_table("intents", ["id", "agent", "feature", "status", "risk", "branch", "tables", "created"],
                [(i.id, i.agent_id, i.feature_name, i.status.value, i.risk_level.value, i.branch_name,
                  ", ".join(i.tables_affected), i.created_at.strftime("%Y-%m-%d %H:%M:%S")) for i in intents])


@app.command("conflicts")
def conflicts_cmd(intent_id: Annotated[int | None, typer.Option("--intent-id", help="Only this intent's.")] = None,
                  all_: Annotated[bool, typer.Option("--all", help="Include resolved conflicts.")] = False,
                  dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Unresolved conflicts of an intent, or of all intents (--all: resolved ones too)."""
    with connection(dsn) as conn:
        found = IntentRegistry(conn).get_conflicts(intent_id, unresolved_only=not all_)
    if format is Format.json:
        print_json(found)
        return
    if not found:
        typer.echo("No unresolved conflicts." if not all_ else "No conflicts.")
    for c in found:
        if intent_id is None:
            typer.echo(f"Intent {c.intent_id}: {c.agent_id} ({c.feature_name})")
        print_conflict(c)


@app.command("resolve")
def resolve_cmd(conflict_id: Annotated[int, typer.Option("--conflict-id", help="The conflict's id.")],
                notes: Annotated[str, typer.Option("--notes", help="How it was resolved.")],
                dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Mark a conflict resolved, with notes."""
    with connection(dsn) as conn:
        conflict = IntentRegistry(conn).resolve_conflict(conflict_id, resolution_notes=notes)
    if format is Format.json:
        print_json(conflict)
        return
    typer.echo(f"✅ Conflict {conflict.id} resolved by {conflict.resolved_by}: {conflict.resolution_notes}")


@app.command("status")
def status_cmd(intent_id: IntentOption, dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """One intent: status, branch, footprint, conflicts and its audit trail."""
    with connection(dsn) as conn:
        registry = IntentRegistry(conn)
        intent = registry.get_with_conflicts(intent_id)
        history = registry.history(intent_id)
    if format is Format.json:
        data = intent.model_dump(mode="json")
        data["history"] = _plain(history)
        print_json(data)
        return
    _print_intent(intent)
    for event in history:
        typer.echo(f"  {event['at']:%Y-%m-%d %H:%M:%S} {event['from_status'] or '-'} -> {event['to_status']} "
                   f"by {event['actor']}{': ' + event['reason'] if event['reason'] else ''}")
    for c in intent.conflicts:
        print_conflict(c)


def _move(command: str, intent_id: int, reason: str | None, dsn: str | None, format: Format) -> None:
    with connection(dsn) as conn:
        registry = IntentRegistry(conn)
        mover = {"mark-in-progress": registry.mark_in_progress, "mark-completed": registry.mark_completed,
                 "mark-merged": registry.mark_merged, "mark-pending-review": registry.mark_pending_review,
                 "abandon": registry.abandon}[command]
        intent = mover(intent_id, reason)
    if format is Format.json:
        print_json(intent)
        return
    typer.echo(f"Intent {intent.id} ({intent.agent_id} / {intent.feature_name}) is now {intent.status}")


@app.command("mark-in-progress")
def mark_in_progress_cmd(intent_id: IntentOption, reason: ReasonOption = None, dsn: DsnOption = None,
                         format: FormatOption = Format.table) -> None:
    """The agent started working on the intent."""
    _move("mark-in-progress", intent_id, reason, dsn, format)


@app.command("mark-completed")
def mark_completed_cmd(intent_id: IntentOption, reason: ReasonOption = None, dsn: DsnOption = None,
                       format: FormatOption = Format.table) -> None:
    """The agent finished its work on the branch."""
    _move("mark-completed", intent_id, reason, dsn, format)


@app.command("mark-pending-review")
def mark_pending_review_cmd(intent_id: IntentOption, reason: ReasonOption = None, dsn: DsnOption = None,
                            format: FormatOption = Format.table) -> None:
    """The work waits for a human review before merging."""
    _move("mark-pending-review", intent_id, reason, dsn, format)


@app.command("mark-merged")
def mark_merged_cmd(intent_id: IntentOption, reason: ReasonOption = None, dsn: DsnOption = None,
                    format: FormatOption = Format.table) -> None:
    """The intent's branch was merged (it leaves the live footprint index)."""
    _move("mark-merged", intent_id, reason, dsn, format)


@app.command("abandon")
def abandon_cmd(intent_id: IntentOption, reason: ReasonOption = None, dsn: DsnOption = None,
                format: FormatOption = Format.table) -> None:
    """Give the intent up (its open conflicts are closed)."""
    _move("abandon", intent_id, reason, dsn, format)


_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


def parse_ttl(value: str | None) -> timedelta | None:
    """``90``, ``90s``, ``30m``, ``2h``, ``1d`` -> timedelta; None means no expiry."""
    if value is None:
        return None
    match = _TTL.match(value)
    if not match or int(match.group(1)) <= 0:
        raise InvalidInput(f"{value!r} is not a time to live", hint="use e.g. 90s, 30m, 2h or 1d")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def _plain(value: Any) -> Any:
    """JSON-ready: timestamps as ISO 8601, numerics as numbers."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _lock_row(lock: TableLock) -> dict[str, Any]:
    return {"table_name": lock.table_name, "agent_id": lock.agent_id, "locked_at": _plain(lock.locked_at),
            "expires_at": _plain(lock.expires_at), "reason": lock.reason}


@app.command("lock")
def lock_cmd(table: Annotated[str, typer.Option("--table", help="The table to lock (users, auth.sessions).")],
             agent_id: AgentOption,
             ttl: Annotated[str | None, typer.Option("--ttl", help="Expiry, e.g. 30m, 2h; default: none.")] = None,
             reason: ReasonOption = None, dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Take a table lock; exit 10 when another agent holds it."""
    with connection(dsn) as conn:
        lock, acquired = IntentRegistry(conn).lock_table(table, agent_id, parse_ttl(ttl), reason)
    if format is Format.json:
        print_json({"acquired": acquired, "lock": _lock_row(lock)})
    elif acquired:
        until = f" until {lock.expires_at:%Y-%m-%d %H:%M:%S %Z}" if lock.expires_at else " (no expiry)"
        typer.echo(f"🔒 {lock.table_name} locked by {lock.agent_id}{until}")
    else:
        until = f" until {lock.expires_at:%Y-%m-%d %H:%M:%S %Z}" if lock.expires_at else " (no expiry)"
        typer.echo(f"⛔ {lock.table_name} is locked by {lock.agent_id}{until}; wait or coordinate with "
                   f"{lock.agent_id}")
    if not acquired:
        raise SystemExit(BLOCKED)


@app.command("unlock")
def unlock_cmd(table: Annotated[str, typer.Option("--table", help="The locked table.")], agent_id: AgentOption,
               dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Release a table lock held by the agent."""
    with connection(dsn) as conn:
        lock = IntentRegistry(conn).unlock_table(table, agent_id)
    if format is Format.json:
        print_json({"released": True, "lock": _lock_row(lock)})
        return
    typer.echo(f"🔓 {lock.table_name} released by {lock.agent_id}")


@app.command("locks")
def locks_cmd(dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Live (unexpired) table locks."""
    with connection(dsn) as conn:
        held = IntentRegistry(conn).locks()
    if format is Format.json:
        print_json([_lock_row(lk) for lk in held])
        return
    print_table("table locks", ["table", "agent", "locked at", "expires at", "reason"],
                [(lk.table_name, lk.agent_id, lk.locked_at, lk.expires_at or "never", lk.reason) for lk in held])


@app.command("partition")
def partition_cmd(agent_type: Annotated[str, typer.Option("--agent-type", help="The owning agent type.")],
                  tables: Annotated[list[str] | None, typer.Option("--tables", help="Owned tables.")] = None,
                  schemas: Annotated[list[str] | None, typer.Option("--schemas", help="Owned schemas.")] = None,
                  dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Create or replace an agent type's partition (owned tables and schemas)."""
    owned_tables, owned_schemas = _tables(tables), _tables(schemas)
    with connection(dsn) as conn:
        IntentRegistry(conn).define_partition(agent_type, owned_tables, owned_schemas)
    if format is Format.json:
        print_json({"agent_type": agent_type, "owned_tables": owned_tables, "owned_schemas": owned_schemas})
        return
    typer.echo(f"Partition {agent_type}: tables {', '.join(owned_tables) or '-'}; "
               f"schemas {', '.join(owned_schemas) or '-'}")


_DASHBOARD = {
    "activity": """SELECT agent_id, branch_name, intent, tables_affected, status, started_at, completed_at,
                          EXTRACT(EPOCH FROM (COALESCE(completed_at, NOW()) - started_at)) AS duration_seconds
                     FROM pggit.pggit_agent_intents ORDER BY started_at DESC LIMIT %(limit)s""",
    "conflict_rate": "SELECT * FROM pggit.pggit_conflict_rate ORDER BY date DESC LIMIT %(limit)s",
    "agent_performance": """SELECT * FROM pggit.pggit_agent_performance
                             ORDER BY conflicts DESC, open_intent_conflicts DESC, agent_id LIMIT %(limit)s""",
    "open_conflicts": """SELECT c.severity, c.conflict_type, count(*) AS count FROM pggit.intent_conflicts c
                          WHERE NOT c.reviewed GROUP BY 1, 2 ORDER BY 1, 2""",
    "locks": "SELECT * FROM pggit.pggit_live_table_locks ORDER BY table_name",
}


@app.command("dashboard")
def dashboard_cmd(limit: Annotated[int, typer.Option("--limit", help="Rows per section.")] = 20,
                  dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Agent activity, merge conflict rate, agent performance, open conflicts and locks."""
    if limit <= 0:
        raise InvalidInput("--limit must be positive", hint="e.g. --limit 20")
    data: dict[str, list[dict[str, Any]]] = {}
    with connection(dsn) as conn, conn.cursor(row_factory=dict_row) as cur:
        for name, query in _DASHBOARD.items():
            data[name] = cur.execute(query, {"limit": limit}).fetchall()
    if format is Format.json:
        print_json(_plain(data))
        return
    for name, rows in data.items():
        columns = [c for c in (rows[0].keys() if rows else ["(none)"]) if c not in _HIDDEN_IN_TABLE]
        print_table(name.replace("_", " "), columns, [[_cell(r[c]) for c in columns] for r in rows])


_HIDDEN_IN_TABLE = {"completed_at", "locked_at"}


def _cell(value: Any) -> Any:
    """Short cells for people: minutes-precision timestamps, whole seconds, lists joined."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() or abs(value) >= 10 else float(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value
