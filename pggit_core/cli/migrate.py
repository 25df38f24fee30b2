"""The migrate face: `pggit migrate generate|lint|verify|hash|apply|revert`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from pggit_core.cli.output import Format, console, print_json, print_table
from pggit_core.connect import connection
from pggit_core.diff import ChangeKind
from pggit_core.errors import InvalidInput, MigrationError
from pggit_core.migrations import Migration, MigrationGenerator
from pggit_core.migrations import apply as migration_apply
from pggit_core.migrations import files as migration_files
from pggit_core.migrations.files import FormatStyle
from pggit_core.migrations.hazards import Hazard, lint
from pggit_core.migrations.renames import RenameOp, adopt_renamed_definitions, apply_renames
from pggit_core.migrations.render import split_sections
from pggit_core.migrations.steps import PlanStep

app = typer.Typer(help="Generate, lint, verify and apply migrations from committed branch work.",
                  no_args_is_help=True)

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", envvar="PGGIT_DSN", help="PostgreSQL DSN; default: the embedded server."),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table for people, json for agents.")]
DirOption = Annotated[Path, typer.Option("--dir", help="The migrations folder.")]


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    none = "none"


FailOnOption = Annotated[FailOn, typer.Option("--fail-on", help="Fail when a hazard of this severity (or worse) "
                                                                 "is found.")]
BranchOption = Annotated[str | None, typer.Option("--from-branch", help="Generate from this branch's work.")]
CommitsOption = Annotated[str | None, typer.Option("--commits", help="Comma-separated commit ids (one range).")]


def _generate(conn: Any, from_branch: str | None, commits: str | None, name: str,
              concurrent_indexes: bool) -> Migration:
    generator = MigrationGenerator(conn, concurrent_indexes=concurrent_indexes)
    if (from_branch is None) == (commits is None):
        raise InvalidInput("say what to generate from: --from-branch BRANCH or --commits ID,ID,...",
                           hint="e.g. pggit migrate generate --from-branch main --name auth_feature")
    if commits is not None:
        try:
            ids = [int(part) for part in commits.split(",") if part.strip()]
        except ValueError as exc:
            raise InvalidInput(f"--commits must be comma-separated commit ids, not {commits!r}",
                               hint="e.g. --commits 4,5,6") from exc
        return generator.generate_from_commits(ids, name)
    assert from_branch is not None
    return generator.generate_from_branch(from_branch, name)


def _gate(hazards: list[Hazard], fail_on: FailOn) -> None:
    if fail_on is FailOn.none:
        return
    levels = ("error",) if fail_on is FailOn.error else ("error", "warning")
    bad = [h for h in hazards if h.severity in levels]
    if bad:
        raise MigrationError(f"{len(bad)} hazard(s) at or above {fail_on.value}: "
                             + ", ".join(sorted({h.code for h in bad})),
                             hint="read each hazard's advice; change the work or pass --fail-on none to accept")


def _print_hazards(title: str, hazards: list[Hazard]) -> None:
    if not hazards:
        console.print(f"{title}: no hazards.", highlight=False, markup=False)
        return
    print_table(title, ["code", "severity", "object", "message", "advice"],
                [(h.code, h.severity, h.subject, h.message, h.advice) for h in hazards])


def generate(
    name: Annotated[str, typer.Option("--name", help="Migration name: lowercase letters, digits, underscores.")],
    out: Annotated[Path, typer.Option("--out", help="The migrations folder to write into.")] = Path("db/migrations"),
    from_branch: BranchOption = None,
    commits: CommitsOption = None,
    format_style: Annotated[FormatStyle, typer.Option("--format-style", help="File layout.")] = FormatStyle.plain,
    concurrent_indexes: Annotated[bool, typer.Option(
        "--concurrent-indexes", help="Build new indexes on existing tables with CREATE INDEX CONCURRENTLY.")] = False,
    fail_on: FailOnOption = FailOn.none,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the migration, write nothing.")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Generate a migration (up and down) from a branch's work or a range of commits and write it to --out."""
    with connection(dsn) as conn:
        migration = _generate(conn, from_branch, commits, name, concurrent_indexes)
        _gate(list(migration.hazards), fail_on)
        paths = () if dry_run else migration.write_to_file(out, format_style)
    if format is Format.json:
        print_json({**migration.summary(), "files": [str(p) for p in paths], "dry_run": dry_run,
                    **({"up_sql": migration.up_sql, "down_sql": migration.down_sql} if dry_run else {})})
        return
    if dry_run:
        console.print(migration.up_sql, highlight=False, markup=False)
        console.print(migration.down_sql, highlight=False, markup=False)
        return
    console.print(f"Wrote migration {migration.version}_{migration.name} ({len(migration.up_steps)} up, "
                  f"{len(migration.down_steps)} down statements) to {out}:", highlight=False, markup=False)
    for path in paths:
        console.print(f"  {path}", highlight=False, markup=False)
    _print_hazards("hazards", list(migration.hazards))
    if not migration.reversible:
        console.print("The down migration cannot restore everything (see its header).", highlight=False,
                      markup=False)


def _folder_hazards(directory: Path, version: str | None) -> list[tuple[str, list[Hazard]]]:
    out: list[tuple[str, list[Hazard]]] = []
    entries = migration_files.scan(directory)
    if version is not None:
        entries = [e for e in entries if e.version == version]
        if not entries:
            raise MigrationError(f"no migration {version} in {directory}", hint="list them with `ls`")
    for entry in entries:
        docs = [migration_apply.expected_doc(directory, h)
                for h in (entry.header.from_snapshot, entry.header.to_snapshot)]
        from_doc, to_doc = docs
        if from_doc is None or to_doc is None:
            raise MigrationError(f"{entry.up.name}: its snapshot documents are missing from {directory}/snapshots",
                                 hint="restore them from version control")
        text = entry.up.read_text(encoding="utf-8")
        steps = _outside_index_steps(split_sections(text).outside, to_doc)
        ops = [RenameOp(r.kind, r.schema, r.old, r.new, r.table) for r in entry.header.renames]
        _renamed, base = apply_renames(from_doc, ops)
        base = adopt_renamed_definitions(base, to_doc, ops)
        hazards = lint(steps, base, to_doc, list(entry.header.renames))
        out.append((f"{entry.version}_{entry.header.name}", list(hazards)))
    return out


def _outside_index_steps(statements: tuple[str, ...], to_doc: dict[str, Any]) -> list[PlanStep]:
    """Plan steps for indexes the file builds CONCURRENTLY (the only thing lint reads from statements)."""
    names = {str(obj.get("name")): key for key, obj in to_doc.get("objects", {}).items() if obj.get("kind") == "index"}
    steps: list[PlanStep] = []
    for i, statement in enumerate(statements, 1):
        words = statement.split()
        upper = [w.upper() for w in words]
        if "CONCURRENTLY" not in upper:
            continue
        after = words[upper.index("CONCURRENTLY") + 1:]
        if after[:3] and [w.upper() for w in after[:3]] == ["IF", "NOT", "EXISTS"]:
            after = after[3:]
        if after and after[0].strip('"') in names:
            steps.append(PlanStep(ord=i, object_key=names[after[0].strip('"')], change=ChangeKind.ADDED,
                                  statement=statement))
    return steps


def lint_cmd(
    directory: Annotated[Path | None, typer.Option("--dir", help="Lint the migrations of this folder.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Only this migration of --dir.")] = None,
    from_branch: BranchOption = None,
    commits: CommitsOption = None,
    concurrent_indexes: Annotated[bool, typer.Option("--concurrent-indexes")] = False,
    fail_on: FailOnOption = FailOn.error,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Lint migrations (a folder's, or the one a branch/commit range would generate) for hazards."""
    if directory is not None:
        results = _folder_hazards(directory, version)
    else:
        with connection(dsn) as conn:
            migration = _generate(conn, from_branch, commits, "lint_preview", concurrent_indexes)
        results = [(f"{from_branch or commits} (not written)", list(migration.hazards))]
    if format is Format.json:
        print_json([{"migration": label, "hazards": [h.model_dump(mode="json") for h in hz]}
                    for label, hz in results])
    else:
        for label, hz in results:
            _print_hazards(label, hz)
    _gate([h for _label, hz in results for h in hz], fail_on)


def verify_cmd(directory: DirOption = Path("db/migrations"), format: FormatOption = Format.table) -> None:
    """Check the folder against its pggit.sum: names modified, missing and unlisted files."""
    check = migration_files.verify(directory)
    if format is Format.json:
        print_json({"ok": check.ok, "sum_present": check.sum_present, "missing": list(check.missing),
                    "modified": list(check.tampered), "untracked": list(check.untracked),
                    "total_ok": check.total_ok})
    if not check.ok:
        raise MigrationError(f"{directory} does not match {migration_files.SUM_FILE}: " + "; ".join(check.problems()),
                             hint="restore the files from version control, or review and run `pggit migrate hash`")
    if format is not Format.json:
        console.print(f"{directory}: {migration_files.SUM_FILE} matches "
                      f"({len(migration_files.scan(directory))} migrations).", highlight=False, markup=False)


def hash_cmd(directory: DirOption = Path("db/migrations")) -> None:
    """Rewrite pggit.sum from the files as they are (after reviewing a hand edit)."""
    path = migration_files.rehash(directory)
    console.print(f"Wrote {path}.", highlight=False, markup=False)


def apply_cmd(
    directory: DirOption = Path("db/migrations"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the pin and list what would run.")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Apply the folder's pending migrations in order; each is refused unless the database is at its from_snapshot."""
    with connection(dsn) as conn:
        report = migration_apply.apply(conn, directory, dry_run=dry_run)
    if format is Format.json:
        print_json({"applied": list(report.applied), "already_applied": list(report.already),
                    "pending": list(report.pending), "dry_run": report.dry_run, "notes": list(report.notes)})
        return
    if report.dry_run:
        console.print(f"Would apply {len(report.pending)} migration(s): {' '.join(report.pending) or '-'} "
                      f"({len(report.already)} already applied).", highlight=False, markup=False)
        return
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    console.print(f"Applied {len(report.applied)} migration(s): {' '.join(report.applied) or '-'} "
                  f"({len(report.already)} already applied).", highlight=False, markup=False)


def revert_cmd(
    directory: DirOption = Path("db/migrations"),
    accept_data_loss: Annotated[bool, typer.Option(
        "--accept-data-loss", help="Revert even when the down file cannot restore everything.")] = False,
    dsn: DsnOption = None,
    format: FormatOption = Format.table,
) -> None:
    """Revert the latest applied migration with its down file (refused unless the database is at its to_snapshot)."""
    with connection(dsn) as conn:
        version = migration_apply.revert(conn, directory, accept_data_loss=accept_data_loss)
    if format is Format.json:
        print_json({"reverted": version})
        return
    console.print(f"Reverted migration {version}.", highlight=False, markup=False)


app.command("generate")(generate)
app.command("lint")(lint_cmd)
app.command("verify")(verify_cmd)
app.command("hash")(hash_cmd)
app.command("apply")(apply_cmd)
app.command("revert")(revert_cmd)


def register(root: typer.Typer) -> None:
    """Add `pggit migrate ...` to the root app."""
    root.add_typer(app, name="migrate")

