"""Generating a migration is safe to retry: asked again for the same snapshots (after the first call
committed), the service returns the migration written then, not None and not a second one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from migration_helpers import Conn
from psycopg import sql

from pggit_core import service
from pggit_core.errors import MigrationError
from pggit_core.migrations import MigrationGenerator, NothingToGenerate
from pggit_core.migrations import files as migration_files

T = TypeVar("T")


class TaskCrashed(Exception):
    """The task died after its service call had committed (a lost worker, a failing report step)."""


def retried(task: Callable[[int], T], attempts: int = 2) -> T:
    """Run `task` as an orchestrator with retries does: again after a failure."""
    for attempt in range(1, attempts + 1):
        try:
            return task(attempt)
        except TaskCrashed:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def main_gains_work(conn: Conn, table: str) -> None:
    conn.execute(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, note text)").format(sql.Identifier(table)))
    conn.execute("SELECT pggit.commit(%s)", (f"add {table}",))


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def recorded(conn: Conn) -> list[tuple[object, ...]]:
    return conn.execute("SELECT version, name, from_snapshot, to_snapshot, checksum FROM pggit.migrations "
                        "ORDER BY version").fetchall()


def test_a_task_that_fails_after_the_commit_gets_the_same_migration_on_retry(db: str, conn: Conn,
                                                                              tmp_path: Path) -> None:
    main_gains_work(conn, "first")  # main's first commit: where its first migration starts
    main_gains_work(conn, "accounts")
    folder = tmp_path / "migrations"
    seen: list[service.MigrationOutcome | None] = []

    def task(attempt: int) -> service.MigrationOutcome | None:
        outcome = service.generate_migration(db, "accounts", str(folder))
        seen.append(outcome)
        if attempt == 1:
            raise TaskCrashed("the worker died after generate_migration committed")
        return outcome

    result = retried(task)
    first, second = seen
    assert first is not None and result == first == second
    assert len(recorded(conn)) == 1 and recorded(conn)[0][:2] == (first.version, "accounts")
    assert all(Path(f).is_file() for f in first.files) and migration_files.verify(folder).ok
    up = next(Path(f) for f in first.files if f.endswith(".up.sql"))
    assert up.read_text() == first.up_sql and "CREATE TABLE accounts" in first.up_sql
    files_then = folder_state(folder)

    # a third call changes nothing either: one migration, the same files, the same result
    assert service.generate_migration(db, "accounts", str(folder)) == first
    assert folder_state(folder) == files_then and len(recorded(conn)) == 1

    # new work: the next migration chains to the first one
    main_gains_work(conn, "payments")
    nxt = service.generate_migration(db, "payments", str(folder))
    assert nxt is not None and nxt.version != first.version and f"-- parents: {first.version}" in nxt.up_sql
    assert len(recorded(conn)) == 2 and migration_files.verify(folder).ok


def test_nothing_to_generate_stays_none(db: str, conn: Conn, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    assert service.generate_migration(db, "nothing", str(folder)) is None  # main has no commits
    main_gains_work(conn, "first")
    assert service.generate_migration(db, "nothing", str(folder)) is None  # no change since main's first commit
    main_gains_work(conn, "accounts")
    done = service.generate_migration(db, "accounts", str(folder))
    assert done is not None
    # the same snapshots asked for under another name: a new request, not a retry; nothing new to write
    assert service.generate_migration(db, "other_feature", str(folder)) is None
    assert len(recorded(conn)) == 1
    with pytest.raises(NothingToGenerate):
        MigrationGenerator(conn).write_from_branch("main", "other_feature", folder)


def test_a_retry_whose_files_are_gone_says_so(conn: Conn, tmp_path: Path) -> None:
    main_gains_work(conn, "first")
    main_gains_work(conn, "accounts")
    folder = tmp_path / "migrations"
    generator = MigrationGenerator(conn)
    written = generator.write_from_branch("main", "accounts", folder)
    assert MigrationGenerator(conn).write_from_branch("main", "accounts", folder) == written
    next(p for p in written.paths if p.name.endswith(".up.sql")).write_text("-- edited\n")
    with pytest.raises(MigrationError, match="does not hold its files as they were written"):
        MigrationGenerator(conn).write_from_branch("main", "accounts", folder)
    with pytest.raises(MigrationError, match="does not hold its files"):
        MigrationGenerator(conn).write_from_branch("main", "accounts", tmp_path / "elsewhere")
    assert len(recorded(conn)) == 1
