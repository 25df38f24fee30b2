"""The root typer app and the commands that belong to no face: init and status."""

from __future__ import annotations

from typing import Annotated

import typer

from pggit_core import install
from pggit_core.cli import agent, branch, coordinate, db, merge, migrate, serve
from pggit_core.cli.output import Format, console, print_json, print_table
from pggit_core.connect import connection, redact, resolve_dsn
from pggit_core.server import EmbeddedServer

app = typer.Typer(
    name="pggit",
    help="Git-style branches, merges and agent coordination for PostgreSQL schemas.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
for face in (agent, branch, merge, coordinate, migrate, serve):
    face.register(app)

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", envvar="PGGIT_DSN", help="PostgreSQL DSN; default: the embedded server."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]


@app.command()
def init(dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Install or upgrade the pggit schema in the database (idempotent, one transaction)."""
    with connection(dsn) as conn:
        result = install.install(conn)
    if format is Format.json:
        print_json({"previous_version": result.previous_version, "version": result.version,
                    "changed": result.changed})
    elif not result.changed:
        console.print(f"pggit schema is up to date (version {result.version}); nothing to do.")
    elif result.previous_version is None:
        console.print(f"Installed the pggit schema, version {result.version}.")
    else:
        console.print(f"Upgraded the pggit schema from version {result.previous_version} to {result.version}.")


@app.command()
def status(dsn: DsnOption = None, format: FormatOption = Format.table) -> None:
    """Show the server, the database and the installed pggit schema version."""
    target = resolve_dsn(dsn)
    embedded = EmbeddedServer().status() if not dsn else None
    with connection(target) as conn:
        version_row = conn.execute("SELECT current_setting('server_version'), current_database()").fetchone()
        assert version_row is not None
        schema_version = install.installed_version(conn)
        branches = None
        if schema_version is not None:
            row = conn.execute("SELECT count(*) FROM pggit.branches WHERE status <> 'deleted'").fetchone()
            branches = int(str(row[0])) if row else 0
    data = {
        "dsn": redact(target),
        "server_version": version_row[0],
        "database": version_row[1],
        "embedded": embedded is not None,
        "data_dir": embedded.data_dir if embedded else None,
        "schema_version": schema_version,
        "package_schema_version": install.package_version(),
        "branches": branches,
    }
    if format is Format.json:
        print_json(data)
        return
    rows = [(k, "not installed (run `pggit init`)" if k == "schema_version" and v is None else v)
            for k, v in data.items()]
    print_table("pggit status", ["what", "value"], rows)
