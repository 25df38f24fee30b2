"""Pinned apply: run a folder's pending migrations in order, each only on the schema it was generated from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pggit_core import install
from pggit_core.errors import InvalidInput, MigrationError
from pggit_core.migrations import files as migration_files
from pggit_core.migrations import render as migration_render
from pggit_core.migrations.files import FolderMigration

LOCK_KEY = 0x7067676D  # 'pggm': one apply at a time per database

# Applied migrations of *this* database (pggit.migrations records what was generated here; a database
# the migrations are deployed to may be another one). Created at first apply, inside the pggit schema.


@dataclass(frozen=True)
class ApplyReport:
    """What `pggit migrate apply` did."""

    applied: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    dry_run: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def current_snapshot(conn: psycopg.Connection[Any]) -> tuple[str, dict[str, Any]]:
    """The hash and document of the database's main schema now."""
    row = conn.execute("SELECT pggit.snapshot('main')").fetchone()
    assert row is not None and isinstance(row[0], dict)
    doc: dict[str, Any] = row[0]
    got = conn.execute("SELECT pggit.snapshot_hash(%s::jsonb)", (Jsonb(doc),)).fetchone()
    assert got is not None
    return str(got[0]), doc


def differing_objects(conn: psycopg.Connection[Any], expected: Mapping[str, Any],
                      actual: Mapping[str, Any]) -> list[str]:
    """The objects by which the database (`actual`) differs from `expected`, compared as pggit compares
    documents (`pggit._plan` between them is empty when they are equal; derived fields do not count)."""
    rows = conn.execute("SELECT object_key, change, fields FROM pggit._plan(%s::jsonb, %s::jsonb) ORDER BY ord",
                        (Jsonb(dict(expected)), Jsonb(dict(actual)))).fetchall()
    seen: dict[str, str] = {}
    for key, change, fields in rows:
        if str(key) in seen or change == "rebuilt":
            continue
        if change == "added":
            seen[str(key)] = f"{key} (in the database, not expected)"
        elif change == "removed":
            seen[str(key)] = f"{key} (expected, missing from the database)"
        else:
            seen[str(key)] = f"{key} (differs: {', '.join(fields or []) or 'definition'})"
    return list(seen.values())


def expected_doc(directory: Path, digest: str) -> dict[str, Any] | None:
    path = directory / migration_files.SNAPSHOT_DIR / f"{digest}.json"
    if not path.is_file():
        return None
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else None


APPLY_HINT = ("the database is not at the state the migration was generated from: apply the earlier migrations, "
              "or generate a migration from this database's state")
REVERT_HINT = "the database changed since the migration was applied: only the schema it produced can be reverted"


def check_pin(conn: psycopg.Connection[Any], directory: Path, entry: FolderMigration, expected_hash: str,
              what: str, hint: str = APPLY_HINT) -> None:
    """Raise unless the database's schema now equals the snapshot `expected_hash` (naming what differs)."""
    digest, doc = current_snapshot(conn)
    if digest == expected_hash:
        return
    expected = expected_doc(directory, expected_hash)
    label = f"{entry.version}_{entry.header.name}"
    if expected is None:
        detail = f"snapshots/{expected_hash}.json is missing from the folder, so the objects cannot be named"
    else:
        diffs = differing_objects(conn, expected, doc)
        if not diffs:
            return  # equal up to derived fields (dependency lists, column creation order)
        shown = ", ".join(diffs[:20]) + (f" and {len(diffs) - 20} more" if len(diffs) > 20 else "")
        detail = f"differing objects: {shown}"
    raise MigrationError(
        f"{what} {label}: the database schema is {digest[:12]}, the migration expects {expected_hash[:12]}; {detail}",
        hint=hint, version=entry.version)


def applied_rows(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, bool]]:
    exists = conn.execute("SELECT to_regclass('pggit.applied_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT version, up_sha256, complete FROM pggit.applied_migrations").fetchall()
    return {str(r[0]): (str(r[1]), bool(r[2])) for r in rows}


def apply(conn: psycopg.Connection[Any], directory: Path, *, dry_run: bool = False) -> ApplyReport:
    """Apply the folder's pending migrations in version order. Each one is checked first: its `from_snapshot`
    must equal the database's schema now (otherwise it is refused, naming the differing objects); its
    transactional part and the record of it commit together; afterwards the schema must equal `to_snapshot`."""
    if not conn.autocommit:
        raise InvalidInput("apply needs an autocommit connection (statements such as CREATE INDEX CONCURRENTLY "
                           "run outside a transaction)", hint="connect with autocommit=True")
    directory = Path(directory)
    install.require_installed(conn)
    migration_files.require_verified(directory)
    entries = migration_files.scan(directory)
    if not entries:
        raise MigrationError(f"{directory} has no pggit migrations", hint="generate one with `pggit migrate generate`")
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        return _apply_locked(conn, directory, entries, dry_run)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _apply_locked(conn: psycopg.Connection[Any], directory: Path, entries: list[FolderMigration],
                  dry_run: bool) -> ApplyReport:
    applied = applied_rows(conn)
    done: list[str] = []
    already: list[str] = []
    notes: list[str] = []
    for entry in entries:
        up_text = entry.up.read_text(encoding="utf-8")
        recorded = applied.get(entry.version)
        if recorded is not None and recorded[0] != _sha256(up_text):
            raise MigrationError(f"migration {entry.version}_{entry.header.name} was changed after it was applied",
                                 hint="restore the applied file from version control; write changes as a new "
                                      "migration")
        if recorded is not None and recorded[1]:
            already.append(entry.version)
            continue
        sections = _sections(entry, up_text)
        if dry_run:
            if not done and recorded is None:
                check_pin(conn, directory, entry, entry.header.from_snapshot, "cannot apply")
            done.append(entry.version)
            continue
        if recorded is None:
            _run_transaction(conn, directory, entry, up_text, sections)
        else:
            notes.append(f"{entry.version}: its transaction was applied before; running the statements that "
                         "run outside it")
        _run_outside(conn, directory, entry, sections)
        done.append(entry.version)
    if dry_run:
        return ApplyReport(pending=tuple(done), already=tuple(already), dry_run=True)
    return ApplyReport(applied=tuple(done), already=tuple(already), notes=tuple(notes))


def _sections(entry: FolderMigration, text: str) -> migration_render.Sections:
    try:
        return migration_render.split_sections(text)
    except ValueError as exc:
        raise MigrationError(f"{entry.up.name} is not in the shape pggit writes ({exc})",
                             hint="keep the BEGIN; ... COMMIT; block when editing a migration") from exc


def _run_transaction(conn: psycopg.Connection[Any], directory: Path, entry: FolderMigration, up_text: str,
                     sections: migration_render.Sections) -> None:
    label = f"{entry.version}_{entry.header.name}"
    with conn.transaction():
        check_pin(conn, directory, entry, entry.header.from_snapshot, "refusing to apply")
        try:
            if sections.transaction:
                conn.execute(sections.transaction)
        except psycopg.Error as exc:
            raise MigrationError(f"migration {label} failed, nothing was changed: {_first_line(exc)}",
                                 hint="fix the migration (then `pggit migrate hash`) or the database, and apply "
                                      "again", version=entry.version) from exc
        if not sections.outside:
            check_pin(conn, directory, entry, entry.header.to_snapshot, "rolled back")
        conn.execute("INSERT INTO pggit.applied_migrations (version, name, from_snapshot, to_snapshot, up_sha256, "
                     "complete) VALUES (%s, %s, %s, %s, %s, %s)",
                     (entry.version, entry.header.name, entry.header.from_snapshot, entry.header.to_snapshot,
                      _sha256(up_text), not sections.outside))


def _run_outside(conn: psycopg.Connection[Any], directory: Path, entry: FolderMigration,
                 sections: migration_render.Sections) -> None:
    if not sections.outside:
        return
    label = f"{entry.version}_{entry.header.name}"
    for statement in sections.outside:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            raise MigrationError(
                f"migration {label}: its transaction is applied, but a statement outside it failed: "
                f"{_first_line(exc)} ({statement.splitlines()[0]})",
                hint="fix the cause (e.g. drop an INVALID index left by CREATE INDEX CONCURRENTLY), then run "
                     "`pggit migrate apply` again: it re-runs the statements outside the transaction",
                version=entry.version) from exc
    conn.execute("RESET search_path")
    check_pin(conn, directory, entry, entry.header.to_snapshot, "applied, but the result does not match for")
    conn.execute("UPDATE pggit.applied_migrations SET complete = true WHERE version = %s", (entry.version,))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def revert(conn: psycopg.Connection[Any], directory: Path, *, accept_data_loss: bool = False) -> str:
    """Revert the latest applied migration of the folder with its down file, pinned at both ends (the database
    must be at its `to_snapshot`, and ends at its `from_snapshot`). A down file that cannot restore everything
    is refused unless `accept_data_loss`. Returns the reverted version."""
    if not conn.autocommit:
        raise InvalidInput("revert needs an autocommit connection", hint="connect with autocommit=True")
    directory = Path(directory)
    install.require_installed(conn)
    migration_files.require_verified(directory)
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        applied = applied_rows(conn)
        done = [e for e in migration_files.scan(directory) if e.version in applied]
        if not done:
            raise MigrationError(f"no migration of {directory} is applied to this database", hint="nothing to revert")
        entry = done[-1]
        label = f"{entry.version}_{entry.header.name}"
        if entry.down is None:
            raise MigrationError(f"{label} has no down file in {directory}", hint="restore it from version control")
        text = entry.down.read_text(encoding="utf-8")
        head = migration_render.read_header(text)
        if head is not None and head.reversible is False and not accept_data_loss:
            losses = [line[3:].strip() for line in text.splitlines() if line.startswith("-- DATA LOSS")]
            raise MigrationError(f"{label} cannot be reverted without losing data: " + "; ".join(losses),
                                 hint="back the data up, then pass --accept-data-loss")
        sections = _sections(entry, text)
        with conn.transaction():
            check_pin(conn, directory, entry, entry.header.to_snapshot, "refusing to revert", REVERT_HINT)
            try:
                if sections.transaction:
                    conn.execute(sections.transaction)
            except psycopg.Error as exc:
                raise MigrationError(f"reverting {label} failed, nothing was changed: {_first_line(exc)}",
                                     hint="fix the cause and revert again", version=entry.version) from exc
            if not sections.outside:
                check_pin(conn, directory, entry, entry.header.from_snapshot, "rolled back the revert of", REVERT_HINT)
            conn.execute("DELETE FROM pggit.applied_migrations WHERE version = %s", (entry.version,))
        for statement in sections.outside:
            conn.execute(statement)
        if sections.outside:
            conn.execute("RESET search_path")
            check_pin(conn, directory, entry, entry.header.from_snapshot, "reverted, but the result does not match",
                      REVERT_HINT)
        return entry.version
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
