"""The coordinator demo's set-up: a fresh demo database with pggit installed, and the demo's own migrations
folder. Tasks of the demo flow (flows/coordinator.py) only: both recreate what a previous run left."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from prefect import task

from pggit_core import service
from pggit_core.errors import InvalidInput
from tasks.database import dsn_of
from tasks.policy import TASK_OPTIONS

DEMO_DATABASE = "pggit_demo"
DEMO_DATABASE_RE = re.compile(r"^pggit_demo[a-z0-9_]{0,53}$")


def _demo_name(database: str) -> str:
    if not DEMO_DATABASE_RE.match(database):
        raise InvalidInput(f"{database!r} is not a demo database name",
                           hint="use pggit_demo or a name starting with pggit_demo (it is dropped and recreated)")
    return database


@task(name="prepare-demo-database", **TASK_OPTIONS)
def prepare_demo_database(dsn: str | None, database: str) -> str:
    """A fresh database named ``database`` (must start with pggit_demo) on the server of ``dsn`` (a DSN or
    ``block:<name>``; default: the embedded one), dropped first if it exists, with pggit installed. Returns its
    DSN. Retry-safe: a retry recreates it."""
    name = _demo_name(database)
    return service.recreate_database(dsn_of(dsn), name)


@task(name="fresh-demo-migrations-dir", **TASK_OPTIONS)
def fresh_demo_migrations_dir(database: str) -> str:
    """The demo's own migrations folder, ``.pggit/demo/<database>/migrations``, emptied: its migrations
    belong to the demo database, which every run recreates, so a previous run's would never apply."""
    folder = (Path.cwd() / ".pggit" / "demo" / _demo_name(database) / "migrations").absolute()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return str(folder)
