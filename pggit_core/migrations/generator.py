"""Generation: `MigrationGenerator` turns a branch's work or a commit range into a `Migration` and records it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from pggit_core.errors import InvalidInput, InvalidName, MigrationError
from pggit_core.migrations import files
from pggit_core.migrations import hazards as lint_mod
from pggit_core.migrations.files import FormatStyle, WrittenMigration
from pggit_core.migrations.migration import Migration
from pggit_core.migrations.renames import RenameOp, adopt_renamed_definitions, apply_renames, renames_in
from pggit_core.migrations.steps import PlanStep
from pggit_core.migrations.value import MigrationValue
from pggit_core.snapshot import ChangeKind, ObjectKey
from pggit_core.store import migrations as store
from pggit_core.store.durable import durable, operation

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
EMPTY_DOC: dict[str, Any] = {"format": 1, "objects": {}}


class NothingToGenerate(MigrationError):
    """The range holds no schema change (or was already migrated): nothing was written or recorded."""


def validate_name(name: str) -> str:
    """A migration name goes into file names: lowercase letters, digits and underscores, starting with a letter."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidName(f"invalid migration name {name!r}",
                          hint="use lowercase letters, digits and underscores, starting with a letter, at most 63 "
                               "characters (e.g. auth_feature)")
    return name


def _conn_of(client: Any) -> psycopg.Connection[Any]:
    if isinstance(client, psycopg.Connection):
        return client
    for attr in ("conn", "connection", "_conn"):
        conn = getattr(client, attr, None)
        if isinstance(conn, psycopg.Connection):
            return conn
    raise InvalidInput("MigrationGenerator needs a PgGitClient (or a psycopg connection)",
                       hint="pass MigrationGenerator(PgGitClient(conn))")


def _commit_id(item: Any) -> int:
    if isinstance(item, bool):
        raise InvalidInput(f"not a commit: {item!r}", hint="pass commits from client.log(...) or commit ids")
    if isinstance(item, int):
        return item
    if isinstance(item, dict):
        value = item.get("commit_id", item.get("id"))
    else:
        value = getattr(item, "commit_id", getattr(item, "id", None))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidInput(f"not a commit: {item!r}", hint="pass commits from client.log(...) or commit ids")


@dataclass(frozen=True)
class _Span:
    """A branch's history a migration covers: up to `head`, from the snapshot `from_hash` (None: empty)."""

    head: store.CommitRef
    from_hash: str | None
    commits: list[int]
    since: str


class MigrationGenerator:
    """Turns committed history into a `Migration` (the seed's API): a branch's work since it diverged (main:
    since its last generated migration, else since its first commit), or a contiguous range of commits.

    Generating and `Migration.write_to_file` are pggit operations (``store.durable.operation``): on a
    connection that is not autocommit each commits the open transaction when it is done, so the record of a
    written migration in `pggit.migrations` lasts; inside the caller's ``with conn.transaction()`` block,
    that block decides. Files and record go together: a failed write records nothing."""

    def __init__(self, client: Any, *, concurrent_indexes: bool = False,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.conn = _conn_of(client)
        self.concurrent_indexes = concurrent_indexes
        self._clock = clock or (lambda: datetime.now(UTC))
        self._issued: set[str] = set()

    # -------------------------------------------------------------------------------------------- ranges

    @durable
    def generate_from_branch(self, branch: str, name: str) -> Migration:
        """Everything committed on `branch` since it diverged from its parent; for main, since main's last
        generated migration (recorded in `pggit.migrations`) or else since main's first commit."""
        validate_name(name)
        span = self._branch_span(branch, store.last_migration(self.conn, branch))
        migration = self._build(name, branch, span.from_hash, span.head.snapshot_hash, span.commits, span.since)
        pending = store.uncommitted_count(self.conn, branch)
        if pending:
            note = (f"{pending} DDL command(s) on {branch} are not committed and not in this migration "
                    f"(commit them, then generate again)")
            migration = migration.model_copy(update={"notes": (*migration.notes, note)})
        return migration

    def write_from_branch(self, branch: str, name: str, directory: Path | str,
                          format_style: FormatStyle | str = FormatStyle.plain) -> WrittenMigration:
        """`generate_from_branch` and `write_to_file` in one call that is safe to retry: it is idempotent by
        key. Asked again for the same snapshots (from, to) and name, e.g. retried after the first call
        committed, it returns the migration written then (its record in `pggit.migrations` and its files)
        instead of writing a second one. Raises `NothingToGenerate` when the branch has no new schema
        change and no migration of this name was written for its current state."""
        try:
            migration = self.generate_from_branch(branch, name)
        except NothingToGenerate:
            done = self._written_before(branch, name, Path(directory))
            if done is None:
                raise
            return done
        migration.write_to_file(directory, format_style)
        found = files.written(directory, migration.version)
        if found is None:
            raise MigrationError(f"migration {migration.version}_{name} was written to {directory}, but its files "
                                 "are not there now", hint="something removed them meanwhile; generate again")
        return found

    def _written_before(self, branch: str, name: str, directory: Path) -> WrittenMigration | None:
        """The migration already written for what generating `name` on `branch` now would cover: the branch's
        last recorded migration, when it has this name, ends at the branch head's snapshot and starts where
        generating without it starts (the same key). Its files must be in `directory` as recorded."""
        last = store.last_migration(self.conn, branch)
        if last is None or last.name != name or last.to_snapshot is None:
            return None
        span = self._branch_span(branch, store.last_migration(self.conn, branch, before=last.version))
        key = (span.from_hash or store.snapshot_hash(self.conn, dict(EMPTY_DOC)), span.head.snapshot_hash)
        if key != (last.from_snapshot, last.to_snapshot):
            return None
        found = files.written(directory, last.version)
        if found is None or found.checksum != last.checksum:
            raise MigrationError(
                f"migration {last.version}_{last.name} was already generated for these snapshots and recorded in "
                f"pggit.migrations, but {directory} does not hold its files as they were written",
                hint="restore them from version control, or pass the folder they were written to")
        return found

    def _branch_span(self, branch: str, last: store.RecordedMigration | None) -> _Span:
        """What `generate_from_branch` covers when `last` is the branch's latest recorded migration."""
        ref = store.branch(self.conn, branch)
        if ref.head_commit_id is None:
            raise NothingToGenerate(f"nothing to generate: branch {branch!r} has no commits",
                                    hint=f"commit its work first (`pggit commit -m ... --branch {branch}`)")
        head = store.commit(self.conn, ref.head_commit_id)
        chain = self._chain(head)
        start: store.CommitRef | None
        if ref.base_commit_id is not None and branch != "main":
            start = store.commit(self.conn, ref.base_commit_id)
            since = f"it diverged at commit {start.id}"
        else:
            start = store.first_commit(self.conn, ref.id)
            since = f"main's first commit ({start.id})" if start else "the beginning"
        if last is not None and last.to_snapshot is not None:
            covered = next((c for c in reversed(chain) if c.snapshot_hash == last.to_snapshot
                            and (start is None or c.id >= start.id)), None)
            if covered is not None:
                start, since = covered, f"migration {last.version}_{last.name} (commit {covered.id})"
        return _Span(head=head, from_hash=start.snapshot_hash if start is not None else None,
                     commits=[c.id for c in chain if start is None or c.id > start.id], since=since)

    @durable
    def generate_from_commits(self, commits: Sequence[Any], name: str) -> Migration:
        """The changes made by a contiguous range of commits (any order; e.g. `client.log("main", limit=10)`):
        from the oldest one's parent to the newest. Commits already covered by the branch's last generated
        migration are left out."""
        validate_name(name)
        ids = sorted({_commit_id(c) for c in commits})
        if not ids:
            raise NothingToGenerate("nothing to generate: no commits were given",
                                    hint="pass commits, e.g. client.log('main', limit=10)")
        refs = [store.commit(self.conn, i) for i in ids]
        for older, newer in zip(refs, refs[1:], strict=False):
            if newer.parent_id != older.id:
                raise InvalidInput(f"the commits are not one contiguous history: commit {newer.id}'s parent is "
                                   f"{newer.parent_id}, not {older.id}",
                                   hint="pass consecutive commits of one branch (as client.log returns them)")
        start = store.commit(self.conn, refs[0].parent_id) if refs[0].parent_id is not None else None
        branch_name = self._branch_name(refs[-1].branch_id)
        since = f"commit {start.id}" if start else "an empty schema"
        last = store.last_migration(self.conn, branch_name) if branch_name else None
        if last is not None and last.to_snapshot is not None:
            covered = [r for r in refs if r.snapshot_hash == last.to_snapshot]
            if covered:
                start, since = covered[-1], f"migration {last.version}_{last.name} (commit {covered[-1].id})"
        in_range = [r.id for r in refs if start is None or r.id > start.id]
        if not in_range:
            raise NothingToGenerate(f"nothing to generate: commits {ids[0]}..{ids[-1]} are already in migration "
                                    f"{last.version if last else ''}", hint="commit new work first")
        return self._build(name, branch_name, start.snapshot_hash if start else None, refs[-1].snapshot_hash,
                           in_range, since)

    def _branch_name(self, branch_id: int) -> str | None:
        row = self.conn.execute("SELECT name FROM pggit.branches WHERE id = %s", (branch_id,)).fetchone()
        return None if row is None else str(row[0])

    def _chain(self, head: store.CommitRef) -> list[store.CommitRef]:
        """Head and its ancestors along parent_id, oldest first."""
        return store.ancestry(self.conn, head.id)

    # --------------------------------------------------------------------------------------------- build

    def _build(self, name: str, branch: str | None, from_hash: str | None, to_hash: str, commits: list[int],
               since: str) -> Migration:
        from_doc = store.snapshot_doc(self.conn, from_hash) if from_hash else dict(EMPTY_DOC)
        from_hash = from_hash or store.snapshot_hash(self.conn, from_doc)
        if from_hash == to_hash:
            where = f"branch {branch!r}" if branch else "these commits"
            raise NothingToGenerate(f"nothing to generate: {where} has no schema change since {since}",
                                    hint="nothing was written; commit schema changes first")
        to_doc = store.snapshot_doc(self.conn, to_hash)
        renames = self._renames(commits)
        up, up_base = self._plan(from_doc, to_doc, renames)
        down, down_base = self._plan(to_doc, from_doc, [r.reversed() for r in reversed(renames)])
        if not up:
            raise NothingToGenerate(f"nothing to generate: the schema documents differ but the plan since {since} "
                                    "is empty", hint="nothing was written")
        if self.concurrent_indexes:
            up = _concurrent_indexes(up, from_doc, to_doc)
        up, down = self._own_transactions(up), self._own_transactions(down)
        migration = Migration(
            version=self._version(), name=name, branch=branch,
            parents=self._parents(from_hash), from_snapshot=from_hash, to_snapshot=to_hash,
            up_steps=tuple(up), down_steps=tuple(down),
            hazards=lint_mod.lint(up, up_base, to_doc, [r.as_lint() for r in renames]),
            renames=tuple(r.as_lint() for r in renames),
            down_hazards=lint_mod.lint(down, down_base, from_doc),
            data_losses=lint_mod.data_losses(up_base, to_doc),
            commits=tuple(commits), merges=tuple(self._merges(commits)), schemas=store.tracked_schemas(self.conn),
            from_doc=from_doc, to_doc=to_doc)
        migration._recorder = self._record
        return migration

    def _plan(self, a: dict[str, Any], b: dict[str, Any],
              renames: Sequence[RenameOp]) -> tuple[list[PlanStep], dict[str, Any]]:
        """The steps turning `a` into `b`: RENAME statements for captured renames, then `pggit._plan` from the
        renamed `a`; and that renamed `a` (the base hazards are judged against)."""
        start, renamed = apply_renames(a, renames)
        renamed = adopt_renamed_definitions(renamed, b, renames)
        rows = store.plan(self.conn, renamed, b)
        steps = [PlanStep(ord=i, object_key=key, change=ChangeKind.CHANGED, fields=(), statement=text)
                 for i, (key, text) in enumerate(start, start=1)]
        steps += [PlanStep(ord=len(start) + int(r[0]), object_key=str(r[1]), change=ChangeKind(str(r[2])),
                           fields=tuple(r[3] or ()), statement=str(r[4])) for r in rows]
        return steps, renamed

    def _own_transactions(self, steps: list[PlanStep]) -> list[PlanStep]:
        """The steps, each marked with whether its statement must run alone (`pggit._needs_own_transaction`)."""
        alone = store.needs_own_transaction(self.conn, [s.statement for s in steps])
        return [s.model_copy(update={"own_transaction": True}) if own else s for s, own in zip(steps, alone,
                                                                                               strict=True)]

    def _renames(self, commits: list[int]) -> list[RenameOp]:
        ids = list(commits)
        for _merge_id, source, base, source_head in store.merges_into(self.conn, commits):
            ids += store.source_commits(self.conn, source, base, source_head)
        return renames_in(store.statements_of(self.conn, sorted(set(ids))))

    def _merges(self, commits: list[int]) -> list[str]:
        return [f"{source} (merge {merge_id})" for merge_id, source, _b, _h in store.merges_into(self.conn, commits)]

    def _parents(self, from_hash: str) -> tuple[str, ...]:
        row = self.conn.execute("SELECT version FROM pggit.migrations WHERE to_snapshot = %s ORDER BY version DESC "
                                "LIMIT 1", (from_hash,)).fetchone()
        return () if row is None else (str(row[0]),)

    def _version(self) -> str:
        base = self._clock().astimezone(UTC).strftime("%Y%m%d%H%M%S")
        taken = store.versions_with_prefix(self.conn, base) | {v for v in self._issued if v.startswith(base)}
        version = base
        counter = 1
        while version in taken:
            if counter > 99:
                raise MigrationError("more than 99 migrations generated in one second", hint="try again")
            version = f"{base}_{counter:02d}"
            counter += 1
        self._issued.add(version)
        return version

    @contextmanager
    def _record(self, migration: MigrationValue, checksum: str) -> Iterator[None]:
        """Record the migration in `pggit.migrations` in one operation that commits only if the files are
        written."""
        try:
            with operation(self.conn):
                store.record(self.conn, version=migration.version, name=migration.name,
                             branch_name=migration.branch, parents=migration.parents,
                             from_snapshot=migration.from_snapshot, to_snapshot=migration.to_snapshot,
                             checksum=checksum)
                yield
        except psycopg.errors.UniqueViolation as exc:
            raise MigrationError(f"migration version {migration.version} is already recorded in pggit.migrations",
                                 hint="generate the migration again for a new version") from exc


def _concurrent_indexes(steps: list[PlanStep], from_doc: dict[str, Any], to_doc: dict[str, Any]) -> list[PlanStep]:
    """Build new indexes on tables that already exist with CREATE INDEX CONCURRENTLY (outside the transaction)."""
    before, after = from_doc.get("objects", {}), to_doc.get("objects", {})
    out: list[PlanStep] = []
    for step in steps:
        words = step.statement.lstrip().split(maxsplit=2)
        obj = after.get(step.object_key) or {}
        table_key = str(ObjectKey.table_key(str(obj.get("schema")), str(obj.get("table"))))
        if (step.kind == "index" and step.change in (ChangeKind.ADDED, ChangeKind.CHANGED, ChangeKind.REBUILT)
                and words[:2] in (["CREATE", "INDEX"], ["CREATE", "UNIQUE"]) and table_key in before):
            head = "CREATE UNIQUE INDEX" if words[1] == "UNIQUE" else "CREATE INDEX"
            rest = step.statement.lstrip()[len(head):]
            step = step.model_copy(update={"statement": f"{head} CONCURRENTLY{rest}"})
        out.append(step)
    return out
