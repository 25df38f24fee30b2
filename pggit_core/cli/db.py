"""`pggit db start|status|stop|url|reset`: the embedded PostgreSQL server."""

from __future__ import annotations

from typing import Annotated

import typer

from pggit_core.cli.output import Format, console, print_json
from pggit_core.errors import ServerError
from pggit_core.server import EmbeddedServer

app = typer.Typer(help="Manage the embedded PostgreSQL server (data under .pggit/ or $PGGIT_HOME).",
                  no_args_is_help=True)

PortOption = Annotated[int | None, typer.Option("--port", envvar="PGGIT_PG_PORT",
                                                 help="Loopback port; default: a free one.")]


@app.command()
def start(port: PortOption = None, format: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Start the embedded server, or reuse it when it already runs."""
    server = EmbeddedServer(port=port)
    already = server.status()
    info = server.start()
    if format is Format.json:
        print_json({"dsn": info.dsn, "port": info.port, "pid": info.pid, "data_dir": info.data_dir,
                    "reused": already is not None})
        return
    verb = "Reusing" if already is not None else "Started"
    console.print(f"{verb} PostgreSQL (pid {info.pid}) on 127.0.0.1:{info.port}, data in {info.data_dir}")
    console.print(f"DSN: {info.dsn}", highlight=False)


@app.command()
def status(format: Annotated[Format, typer.Option("--format")] = Format.table) -> None:
    """Say whether the embedded server runs, and where."""
    server = EmbeddedServer()
    info = server.status()
    if format is Format.json:
        print_json(None if info is None else {"dsn": info.dsn, "port": info.port, "pid": info.pid,
                                              "data_dir": info.data_dir})
        return
    if info is None:
        console.print("The embedded server is not running (start it with `pggit db start`).")
        raise typer.Exit(1)
    console.print(f"Running: pid {info.pid}, 127.0.0.1:{info.port}, data in {info.data_dir}")


@app.command()
def url() -> None:
    """Print the embedded server's DSN (fails when it is not running)."""
    info = EmbeddedServer().status()
    if info is None:
        raise ServerError("the embedded server is not running", hint="start it with `pggit db start`")
    typer.echo(info.dsn)


@app.command()
def stop() -> None:
    """Stop the embedded server (its data stays)."""
    if EmbeddedServer().stop():
        console.print("Stopped the embedded server.")
    else:
        console.print("The embedded server was not running.")


@app.command()
def reset(yes: Annotated[bool, typer.Option("--yes", help="Really delete the data.")] = False) -> None:
    """Stop the embedded server and delete all of its data."""
    if not yes:
        raise ServerError("refusing to delete the embedded server's data without --yes",
                          hint="run `pggit db reset --yes`")
    EmbeddedServer().destroy()
    console.print("Deleted the embedded server's data.")
