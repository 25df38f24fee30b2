"""The coordinator demo as a program: run the flow on a fresh demo database and print what it did.

    python -m deployments.demo [--dsn DSN] [--database pggit_demo] [--migrations-dir DIR]
                               [--resolver none|anthropic] [--format table|json]

Run from the repository root (`pggit demo` starts it there). Errors end as one line and a hint, with the
error's exit code, as in the `pggit` command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg
from prefect.settings import PREFECT_API_URL

from flows.coordinator import DEMO_DATABASE, CoordinatorResult, coordinator
from pggit_core.cli.output import Format, console, fail, print_json
from pggit_core.connect import redact
from pggit_core.errors import PgGitError, database_refused, from_database_error


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deployments.demo",
                                     description="Run the coordinator demo and print what it did.")
    parser.add_argument("--dsn", default=None, help="server to use; default: $PGGIT_DSN, else the embedded one")
    parser.add_argument("--database", default=DEMO_DATABASE, help="name of the demo database (recreated)")
    parser.add_argument("--migrations-dir", default=None, help="where the migration is written")
    parser.add_argument("--resolver", choices=("none", "anthropic"), default="none")
    parser.add_argument("--format", choices=[f.value for f in Format], default=Format.table.value)
    return parser.parse_args(argv)


def show(result: CoordinatorResult, out_dir: str | None) -> None:
    """The outcome for people: intents, conflicts, merges, the migration files, where to see the runs."""
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
    api = str(PREFECT_API_URL.value() or "").strip()
    if api:
        console.print(f"\nSee the runs and artifacts in the Prefect UI of {api.removesuffix('/api')}.")
    else:
        console.print("\nSee the runs and their artifacts (diffs, conflicts, migration) in the Prefect UI:\n"
                      "  .venv/bin/prefect server start      # then open http://127.0.0.1:4200",
                      soft_wrap=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = None if args.migrations_dir is None else str(Path(args.migrations_dir).absolute())
    try:
        result = coordinator(dsn=args.dsn, database=args.database, migrations_dir=out_dir, resolver=args.resolver)
    except PgGitError as exc:
        return fail(exc)
    except psycopg.Error as exc:  # what PostgreSQL refused: one line, no traceback (as `pggit` does)
        return fail(from_database_error(exc) or database_refused(exc))
    if args.format == Format.json.value:
        print_json(result)
    else:
        show(result, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
