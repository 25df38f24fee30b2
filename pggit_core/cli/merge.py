"""The merge face: `pggit merge`, `pggit conflicts`, `pggit resolve`, `pggit proposal`, `pggit approve-proposal`
and `pggit merges` (history)."""

from __future__ import annotations

from typing import Annotated

import typer

from pggit_core import merge as merging
from pggit_core import resolution
from pggit_core.cli.output import Format, console, print_json, print_table
from pggit_core.conflicts import MergeConflict
from pggit_core.connect import connection
from pggit_core.errors import ConflictsBlock

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", envvar="PGGIT_DSN", help="PostgreSQL DSN; default: the embedded server."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]


def merge(
    source: Annotated[str, typer.Argument(help="Branch to merge (theirs).")],
    into: Annotated[str, typer.Option("--into", help="Target branch (ours).")] = "main",
    auto_resolve: Annotated[bool, typer.Option("--auto-resolve", help="Keep both sides' new columns and indexes.")]
    = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Merge SOURCE into a branch (main by default): all of it in one transaction, or nothing."""
    with connection(dsn) as conn:
        result = merging.merge(conn, source, into, auto_resolve=auto_resolve)
    if format is Format.json:
        print_json(result)
    elif result.result == "merged":
        console.print(f"Merged {source} into {into} (merge {result.merge_id}, commit {result.result_commit_id}, "
                      f"{len(result.statements)} statement(s) by {result.method}).", highlight=False, markup=False)
        for note in result.notes:
            console.print(f"  note: {note}", highlight=False, markup=False)
        for auto in result.auto_resolved:
            console.print(f"  auto-resolved {auto.conflict_type} {auto.object_key}: {auto.advice}",
                          highlight=False, markup=False)
    elif result.result == "noop":
        console.print(f"Nothing to merge: {into} already has every change of {source} (merge {result.merge_id}).",
                      highlight=False, markup=False)
    else:
        _print_conflicts(f"Merge {result.merge_id} of {source} into {into} stopped: {into} is unchanged",
                         result.conflicts)
        console.print("Resolve each with `pggit resolve --conflict-id N --resolution ours|theirs|custom`, "
                      "then run the merge again.", highlight=False, markup=False)
    if result.has_conflicts:
        raise ConflictsBlock(f"merge {result.merge_id} of {source} into {into} stopped by "
                             f"{len(result.conflicts)} open conflict(s); {into} is unchanged",
                             hint="pggit conflicts; pggit resolve --conflict-id N --resolution ours|theirs|custom")


def conflicts(
    all_: Annotated[bool, typer.Option("--all", help="Include resolved conflicts.")] = False,
    source: Annotated[str | None, typer.Option("--source", help="Only conflicts of this source branch.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Only conflicts in this target branch.")] = None,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """List merge conflicts (open ones unless --all)."""
    with connection(dsn) as conn:
        found = merging.conflicts(conn, include_resolved=all_, source=source, target=target)
    if format is Format.json:
        print_json(found)
        return
    _print_conflicts("Merge conflicts" if all_ else "Open merge conflicts", found)


def resolve(
    conflict_id: Annotated[int, typer.Option("--conflict-id", help="Conflict to resolve.")],
    resolution: Annotated[str, typer.Option("--resolution", help="ours | theirs | custom.")],
    sql: Annotated[str | None, typer.Option("--sql", help="The custom SQL (with --resolution custom).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Why; kept with the conflict.")] = None,
    force: Annotated[bool, typer.Option("--force", help="A merger's: record the custom SQL without its checks "
                                                        "(who forced it is recorded).")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Record a conflict's resolution. Custom SQL must be schema changes only; it is tried on a scratch copy of
    the target first, may change only the conflict's objects and may drop nothing that no side dropped."""
    with connection(dsn) as conn:
        done = merging.resolve_conflict(conn, conflict_id, resolution, sql, notes, force=force)
    if format is Format.json:
        print_json(done)
        return
    console.print(f"Conflict {done.id} ({done.conflict_type} {done.object_key}) resolved: {done.resolution}. "
                  f"Run `pggit merge {done.source_branch} --into {done.target_branch}` again to apply it.",
                  highlight=False, markup=False)


def proposal(
    conflict_id: Annotated[int, typer.Option("--conflict-id", help="Conflict whose LLM proposal to show.")],
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Show the LLM resolution recorded on a conflict: its status and, when one validated, the statements that
    `pggit approve-proposal` would apply (docs/llm-resolution.md)."""
    with connection(dsn) as conn:
        recorded = resolution.recorded_proposal(conn, conflict_id)
    if format is Format.json:
        print_json(recorded)
        return
    conflict = recorded.conflict
    console.print(f"Conflict {conflict.id} ({conflict.conflict_type} {conflict.object_key}, {conflict.severity}, "
                  f"{conflict.source_branch} -> {conflict.target_branch}): "
                  f"{recorded.status or 'no LLM resolution recorded'}", highlight=False, markup=False)
    if recorded.reason:
        console.print(f"  {recorded.reason}", highlight=False, markup=False)
    if recorded.waiting is not None:
        waiting = recorded.waiting
        console.print(f"  proposal by {waiting.model}, confidence {waiting.confidence:.2f}: {waiting.rationale}",
                      highlight=False, markup=False)
        for statement in waiting.statements:
            console.print(f"    {statement}", highlight=False, markup=False)
        console.print(f"Approve it with `pggit approve-proposal --conflict-id {conflict.id} --approver NAME`.",
                      highlight=False, markup=False)


def approve_proposal(
    conflict_id: Annotated[int, typer.Option("--conflict-id", help="Conflict whose waiting proposal to approve.")],
    approver: Annotated[str, typer.Option("--approver", help="Who approves (recorded with the resolution).")],
    sample_rows: Annotated[int, typer.Option("--sample-rows", min=0, help="Validate again with this many rows "
                                                                         "per table copied.")] = 0,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Approve the validated LLM proposal waiting on a conflict: it is validated again against the target as it
    is now, then recorded as the conflict's custom resolution (applied by the next merge)."""
    with connection(dsn) as conn:
        outcome = resolution.approve_proposal(conn, conflict_id, approver, sample_rows=sample_rows)
        conflict = resolution.recorded_proposal(conn, conflict_id).conflict
    if format is Format.json:
        print_json(outcome)
        return
    if outcome.status == "already_resolved":
        console.print(f"Conflict {conflict_id} was already resolved ({conflict.resolution}); nothing was approved.",
                      highlight=False, markup=False)
        return
    console.print(f"Conflict {conflict.id} ({conflict.conflict_type} {conflict.object_key}): the proposal was "
                  f"validated again and recorded as its custom resolution, {outcome.reason}. Run "
                  f"`pggit merge {conflict.source_branch} --into {conflict.target_branch}` again to apply it.",
                  highlight=False, markup=False)


def merges(
    source: Annotated[str | None, typer.Option("--source", help="Only merges of this source branch.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Only merges into this target branch.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many attempts.")] = 50,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Show the merge history: every attempt, newest first."""
    with connection(dsn) as conn:
        found = merging.history(conn, source=source, target=target, limit=limit)
    if format is Format.json:
        print_json(found)
        return
    print_table("Merge history", ["id", "source", "target", "result", "conflicts", "statements", "by", "at"],
                [(m.id, m.source_branch, m.target_branch, m.result, m.had_conflicts, m.statements_applied,
                  m.merged_by, m.created_at) for m in found])


def _print_conflicts(title: str, found: list[MergeConflict] | tuple[MergeConflict, ...]) -> None:
    print_table(title, ["id", "type", "severity", "object", "source -> target", "resolved", "advice"],
                [(c.id, c.conflict_type, c.severity, c.object_key, f"{c.source_branch} -> {c.target_branch}",
                  c.resolution or ("no (auto-resolvable)" if c.auto_resolvable else "no"), c.advice) for c in found])


def register(app: typer.Typer) -> None:
    """Add this face's commands to the root app."""
    app.command("merge")(merge)
    app.command("conflicts")(conflicts)
    app.command("resolve")(resolve)
    app.command("proposal")(proposal)
    app.command("approve-proposal")(approve_proposal)
    app.command("merges")(merges)
