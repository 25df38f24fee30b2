"""Install or upgrade the pggit schema from sql/ in one transaction (versioned, idempotent)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql

from pggit_core.errors import InstallError, NotInstalled

LOCK_KEY = 0x70676974  # 'pgit': serializes concurrent installs of the same database
SECURITY_FILE = "security.sql"  # installs pggit.operations; pggit's own DDL after it is not captured


@dataclass(frozen=True)
class InstallResult:
    """What `pggit init` did: the version before and after, and whether anything ran."""

    previous_version: int | None
    version: int
    changed: bool


def sql_dir() -> Path:
    """The sql/ folder: packaged as pggit_core/_sql in a wheel, the repository's sql/ otherwise."""
    packaged = resources.files("pggit_core") / "_sql"
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parent.parent / "sql"
    if repo.is_dir():
        return repo
    raise InstallError("the sql/ folder is missing from this installation", hint="reinstall pggit-flows")


def manifest() -> tuple[int, list[str]]:
    data = tomllib.loads((sql_dir() / "manifest.toml").read_text())
    return int(data["version"]), [str(f) for f in data["files"]]


def package_version() -> int:
    return manifest()[0]


def package_checksum() -> str:
    """sha256 over the manifest and every file it lists: what this package would install."""
    version, files = manifest()
    digest = hashlib.sha256(f"{version}\n".encode())
    for name in ["manifest.toml", *files]:
        digest.update(name.encode() + b"\0" + (sql_dir() / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _installed_checksum(conn: psycopg.Connection[tuple[object, ...]]) -> str | None:
    row = conn.execute(
        "SELECT to_jsonb(s) ->> 'checksum' FROM pggit.schema_version s WHERE component = 'pggit'").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def installed_version(conn: psycopg.Connection[tuple[object, ...]]) -> int | None:
    row = conn.execute("SELECT to_regclass('pggit.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    got = conn.execute("SELECT version FROM pggit.schema_version WHERE component = 'pggit'").fetchone()
    return int(str(got[0])) if got else None


def require_installed(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    version = installed_version(conn)
    if version is None:
        raise NotInstalled("pggit is not installed in this database", hint="run `pggit init` first")
    return version


def install(conn: psycopg.Connection[tuple[object, ...]], *, set_search_path: bool = True) -> InstallResult:
    """Install or upgrade in one transaction; a no-op when the database is already current.

    Current means the same schema version *and* the same file checksum: a database installed from a
    development copy whose SQL has changed since is refreshed (the files are idempotent)."""
    version, files = manifest()
    directory = sql_dir()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        previous = installed_version(conn)
        if previous is not None and previous > version:
            raise InstallError(
                f"this database has pggit schema version {previous}, newer than this package's {version}",
                hint="upgrade pggit-flows before using it on this database",
            )
        checksum = package_checksum()
        if previous == version and _installed_checksum(conn) == checksum:
            return InstallResult(previous, version, False)
        # pggit's own DDL is neither guarded nor captured: an 'install' operation on the whole database
        # (sql/security.sql), begun as soon as pggit.operations exists; databases installed before it had
        # that table honour the setting pggit.internal during their upgrade.
        conn.execute("SELECT set_config('pggit.internal', 'on', true)")
        has_operations = conn.execute(
            "SELECT to_regprocedure('pggit._op_begin(bigint,text,bigint,jsonb)') IS NOT NULL").fetchone()
        if has_operations and has_operations[0]:
            conn.execute("SELECT pggit._op_begin(0, 'install')")
        for name in files:
            text = (directory / name).read_text()
            try:
                conn.execute(text.encode())
                if name == SECURITY_FILE:
                    # pggit's own DDL from here on is neither guarded nor captured (sql/security.sql,
                    # pggit.operations: an 'install' operation on the whole database).
                    conn.execute("SELECT pggit._op_begin(0, 'install')")
            except psycopg.errors.InsufficientPrivilege as exc:
                raise InstallError(
                    f"installing {name} failed: {exc}".strip(),
                    hint="nothing was installed; `pggit init` needs a superuser once (it installs the event "
                         "triggers that capture DDL), agents then work with ordinary roles",
                ) from exc
            except psycopg.Error as exc:
                raise InstallError(f"installing {name} failed: {exc}".strip(),
                                   hint="nothing was installed; fix the cause and run `pggit init` again") from exc
        conn.execute(
            "INSERT INTO pggit.schema_version (component, version, checksum) VALUES ('pggit', %s, %s) "
            "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, checksum = EXCLUDED.checksum, "
            "upgraded_at = now()",
            (version, checksum),
        )
        conn.execute(
            "INSERT INTO pggit.schema_history (from_version, to_version) VALUES (%s, %s)", (previous, version)
        )
        if set_search_path:
            conn.execute("SELECT pggit._set_database_search_path()")
    return InstallResult(previous, version, True)


def recreate_database(admin: psycopg.Connection[tuple[object, ...]], database: str) -> None:
    """Drop ``database`` (ending its sessions) if it exists and create it empty, on an autocommit connection of
    a role that may; `install` then makes it a pggit database. For throwaway databases only (the demo's)."""
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
