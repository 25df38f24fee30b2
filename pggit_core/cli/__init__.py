"""The `pggit` command line: one typer app, one sub-app per face (db, branches, coordinate, migrate...)."""

from __future__ import annotations

import os
import sys

import psycopg
import typer
from typer.exceptions import TyperException

from pggit_core.cli.app import app
from pggit_core.cli.output import fail
from pggit_core.errors import PgGitError, database_refused, from_database_error

_OFFLINE_PREFECT = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every PgGitError ends as one clear line (and its hint) with the error's exit code."""
    # Offline by default, from any working directory (prefect.toml is only read from the repository's):
    # no analytics, and time for a cold temporary Prefect server to start. A value the user set wins.
    for name, value in _OFFLINE_PREFECT.items():
        os.environ.setdefault(name, value)
    try:
        # Without standalone mode click returns the code of a `typer.Exit(n)` instead of exiting.
        code = app(args=argv, standalone_mode=False)
    except PgGitError as exc:
        return fail(exc)
    except psycopg.Error as exc:  # what PostgreSQL refused (a privilege an agent lacks, ...): one line, no traceback
        return fail(from_database_error(exc) or database_refused(exc))
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 1
    except TyperException as exc:  # usage errors (a missing option, a bad value): click's message and exit code
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return int(getattr(exc, "exit_code", 2))
    except typer.Abort:
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
