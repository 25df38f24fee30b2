"""The agents face: `pggit agent add|list|remove` (an admin's DSN)."""

from __future__ import annotations

from typing import Annotated

import typer

from pggit_core import agents
from pggit_core.cli.output import Format, console, print_json, print_table
from pggit_core.connect import connection, resolve_dsn

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", envvar="PGGIT_DSN", help="An admin's (superuser's) DSN; default: the embedded server."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]

agent_app = typer.Typer(help="Agent roles: each agent connects as its own non-superuser role "
                             "(`pggit agent` alone lists them).")


@agent_app.callback(invoke_without_command=True)
def agent_group(ctx: typer.Context, dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Agent roles: each agent connects as its own non-superuser role (`pggit agent` alone lists them)."""
    if ctx.invoked_subcommand is None:
        list_command(dsn, format)


@agent_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="The agent's name, also its role, e.g. claude-payments.")],
    merger: Annotated[bool, typer.Option("--merger", help="It may merge into main and resolve any conflict.")] = False,
    new_password: Annotated[bool, typer.Option("--new-password", help="Give it a new password (old DSNs stop "
                                                                      "working).")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Create (idempotently) a login role for an agent and print its connection string."""
    admin = resolve_dsn(dsn)
    with connection(admin) as conn:
        login = agents.add(conn, name, admin_dsn=admin, merger=merger, new_password=new_password)
    if format is Format.json:
        print_json(login)
        return
    console.print(agents.describe(login), highlight=False, markup=False)
    typer.echo(login.dsn)


@agent_app.command("list")
def list_command(dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """The agents of this database."""
    with connection(dsn) as conn:
        found = agents.list_agents(conn)
    if format is Format.json:
        print_json(found)
        return
    print_table("agents", ["name", "merger", "live branches", "created by", "created at"],
                [(a.name, "yes" if a.merger else "no", a.live_branches, a.created_by, a.created_at) for a in found])


@agent_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The agent to remove.")],
    force: Annotated[bool, typer.Option("--force", help="Also delete its live branches.")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Drop an agent's role (with --force, its live branches too) and end its sessions."""
    with connection(dsn) as conn:
        removed = agents.remove(conn, name, force=force)
    if format is Format.json:
        print_json(removed)
        return
    deleted = removed.get("branches_deleted") or []
    console.print(f"Removed agent {name}" + (f" and its branches {', '.join(deleted)}" if deleted else "") + ".",
                  highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
