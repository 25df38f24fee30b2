"""CLI commands of the serve face: `pggit serve` (all deployments, one process) and `pggit demo` (coordinator)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from pggit_core.cli.output import Format, console, print_json
from pggit_core.connect import redact
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


def _enter_repository() -> Path:
    root = repository_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.chdir(root)
    os.environ.setdefault("PGGIT_REPO", str(root))
    return root


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
        _enter_repository()
        from deployments import serve as served

        console.print(f"Serving the pggit deployments on {api}; launch agent-change runs from the form in the "
                      f"Prefect UI ({api.removesuffix('/api')}/deployments) or with deployments/launch.py. "
                      "Ctrl-C stops.", soft_wrap=True, highlight=False)
        served.main(limit=limit, nightly_cron=nightly_cron, cleanup_cron=cleanup_cron)

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
        out_dir = None if migrations_dir is None else str(migrations_dir.absolute())
        _enter_repository()
        from flows.coordinator import coordinator

        choice: Literal["none", "anthropic"] = "anthropic" if resolver is Resolver.anthropic else "none"
        result: Any = coordinator(dsn=dsn, database=database, migrations_dir=out_dir, resolver=choice)
        if format is Format.json:
            print_json(result)
            return
        console.print("\n[bold]Coordinator demo finished[/]")
        for intent in result.intents:
            console.print(f"  intent {intent.id}: {intent.agent_id} / {intent.feature_name} -> {intent.status}")
        console.print("  each agent worked as its own PostgreSQL role (not a superuser): "
                      + ", ".join(i.agent_id for i in result.intents) + "; main changed only through the merges",
                      soft_wrap=True, highlight=False)
        console.print(f"  conflicts found at registration and resolved: {list(result.conflicts_resolved)}")
        console.print(f"  merges into main, in dependency order: {list(result.merge_ids)}")
        if result.migration is not None:
            sql_files = [f for f in result.migration.files if f.endswith(".sql")]
            folder = Path(sql_files[0]).parent if sql_files else out_dir
            console.print(f"  migration written to {folder}:", soft_wrap=True, highlight=False)
            for name in sql_files:
                console.print(f"    {name}", soft_wrap=True, highlight=False)
        console.print(f"  demo database: {redact(result.dsn)}", soft_wrap=True, highlight=False)
        from prefect.settings import PREFECT_API_URL

        api = str(PREFECT_API_URL.value() or "").strip()
        if api:
            console.print(f"\nSee the runs and artifacts in the Prefect UI of {api.removesuffix('/api')}.")
        else:
            console.print("\nSee the runs and their artifacts (diffs, conflicts, migration) in the Prefect UI:\n"
                          "  .venv/bin/prefect server start      # then open http://127.0.0.1:4200",
                          soft_wrap=True, highlight=False)
