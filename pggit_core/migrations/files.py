"""Migration folders: file layouts (plain, Flyway, Sqitch), atomic writing, the `pggit.sum` checksum, verify."""

from __future__ import annotations

import base64
import fcntl
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pggit_core.errors import AlreadyExists, InvalidInput, MigrationError
from pggit_core.migrations import render as texts
from pggit_core.migrations.render import Header
from pggit_core.migrations.value import MigrationValue
from pggit_core.migrations.verify import verify_text

M = TypeVar("M", bound=MigrationValue)
# Records a migration (as prepared for the folder, with the checksum of its own files) around the writing of its
# files: the files are written inside the context, and the record lasts only if they were.
Recorder = Callable[[MigrationValue, str], AbstractContextManager[None]]

SUM_FILE = "pggit.sum"
SNAPSHOT_DIR = "snapshots"
SQITCH_PLAN = "sqitch.plan"


class FormatStyle(StrEnum):
    """How migration files are laid out in the folder."""

    plain = "plain"      # <version>_<name>.up.sql / <version>_<name>.down.sql
    flyway = "flyway"    # V<version>__<name>.sql / U<version>__<name>.sql (undo)
    sqitch = "sqitch"    # deploy/, revert/, verify/<version>_<name>.sql + sqitch.plan


def file_names(style: FormatStyle, version: str, name: str) -> dict[str, str]:
    """Relative paths of a migration's files by role (up, down, and verify for Sqitch)."""
    if style is FormatStyle.plain:
        return {"up": f"{version}_{name}.up.sql", "down": f"{version}_{name}.down.sql"}
    if style is FormatStyle.flyway:
        return {"up": f"V{version}__{name}.sql", "down": f"U{version}__{name}.sql"}
    change = f"{version}_{name}"
    return {"up": f"deploy/{change}.sql", "down": f"revert/{change}.sql", "verify": f"verify/{change}.sql"}


def snapshot_text(doc: Mapping[str, Any]) -> str:
    """A snapshot document as stored next to the migrations (stable, reviewable JSON)."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _h1(data: bytes) -> str:
    return "h1:" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def checksum(files: Mapping[str, str]) -> str:
    """One hash over a set of files (relative path -> text), as written in `pggit.sum` and `pggit.migrations`."""
    lines = "".join(f"{rel} {_h1(text.encode())}\n" for rel, text in sorted(files.items()))
    return _h1(lines.encode())


# ---------------------------------------------------------------------------------------------- the folder


@dataclass(frozen=True)
class FolderMigration:
    """A migration found in a folder: its header and where its files are."""

    header: Header
    up: Path
    down: Path | None

    @property
    def version(self) -> str:
        return self.header.version


def _tracked_files(directory: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_file() and rel != SUM_FILE and not any(part.startswith(".") for part in rel.split("/")):
            found.append(rel)
    return found


def scan(directory: Path) -> list[FolderMigration]:
    """The pggit migrations in a folder (any layout), sorted by version."""
    if not directory.is_dir():
        return []
    ups: dict[str, tuple[Header, Path]] = {}
    downs: dict[str, Path] = {}
    for rel in _tracked_files(directory):
        if not rel.endswith(".sql"):
            continue
        path = directory / rel
        head = texts.read_header(path.read_text(encoding="utf-8", errors="replace"))
        if head is None:
            continue
        if head.direction == "up":
            if head.version in ups:
                raise MigrationError(f"two up migrations in {directory} have version {head.version}: "
                                     f"{ups[head.version][1].name} and {path.name}",
                                     hint="two migrations were generated in parallel; delete one and "
                                          "generate it again on top of the other")
            ups[head.version] = (head, path)
        elif head.direction == "down":
            downs[head.version] = path
    return [FolderMigration(header=h, up=p, down=downs.get(v)) for v, (h, p) in sorted(ups.items())]


@dataclass(frozen=True)
class SumCheck:
    """The result of checking a folder against its `pggit.sum`."""

    directory: Path
    sum_present: bool
    missing: tuple[str, ...]
    tampered: tuple[str, ...]
    untracked: tuple[str, ...]
    total_ok: bool

    @property
    def ok(self) -> bool:
        return self.sum_present and self.total_ok and not (self.missing or self.tampered or self.untracked)

    def problems(self) -> list[str]:
        out: list[str] = []
        if not self.sum_present:
            out.append(f"{SUM_FILE} is missing")
        out += [f"missing: {rel}" for rel in self.missing]
        out += [f"modified: {rel}" for rel in self.tampered]
        out += [f"not in {SUM_FILE}: {rel}" for rel in self.untracked]
        if self.sum_present and not self.total_ok and not out:
            out.append(f"the total hash in {SUM_FILE} does not match its lines (edited by hand, or a merge of "
                       "two migrations written in parallel)")
        return out


def read_sum(directory: Path) -> tuple[str, dict[str, str]] | None:
    path = directory / SUM_FILE
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    total = lines[0].strip() if lines else ""
    entries: dict[str, str] = {}
    for line in lines[1:]:
        rel, _, digest = line.rpartition(" ")
        if rel:
            entries[rel] = digest
    return total, entries


def sum_text(files: Mapping[str, str]) -> str:
    body = "".join(f"{rel} {_h1(text.encode())}\n" for rel, text in sorted(files.items()))
    return f"{checksum(files)}\n{body}"


def verify(directory: Path) -> SumCheck:
    """Compare the folder with its `pggit.sum`: which files are missing, modified or not listed."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MigrationError(f"{directory} is not a folder", hint="pass the migrations folder with --dir")
    recorded = read_sum(directory)
    present = _tracked_files(directory)
    if recorded is None:
        return SumCheck(directory, False, (), (), tuple(present), False)
    total, entries = recorded
    actual = {rel: _h1((directory / rel).read_bytes()) for rel in present}
    missing = tuple(sorted(rel for rel in entries if rel not in actual))
    tampered = tuple(sorted(rel for rel in entries if rel in actual and actual[rel] != entries[rel]))
    untracked = tuple(sorted(rel for rel in actual if rel not in entries))
    lines = "".join(f"{rel} {digest}\n" for rel, digest in sorted(entries.items()))
    return SumCheck(directory, True, missing, tampered, untracked, total == _h1(lines.encode()))


def require_verified(directory: Path) -> None:
    check = verify(directory)
    if not check.ok:
        raise MigrationError(f"{directory} does not match {SUM_FILE}: " + "; ".join(check.problems()),
                             hint="review the changes, then run `pggit migrate hash --dir "
                                  f"{directory}` to accept them, or restore the files from version control")


def rehash(directory: Path) -> Path:
    """Rewrite `pggit.sum` from the files as they are now (after a reviewed manual edit)."""
    directory = Path(directory)
    files = {rel: (directory / rel).read_text(encoding="utf-8") for rel in _tracked_files(directory)}
    _atomic_write(directory, {SUM_FILE: sum_text(files)})
    return directory / SUM_FILE


# --------------------------------------------------------------------------------------------- writing


def _planner() -> str:
    user = getpass.getuser()
    return f"{user} <{user}@{socket.gethostname()}>"


def _sqitch_plan(existing: str | None, migration: MigrationValue, parent_change: str | None) -> str:
    text = existing if existing is not None else "%syntax-version=1.0.0\n%project=pggit\n\n"
    if not text.endswith("\n"):
        text += "\n"
    v = migration.version
    stamp = f"{v[0:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:{v[12:14]}Z"
    deps = f" [{parent_change}]" if parent_change else ""
    note = f"{migration.name}: {migration.from_snapshot[:12]} -> {migration.to_snapshot[:12]}"
    return text + f"{v}_{migration.name}{deps} {stamp} {_planner()} # {note}\n"


def render(migration: MigrationValue, style: FormatStyle, directory: Path) -> dict[str, str]:
    """Every file this migration adds or changes in the folder (relative path -> text), `pggit.sum` included."""
    names = file_names(style, migration.version, migration.name)
    files = {names["up"]: texts.up_text(migration), names["down"]: texts.down_text(migration)}
    if "verify" in names:
        files[names["verify"]] = verify_text(migration)
    for doc, digest in ((migration.from_doc, migration.from_snapshot), (migration.to_doc, migration.to_snapshot)):
        files[f"{SNAPSHOT_DIR}/{digest}.json"] = snapshot_text(doc)
    if style is FormatStyle.sqitch:
        plan = directory / SQITCH_PLAN
        parent = next((p for p in migration.parents), None)
        parent_change = None
        if parent is not None:
            parent_change = next((f.up.stem for f in scan(directory) if f.version == parent), None)
        files[SQITCH_PLAN] = _sqitch_plan(plan.read_text(encoding="utf-8") if plan.is_file() else None,
                                          migration, parent_change)
    current = {rel: (directory / rel).read_text(encoding="utf-8") for rel in _tracked_files(directory)} if (
        directory.is_dir()) else {}
    current.update(files)
    files[SUM_FILE] = sum_text(current)
    return files


def check_writable(directory: Path) -> None:
    """Create the folder if needed; raise a clear error when it cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MigrationError(f"cannot create the migrations folder {directory}: {exc.strerror or exc}",
                             hint="pass a folder you can write to") from exc
    if not directory.is_dir():
        raise MigrationError(f"{directory} exists and is not a folder", hint="pass a folder")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise MigrationError(f"the migrations folder {directory} is not writable",
                             hint="fix its permissions or pass another folder")


@contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder while a migration is checked and written, so that two writers on
    this machine do not interleave (writers elsewhere collide in pggit.sum instead)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def prepare(migration: M, directory: Path) -> M:
    """Check the folder before writing (its checksum, the version, the chain) and return the migration with
    its parents set to the folder's latest migration."""
    directory = Path(directory)
    check_writable(directory)
    if (directory / SUM_FILE).is_file() or scan(directory):
        require_verified(directory)
    existing = scan(directory)
    if any(f.version == migration.version for f in existing):
        raise AlreadyExists(f"{directory} already has a migration with version {migration.version}",
                            hint="generate again: a new version is taken from the clock")
    parents: tuple[str, ...] = ()
    if existing:
        head = existing[-1]
        if head.version > migration.version:
            raise MigrationError(f"{directory} has a newer migration ({head.version}) than {migration.version}",
                                 hint="generate the migration again so that it comes last")
        if head.header.to_snapshot != migration.from_snapshot:
            raise MigrationError(
                f"the folder's latest migration {head.version}_{head.header.name} ends at snapshot "
                f"{head.header.to_snapshot[:12]}, but this migration starts at {migration.from_snapshot[:12]}",
                hint="the folder and the database diverged (a migration generated elsewhere in parallel?): "
                     "apply the folder's migrations, then generate again")
        parents = (head.version,)
    return migration.model_copy(update={"parents": parents})


def write(migration: MigrationValue, directory: Path, style: FormatStyle) -> tuple[Path, ...]:
    """Write the migration's files atomically: all of them or none."""
    directory = Path(directory)
    files = render(migration, style, directory)
    for rel, text in files.items():
        path = directory / rel
        if rel in (SUM_FILE, SQITCH_PLAN) or not path.exists():
            continue
        if rel.startswith(f"{SNAPSHOT_DIR}/") and path.read_text(encoding="utf-8") == text:
            continue
        raise AlreadyExists(f"{path} exists already", hint="remove it or generate into another folder")
    return _atomic_write(directory, files)


def style_of(format_style: FormatStyle | str) -> FormatStyle:
    """A layout by name."""
    try:
        return FormatStyle(format_style)
    except ValueError as exc:
        raise InvalidInput(f"unknown format style {format_style!r}", hint="use plain, flyway or sqitch") from exc


def _own(files: Mapping[str, str]) -> dict[str, str]:
    """A migration's own files among those it writes (not the folder's `pggit.sum` and `sqitch.plan`)."""
    return {rel: body for rel, body in files.items() if rel not in (SUM_FILE, SQITCH_PLAN)}


def write_migration(migration: MigrationValue, directory: Path | str,
                    format_style: FormatStyle | str = FormatStyle.plain,
                    recorder: Recorder | None = None) -> tuple[Path, ...]:
    """Write the migration into a folder (all files or none) and update its `pggit.sum`, its parents set to the
    folder's latest migration; with a `recorder`, record it in the same step (a failed write records nothing).
    Returns the paths written."""
    style = style_of(format_style)
    folder = Path(directory)
    check_writable(folder)
    with folder_lock(folder):
        prepared = prepare(migration, folder)
        own = _own(render(prepared, style, folder))
        with recorder(prepared, checksum(own)) if recorder else nullcontext():
            return write(prepared, folder, style)


@dataclass(frozen=True)
class WrittenMigration:
    """A migration as its folder holds it: the paths `write_migration` wrote for it, its up and down text, the
    hazards its up file's header lists (`CODE severity: message`) and the checksum of its own files (the one
    `pggit.migrations` records)."""

    version: str
    name: str
    paths: tuple[Path, ...]
    up_sql: str
    down_sql: str
    hazards: tuple[str, ...]
    checksum: str


def written(directory: Path | str, version: str) -> WrittenMigration | None:
    """The migration `version` as the folder holds it, or None when the folder lacks it or any of its files."""
    folder = Path(directory)
    entry = next((f for f in scan(folder) if f.version == version), None)
    if entry is None:
        return None
    head = entry.header
    rel_up = entry.up.relative_to(folder).as_posix()
    style = next((s for s in FormatStyle if file_names(s, version, head.name)["up"] == rel_up), None)
    if style is None:
        return None
    names = file_names(style, version, head.name)
    own_rels = [*names.values(), *(f"{SNAPSHOT_DIR}/{digest}.json" for digest in (head.from_snapshot,
                                                                                   head.to_snapshot))]
    if not all((folder / rel).is_file() for rel in own_rels):
        return None
    own = {rel: (folder / rel).read_text(encoding="utf-8") for rel in own_rels}
    shared = [SUM_FILE, *([SQITCH_PLAN] if style is FormatStyle.sqitch else [])]
    return WrittenMigration(version=version, name=head.name,
                            paths=tuple(sorted(folder / rel for rel in {*own_rels, *shared})),
                            up_sql=own[names["up"]], down_sql=own[names["down"]], hazards=head.hazards,
                            checksum=checksum(own))


def _atomic_write(directory: Path, files: Mapping[str, str]) -> tuple[Path, ...]:
    """Write every file to a temporary name, then rename them all into place; on any failure remove what was
    written and restore what was replaced."""
    created_dirs: list[Path] = []
    temps: dict[Path, Path] = {}
    try:
        for rel in sorted(files):
            parent = (directory / rel).parent
            missing = [p for p in [parent, *parent.parents] if not p.exists() and directory in (p, *p.parents)]
            for p in sorted(missing, key=lambda q: len(q.parts)):
                p.mkdir()
                created_dirs.append(p)
        for rel, text in sorted(files.items()):
            path = directory / rel
            tmp = path.with_name(f".{path.name}.pggit-tmp-{os.getpid()}")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            temps[path] = tmp
    except OSError as exc:
        _cleanup(temps.values(), created_dirs)
        raise MigrationError(f"cannot write to {directory}: {exc.strerror or exc}",
                             hint="check the folder's permissions and free space; nothing was written") from exc
    previous: dict[Path, bytes | None] = {p: (p.read_bytes() if p.exists() else None) for p in temps}
    done: list[Path] = []
    try:
        for path, tmp in temps.items():
            os.replace(tmp, path)
            done.append(path)
    except OSError as exc:
        for path in done:
            old = previous[path]
            if old is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(old)
        _cleanup(temps.values(), created_dirs)
        raise MigrationError(f"cannot write to {directory}: {exc.strerror or exc}",
                             hint="check the folder's permissions and free space; nothing was written") from exc
    return tuple(sorted(temps))


def _cleanup(temps: Any, created_dirs: list[Path]) -> None:
    for tmp in temps:
        Path(tmp).unlink(missing_ok=True)
    for d in reversed(created_dirs):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
