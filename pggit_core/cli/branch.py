"""The branch face: `pggit branch create|delete|list`, `checkout`, `commit`, `log` and `diff`."""

from __future__ import annotations

from typing import Annotated

import typer

from pggit_core.cli.output import Format, console, print_json, print_table
from pggit_core.client import PgGitClient
from pggit_core.connect import connection
from pggit_core.store.commits import Commit

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", envvar="PGGIT_DSN", help="PostgreSQL DSN; default: the embedded server."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]


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
    app.command("checkout")(checkout)
    app.command("commit")(commit)
    app.command("log")(log)
