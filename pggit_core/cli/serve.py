"""CLI commands of the serve face: `pggit serve` (all deployments, one process) and `pggit demo` (coordinator).

Both run the Prefect layer of the checkout (deployments/serve.py, deployments/demo.py) as a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pggit_core.cli.output import Format, console
from pggit_core.errors import ConfigError


class Resolver(StrEnum):
    none = "none"
    anthropic = "anthropic"


def repository_root() -> Path:
    """The checkout that holds flows/, tasks/ and deployments/ (Prefect entry points are paths, not packages)."""
    candidates = [Path.cwd(), Path(__file__).resolve().parents[2]]
    env = os.environ.get("PGGIT_REPO")
    if env:
        candidates.insert(0, Path(env))
    for root in candidates:
        if (root / "flows" / "agent_lifecycle.py").is_file() and (root / "deployments" / "serve.py").is_file():
            return root.resolve()
    raise ConfigError(
        "the flows are not found: `pggit serve` and `pggit demo` run from a pggit-flows checkout",
        hint="cd into the repository (it has flows/, tasks/, deployments/) or set PGGIT_REPO to it",
    )


def run_in_checkout(module: str, args: list[str]) -> int:
    """Run ``python -m module args`` from the checkout, as its own process, and return its exit code.

    The library never imports flows/, tasks/ or deployments/ (they import it): the Prefect layer runs as a
    program, like `prefect deploy` runs its entry points by path. The child gets this process's Prefect settings
    (a temporary test server, a profile's API URL) as environment variables, as Prefect's own runner passes
    them, and what it prints is relayed line by line to this process's stdout.
    """
    from prefect.settings import get_current_settings

    root = repository_root()
    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
           "PYTHONUNBUFFERED": "1"}
    env.setdefault("PGGIT_REPO", str(root))
    if sys.stdout.isatty():
        env.setdefault("FORCE_COLOR", "1")  # the child's stdout is a pipe; keep the colours a terminal shows
    with subprocess.Popen([sys.executable, "-m", module, *args], cwd=root, env=env, stdout=subprocess.PIPE,
                          text=True) as child:
        assert child.stdout is not None  # stdout=PIPE
        while True:
            try:
                for line in child.stdout:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                break
            except KeyboardInterrupt:
                continue  # the child got the same Ctrl-C: relay what it prints while it stops
        return child.wait()


def register(app: typer.Typer) -> None:
    """Add this face's commands to the root app."""

    @app.command("serve")
    def serve_command(
        limit: Annotated[int | None, typer.Option(help="Most flow runs at once (default: no limit).")] = None,
        nightly_cron: Annotated[str, typer.Option(help="When the nightly merge runs (cron, UTC).")] = "0 2 * * *",
        cleanup_cron: Annotated[str, typer.Option(help="When the cleanup runs (cron, UTC).")] = "*/30 * * * *",
    ) -> None:
        """Serve the agent-change, nightly-merge, cleanup and coordinator-demo deployments from this process."""
        from prefect.settings import PREFECT_API_URL

        api = str(PREFECT_API_URL.value() or "").strip()
        if not api:
            raise ConfigError(
                "`pggit serve` needs a Prefect server that stays up (schedules, the UI, agents launching runs)",
                hint="run `prefect server start` in another terminal, then "
                     "`export PREFECT_API_URL=http://127.0.0.1:4200/api` (or `prefect config set "
                     "PREFECT_API_URL=...`) and run `pggit serve` again",
            )
        repository_root()  # before the message: a clear error when there is no checkout
        console.print(f"Serving the pggit deployments on {api}; launch agent-change runs from the form in the "
                      f"Prefect UI ({api.removesuffix('/api')}/deployments) or with deployments/launch.py. "
                      "Ctrl-C stops.", soft_wrap=True, highlight=False)
        args = ["--nightly-cron", nightly_cron, "--cleanup-cron", cleanup_cron]
        if limit is not None:
            args += ["--limit", str(limit)]
        code = run_in_checkout("deployments.serve", args)
        if code:
            raise typer.Exit(code)

    @app.command("demo")
    def demo_command(
        dsn: Annotated[str | None, typer.Option("--dsn", envvar="PGGIT_DSN",
                                                help="Server to use (a demo database is created there); "
                                                     "default: the embedded server.")] = None,
        database: Annotated[str, typer.Option(help="Name of the demo database (recreated each run).")] = "pggit_demo",
        migrations_dir: Annotated[Path | None, typer.Option(
            "--migrations-dir", help="Where the migration is written; default: the demo's own folder "
                                     ".pggit/demo/<database>/migrations, emptied each run.")] = None,
        resolver: Annotated[Resolver, typer.Option(help="anthropic needs ANTHROPIC_API_KEY.")] = Resolver.none,
        format: Annotated[Format, typer.Option("--format", help="table for people, json for agents.")] = Format.table,
    ) -> None:
        """Run the coordinator demo: two agents, a conflict found at registration, merges in order, a migration."""
        args = ["--database", database, "--resolver", resolver.value, "--format", format.value]
        if dsn is not None:
            args += ["--dsn", dsn]
        if migrations_dir is not None:
            args += ["--migrations-dir", str(migrations_dir.absolute())]
        code = run_in_checkout("deployments.demo", args)
        if code:
            raise typer.Exit(code)
