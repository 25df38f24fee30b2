"""The text of migration files: the header (name, version, parents, snapshots, hazards) and the up/down bodies."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from psycopg import sql

from pggit_core.migrations.hazards import DataLoss, Hazard, Rename, first_ords
from pggit_core.migrations.steps import PlanStep
from pggit_core.migrations.value import MigrationValue

MARKER = "-- pggit-migration: 1"
OUTSIDE = "-- pggit: outside the transaction:"
BEGIN = "BEGIN;"
COMMIT = "COMMIT;"
HAZARD_INDENT = "--   "  # a hazard's line under `-- hazards:` (its advice is indented further)


@dataclass(frozen=True)
class Header:
    """What a migration file's header says, read back from the file."""

    direction: str
    name: str
    version: str
    parents: tuple[str, ...]
    branch: str | None
    from_snapshot: str
    to_snapshot: str
    reversible: bool | None = None  # down files: False when it cannot restore everything
    renames: tuple[Rename, ...] = ()  # renames from captured DDL (the up file renames tables and columns)
    hazards: tuple[str, ...] = ()  # the hazards the header lists, `CODE severity: message`


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"-- {indent}{line}".rstrip() for line in text.splitlines() or [""]]


def header(migration: MigrationValue, direction: str) -> list[str]:
    """The header comment lines of the up or down file."""
    up = direction == "up"
    lines = [
        MARKER,
        f"-- direction: {direction}",
        f"-- name: {migration.name}",
        f"-- version: {migration.version}",
        f"-- parents: {' '.join(migration.parents) if migration.parents else '(none)'}",
        f"-- branch: {migration.branch or '(commits)'}",
        f"-- from_snapshot: {migration.from_snapshot}",
        f"-- to_snapshot: {migration.to_snapshot}",
    ]
    if migration.commits:
        lines.append(f"-- commits: {' '.join(str(c) for c in migration.commits)}")
    for merge in migration.merges:
        lines.append(f"-- merged: {merge}")
    for note in migration.notes:
        lines.append(f"-- note: {note}")
    for rename in migration.renames:
        lines.append(f"-- renamed: {json.dumps(asdict(rename), sort_keys=True)}")
    lines.extend(_hazard_lines(migration.hazards if up else migration.down_hazards))
    if not up:
        lines.extend(_loss_lines(migration.data_losses))
    if up:
        lines.append(f"-- applies {migration.from_snapshot[:12]} -> {migration.to_snapshot[:12]}; "
                     "`pggit migrate apply` refuses a database whose schema is not from_snapshot.")
    else:
        lines.append(f"-- reverts {migration.to_snapshot[:12]} -> {migration.from_snapshot[:12]}.")
    return lines


def _hazard_lines(hazards: Sequence[Hazard]) -> list[str]:
    if not hazards:
        return ["-- hazards: none"]
    errors = sum(1 for h in hazards if h.severity == "error")
    lines = [f"-- hazards: {len(hazards)} ({errors} error{'s' if errors != 1 else ''}, "
             f"{len(hazards) - errors} warning{'s' if len(hazards) - errors != 1 else ''})"]
    for h in hazards:
        lines.append(f"{HAZARD_INDENT}{h.code} {h.severity}: {h.message}")
        lines.extend(_comment(f"advice: {h.advice}", "    "))
    return lines


def _loss_lines(losses: Sequence[DataLoss]) -> list[str]:
    if not losses:
        return ["-- reversible: yes"]
    lines = [f"-- reversible: no, {len(losses)} part{'s' if len(losses) != 1 else ''} cannot be undone:"]
    lines.extend(f"--   {loss.object_key}: {loss.reason}" for loss in losses)
    return lines


def search_path_statement(schema: str, schemas: Sequence[str], local: bool) -> str:
    """The object's tracked schema first, then the other tracked schemas (cross-schema references resolve)."""
    path = sql.SQL(", ").join(sql.Identifier(s) for s in [schema, *(s for s in schemas if s != schema)])
    stmt = sql.SQL("SET LOCAL search_path = {};" if local else "SET search_path = {};").format(path)
    return stmt.as_string(None)


def body(steps: Sequence[PlanStep], notes: Mapping[int, Sequence[str]], schemas: Sequence[str]) -> list[str]:
    """The statements: a transaction for what can run in one, then each statement that cannot, alone."""
    inside = [s for s in steps if not s.own_transaction]
    outside = [s for s in steps if s.own_transaction]
    lines: list[str] = []
    if inside:
        lines += [BEGIN, "SET LOCAL check_function_bodies = off;"]
        schema = None
        for step in inside:
            if step.schema_name != schema:
                schema = step.schema_name
                lines.append(search_path_statement(schema, schemas, local=True))
            lines.append("")
            lines.extend(_note_lines(notes.get(step.ord, ())))
            lines.append(step.sql)
        lines += ["", COMMIT]
    for step in outside:
        lines += ["", f"{OUTSIDE} {_leading_words(step.statement)} cannot run inside a transaction block"]
        lines.extend(_note_lines(notes.get(step.ord, ())))
        lines += [search_path_statement(step.schema_name, schemas, local=False), step.sql]
    return lines


def _leading_words(statement: str) -> str:
    """How the comment names a statement that runs alone: its words up to CONCURRENTLY when it says so
    (`CREATE INDEX CONCURRENTLY`), else its first two (`VACUUM ANALYZE`). Only a label: whether a statement runs
    alone is `PlanStep.own_transaction`."""
    words = statement.split()
    upper = [w.upper() for w in words]
    end = upper.index("CONCURRENTLY") + 1 if "CONCURRENTLY" in upper else 2
    return " ".join(words[:end])


def _note_lines(notes: Iterable[str]) -> list[str]:
    out: list[str] = []
    for note in notes:
        out.extend(_comment(note))
    return out


def up_text(migration: MigrationValue) -> str:
    notes: dict[int, list[str]] = {}
    for h in migration.hazards:
        if h.ord is not None:
            notes.setdefault(h.ord, []).append(f"{h.code} {h.severity}: {h.message}")
    return "\n".join([*header(migration, "up"), "", *body(migration.up_steps, notes, migration.schemas)]) + "\n"


def down_text(migration: MigrationValue) -> str:
    notes: dict[int, list[str]] = {}
    ords = first_ords(migration.down_steps)
    for loss in migration.data_losses:
        target = ords.get(f"{loss.object_key}#{loss.column}", ords.get(loss.object_key)) if loss.column else (
            ords.get(loss.object_key))
        if target is not None:
            notes.setdefault(target, []).append(f"DATA LOSS (irreversible): {loss.reason}")
    for h in migration.down_hazards:
        if h.ord is not None:
            notes.setdefault(h.ord, []).append(f"{h.code} {h.severity}: {h.message}")
    return "\n".join([*header(migration, "down"), "", *body(migration.down_steps, notes, migration.schemas)]) + "\n"


def read_header(text: str) -> Header | None:
    """The header of a pggit migration file, or None when the text is not one."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != MARKER:
        return None
    fields: dict[str, str] = {}
    renames: list[Rename] = []
    hazards: list[str] = []
    section = ""
    for line in lines[1:]:
        if not line.startswith("-- "):
            break
        if line.startswith(HAZARD_INDENT):  # an indented line belongs to the field above it
            if section == "hazards" and not line.startswith(HAZARD_INDENT + " "):
                hazards.append(line[len(HAZARD_INDENT):])
            continue
        key, sep, value = line[3:].partition(": ")
        section = key if sep else section
        if sep and key == "renamed":
            renames.append(_rename(value))
        elif sep and key.isidentifier() and key not in fields:
            fields[key] = value.strip()
    try:
        parents = () if fields["parents"] == "(none)" else tuple(fields["parents"].split())
        return Header(direction=fields["direction"], name=fields["name"], version=fields["version"],
                      parents=parents, branch=None if fields["branch"] == "(commits)" else fields["branch"],
                      from_snapshot=fields["from_snapshot"], to_snapshot=fields["to_snapshot"],
                      reversible=None if "reversible" not in fields else fields["reversible"] == "yes",
                      renames=tuple(renames), hazards=tuple(hazards))
    except KeyError:
        return None


def _rename(value: str) -> Rename:
    data = json.loads(value)
    return Rename(kind=str(data["kind"]), schema=str(data["schema"]), old=str(data["old"]), new=str(data["new"]),
                  table=None if data.get("table") is None else str(data["table"]))


@dataclass(frozen=True)
class Sections:
    """An up/down file split for execution: the transactional script and each statement that runs alone."""

    transaction: str
    outside: tuple[str, ...]


def split_sections(text: str) -> Sections:
    """Split a migration file we wrote into its transaction body and its outside-the-transaction statements.
    Raises ValueError when the file no longer has that shape (edited by hand beyond recognition)."""
    lines = text.splitlines()
    try:
        begin = lines.index(BEGIN)
        commit = len(lines) - 1 - lines[::-1].index(COMMIT)
    except ValueError:
        begin = commit = -1
    if begin == -1 or commit < begin:
        transaction = ""
        rest = lines
    else:
        transaction = "\n".join(lines[begin + 1:commit]).strip()
        rest = lines[commit + 1:]
    outside: list[str] = []
    current: list[str] = []
    for line in [*rest, OUTSIDE]:
        if line.startswith(OUTSIDE) or line.startswith("SET search_path = "):
            if "\n".join(current).strip():
                outside.append("\n".join(current).strip())
            if line.startswith("SET search_path = "):
                outside.append(line.strip())
            current = []
        elif not line.startswith("--"):
            current.append(line)
    if not transaction and not outside:
        raise ValueError("no BEGIN; ... COMMIT; block and no outside statements")
    return Sections(transaction=transaction, outside=tuple(outside))
