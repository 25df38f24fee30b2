"""The branch face: `pggit branch create|delete|list`, `checkout`, `commit`, `log` and `diff`."""

from __future__ import annotations

from typing import Annotated

import typer

from pggit_core.cli.output import Format, console, print_json, print_table
from pggit_core.client import PgGitClient
from pggit_core.connect import connection
from pggit_core.diff import Diff
from pggit_core.names import MAIN
from pggit_core.store.branches import Branch
from pggit_core.store.commits import Commit

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", envvar="PGGIT_DSN", help="PostgreSQL DSN; default: the embedded server."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]


branch_app = typer.Typer(help="Create, delete and list branches (`pggit branch` alone lists them).")


@branch_app.callback(invoke_without_command=True)
def branch_group(ctx: typer.Context, dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Create, delete and list branches (`pggit branch` alone lists them)."""
    if ctx.invoked_subcommand is None:
        list_branches(dsn, format)


@branch_app.command("create")
def create_branch(
    name: Annotated[str, typer.Argument(help="New branch, e.g. agent/claude-auth.")],
    from_branch: Annotated[str, typer.Option("--from", help="Branch to copy.")] = MAIN,
    copy_data: Annotated[bool, typer.Option("--copy-data", help="Copy the rows too.")] = False,
    row_limit: Annotated[int | None, typer.Option("--row-limit", min=0,
                                                  help="With --copy-data: at most this many rows per table.")] = None,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Create a branch: a real copy of the tracked schemas of another branch."""
    with connection(dsn) as conn:
        made = PgGitClient(conn).create_branch(name, from_branch, copy_data=copy_data, row_limit=row_limit)
    if format is Format.json:
        print_json(made)
        return
    console.print(f"Created branch {made.name} from {made.parent} (schemas {', '.join(made.schemas)}).",
                  highlight=False, markup=False)
    console.print(f"Work on it in psql: SELECT pggit.checkout({sql_literal(made.name)});", highlight=False,
                  markup=False)


@branch_app.command("delete")
def delete_branch(
    name: Annotated[str, typer.Argument(help="Branch to delete.")],
    force: Annotated[bool, typer.Option("--force", help="Also when it has unmerged or uncommitted work.")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Delete a branch and its schemas."""
    with connection(dsn) as conn:
        PgGitClient(conn).delete_branch(name, force=force)
    if format is Format.json:
        print_json({"deleted": name, "force": force})
        return
    console.print(f"Deleted branch {name}.", highlight=False, markup=False)


@branch_app.command("list")
def list_branches(dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """List the live branches, main first."""
    with connection(dsn) as conn:
        branches = PgGitClient(conn).list_branches()
    if format is Format.json:
        print_json(branches)
        return
    print_table("branches (--format json for all fields)", ["name", "parent", "head", "status", "schemas"],
                [_branch_row(b) for b in branches])


def _branch_row(branch: Branch) -> list[object]:
    return [branch.name, branch.parent, branch.head_commit_id, branch.status, ", ".join(branch.schemas)]


def diff(
    a: Annotated[str, typer.Argument(help="From: a branch name or a commit written @<id>.")],
    b: Annotated[str, typer.Argument(help="To: a branch name or a commit written @<id>.")],
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Show what turns A into B: per object added/removed/changed, the fields, and the SQL in apply order."""
    with connection(dsn) as conn:
        found = PgGitClient(conn).diff(a, b)
    if format is Format.json:
        print_json(found)
        return
    _print_diff(found)


def _print_diff(found: Diff) -> None:
    if found.is_empty:
        console.print(f"No differences between {found.a} and {found.b}.", highlight=False, markup=False)
        return
    print_table(f"diff {found.a} -> {found.b}", ["#", "object", "change", "fields", "statement"],
                [[c.ord, c.object_key, c.change.value, ", ".join(c.fields), c.statement] for c in found.changes])


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal, for the psql lines we print."""
    return "'" + text.replace("'", "''") + "'"


def checkout(
    name: Annotated[str, typer.Argument(help="Branch to check out ('main' goes back).")],
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Check that a branch exists and show how to check it out in your own session.

    A checkout belongs to one database session, and this command's session ends when it does: run
    `SELECT pggit.checkout('NAME');` in psql (or PgGitClient.checkout) on the connection that runs the DDL.
    """
    with connection(dsn) as conn:
        path = PgGitClient(conn).checkout(name)
    line = f"SELECT pggit.checkout({sql_literal(name)});"
    if format is Format.json:
        print_json({"branch": name, "search_path": path, "psql": line})
        return
    console.print(f"Branch {name!r} is ready (search_path {path}).", highlight=False)
    console.print("A checkout lasts for one database session, so it cannot outlive this command. In psql:",
                  highlight=False)
    console.print(f"  {line}", highlight=False, markup=False)
    console.print("then unqualified DDL in that session runs on the branch; "
                  "`SELECT pggit.checkout('main');` goes back.", highlight=False, markup=False)


def commit(
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")],
    branch: Annotated[str, typer.Option("--branch", "-b", help="Branch to commit.")] = "main",
    author: Annotated[str | None, typer.Option("--author", help="Default: the database role.")] = None,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Commit a branch: its snapshot plus the DDL captured on it since its last commit."""
    with connection(dsn) as conn:
        client = PgGitClient(conn)
        client.checkout(branch)
        made = client.commit(message, author)
    if format is Format.json:
        print_json(made)
        return
    console.print(f"Committed {made.commit_id} on {made.branch}: {made.message} "
                  f"({len(made.statements)} statement(s), snapshot {made.snapshot_hash[:12]})",
                  highlight=False, markup=False)


def log(
    branch: Annotated[str, typer.Argument(help="Branch whose commits to list.")] = "main",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many commits.")] = 50,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """List a branch's commits, newest first, with the statements each one grouped."""
    with connection(dsn) as conn:
        commits = PgGitClient(conn).log(branch, limit)
    if format is Format.json:
        print_json(commits)
        return
    print_table(f"log of {branch} (newest first; --format json shows the statements)",
                ["commit", "parent", "message", "author", "created", "statements"],
                [_log_row(c) for c in commits])


def _log_row(made: Commit) -> list[object]:
    return [made.commit_id, made.parent_id, made.message, made.author,
            made.created_at.strftime("%Y-%m-%d %H:%M:%S"), len(made.statements)]


def register(app: typer.Typer) -> None:
    """Add this face's commands to the root app."""
    app.add_typer(branch_app, name="branch")
    app.command("checkout")(checkout)
    app.command("commit")(commit)
    app.command("log")(log)
    app.command("diff")(diff)
