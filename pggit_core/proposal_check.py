"""Validation of proposed conflict SQL: it parses, runs on a rolled-back scratch branch, and keeps both intents."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from pggit_core import statements as parsing
from pggit_core.advisor import ConflictContext
from pggit_core.errors import InvalidSQL, PgGitError, from_database_error
from pggit_core.migrations.type_changes import TypeChange, classify

Conn = psycopg.Connection[Any]

# Objects proposals may create, alter or drop; anything else (roles, schemas, extensions, event triggers...) is
# outside a schema conflict and refused before it runs.
ALLOWED_OBJECTS = frozenset({
    "TABLE", "INDEX", "VIEW", "MATERIALIZED", "FUNCTION", "PROCEDURE", "TYPE", "DOMAIN", "SEQUENCE", "POLICY",
    "TRIGGER", "UNIQUE", "CONSTRAINT", "COLUMN",
})
ALLOWED_HEADS = frozenset({"CREATE", "ALTER", "DROP", "COMMENT"})
# Kinds whose DROP destroys data (a dropped-and-recreated index or view loses nothing).
DATA_KINDS = frozenset({parsing.Kind.TABLE, parsing.Kind.COLUMN, parsing.Kind.SEQUENCE, parsing.Kind.TYPE,
                        parsing.Kind.SCHEMA, parsing.Kind.EXTENSION})
LOSSY = frozenset({TypeChange.narrowing, TypeChange.conversion})
IGNORED_FIELDS = frozenset({"deps"})
STATEMENT_TIMEOUT = "30s"
LOCK_TIMEOUT = "5s"


class CheckResult(BaseModel):
    """What validation found. `ok`: may be applied; `needs_human`: valid, but a person must choose (see notes);
    `retryable`: the problems are the proposal's fault and worth sending back to the model; `stale`: the
    branches moved since the merge recorded the conflict (run the merge again)."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    needs_human: bool = False
    retryable: bool = True
    stale: bool = False
    script: str = ""
    changed_objects: tuple[str, ...] = ()
    target_snapshot: str | None = None

    def feedback(self) -> str:
        """The problems as one message for the model."""
        return "\n".join(f"- {p}" for p in self.problems)


class _Missing:
    def __repr__(self) -> str:
        return "absent"


MISSING: Any = _Missing()


def _fail(problems: Sequence[str], *, retryable: bool = True, **extra: Any) -> CheckResult:
    return CheckResult(ok=False, problems=tuple(problems), retryable=retryable, **extra)


# --------------------------------------------------------------------------------------------- parsing


def parse_statements(texts: Sequence[str], schema: str = parsing.DEFAULT_SCHEMA) -> tuple[
        list[parsing.Statement], list[str]]:
    """Each item parsed as exactly one allowed DDL statement on objects of `schema` (the conflict's tracked
    schema; unqualified names are fine); returns the statements and the problems found."""
    allowed_schemas = {schema, parsing.DEFAULT_SCHEMA}
    problems: list[str] = []
    parsed: list[parsing.Statement] = []
    for number, text in enumerate(texts, start=1):
        try:
            pieces = parsing.split(text)
        except InvalidSQL as exc:
            problems.append(f"statement {number}: {exc.message}")
            continue
        if len(pieces) != 1:
            problems.append(f"statement {number} holds {len(pieces)} statements; give exactly one per item")
            continue
        try:
            statement = parsing.parse_one(pieces[0], number - 1)
        except InvalidSQL as exc:
            problems.append(exc.message)
            continue
        words = statement.command.split(" ")
        head, obj = words[0], (words[1] if len(words) > 1 else "")
        if head not in ALLOWED_HEADS:
            problems.append(f"statement {number} is {statement.command}: only CREATE, ALTER, DROP and COMMENT "
                            f"of schema objects may resolve a conflict")
        elif head != "COMMENT" and obj not in ALLOWED_OBJECTS:
            problems.append(f"statement {number} is {statement.command}: it changes something outside a "
                            f"schema conflict")
        elif any(t.action is parsing.Action.DATA for t in statement.touches):
            problems.append(f"statement {number} changes data; only schema changes are allowed")
        elif _runs_a_query(statement):
            problems.append(f"statement {number} ({statement.command}) runs a query when it is created; create "
                            f"tables with column definitions, and leave materialized views to a person")
        else:
            foreign = sorted({t.schema for t in statement.touches if t.schema not in allowed_schemas})
            if foreign:
                problems.append(f"statement {number} names schema {', '.join(foreign)}; use unqualified names "
                                f"(the statements run on the branch's own schema)")
        parsed.append(statement)
    return parsed, problems


def _runs_a_query(statement: parsing.Statement) -> bool:
    """CREATE TABLE ... AS (no column definitions of its own) and CREATE MATERIALIZED VIEW execute a query
    as they are created, so they could call anything; they are refused before they run."""
    if statement.command == "CREATE MATERIALIZED VIEW" or any(
            t.kind is parsing.Kind.VIEW and t.action is parsing.Action.CREATE and t.detail == "materialized"
            for t in statement.touches):
        return True
    if statement.command != "CREATE TABLE":
        return False
    defines_columns = any(t.kind is parsing.Kind.COLUMN and t.action is parsing.Action.CREATE
                          for t in statement.touches) or any(t.detail == "LIKE" for t in statement.touches)
    reads = any(t.detail == "read by query" for t in statement.touches)
    return reads or not defines_columns


def join_script(texts: Sequence[str]) -> str:
    """The statements as the one script that is recorded and applied (verified to split back the same)."""
    return ";\n".join(t.strip().rstrip(";").strip() for t in texts) + ";"


# --------------------------------------------------------------------------------------------- three-way


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a definition keyed by dotted path; each nested mapping also gets a presence marker (so a
    column present on one side and absent on another shows as such). None: absent. `deps` is ignored."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return {prefix or "<value>": value}
    out: dict[str, Any] = {prefix or "<object>": "<present>"}
    for key, item in value.items():
        if not prefix and key in IGNORED_FIELDS:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, Mapping):
            out.update(flatten(item, path))
        else:
            out[path] = item
    return out


def _show(value: Any) -> str:
    if value is MISSING:
        return "absent"
    if value == "<present>":
        return "present"
    return json.dumps(value, default=str)


def _is_type_path(path: str) -> bool:
    return path.endswith(".type") or path in {"type", "<value>"}


def three_way(base: Any, ours: Any, theirs: Any, result: Any, label: str = "") -> tuple[list[str], list[str]]:
    """Compare the result with what each side intended, field by field: (problems, notes for a human)."""
    b, o, t, r = flatten(base), flatten(ours), flatten(theirs), flatten(result)
    problems: list[str] = []
    notes: list[str] = []
    prefix = f"{label}: " if label else ""
    gone: list[str] = []  # objects reported as missing or unwanted: their fields are not reported again
    for path in sorted(set(b) | set(o) | set(t) | set(r)):
        if "<object>" in gone or any(path.startswith(g + ".") for g in gone):
            continue
        bv, ov, tv, rv = (d.get(path, MISSING) for d in (b, o, t, r))
        where = f"{prefix}{path}"
        if ov == tv or tv == bv:
            want, who = ov, ("both sides have" if ov == tv else "ours (the target) has")
        elif ov == bv:
            want, who = tv, "theirs (the source) changed it to"
        else:
            if rv == ov or rv == tv:
                notes.append(f"{where}: both sides changed it ({_show(ov)} vs {_show(tv)}); "
                             f"the proposal keeps {'ours' if rv == ov else 'theirs'}")
            elif rv is MISSING:
                problems.append(f"{where}: both sides changed it ({_show(ov)} vs {_show(tv)}) but the proposal "
                                f"removes it")
            elif _is_type_path(path) and isinstance(rv, str) and any(
                    isinstance(side, str) and classify(side, rv) in LOSSY for side in (ov, tv)):
                problems.append(f"{where}: the proposal's type {rv} narrows or converts one side's type "
                                f"({_show(ov)} / {_show(tv)}); pick a type both fit in")
            else:
                notes.append(f"{where}: both sides changed it ({_show(ov)} vs {_show(tv)}); the proposal "
                             f"combines them as {_show(rv)}")
            continue
        if rv != want:
            problems.append(f"{where}: {who} {_show(want)}, the proposal leaves {_show(rv)}")
            if "<present>" in (want, rv):
                gone.append(path)
    return problems, notes


def value_at(objects: Mapping[str, Any], path: Mapping[str, str]) -> Any:
    """The value a conflict path names in a document's objects (None when absent), as merge.sql reads it."""
    obj = objects.get(path.get("key", ""))
    if not isinstance(obj, Mapping):
        return None
    if "column" in path:
        columns = obj.get("columns")
        return columns.get(path["column"]) if isinstance(columns, Mapping) else None
    if "field" in path:
        return obj.get(path["field"])
    return obj


def path_label(path: Mapping[str, str]) -> str:
    if "column" in path:
        return f"{path['key']} column {path['column']}"
    if "field" in path:
        return f"{path['key']} field {path['field']}"
    return path.get("key", "?")


def without_paths(obj: Any, paths: Sequence[Mapping[str, str]]) -> Any:
    """An object minus the columns/fields the conflict is about (and `deps`): what must not change."""
    if not isinstance(obj, Mapping):
        return obj
    rest = {k: v for k, v in obj.items() if k not in IGNORED_FIELDS}
    conflict_columns = {path["column"] for path in paths if "column" in path}
    if isinstance(rest.get("columns"), Mapping):
        rest["columns"] = {c: d for c, d in rest["columns"].items() if c not in conflict_columns}
    if isinstance(rest.get("column_order"), list):
        rest["column_order"] = [c for c in rest["column_order"] if c not in conflict_columns]
    for path in paths:
        if "field" in path:
            rest.pop(path["field"], None)
    return rest


class Sides(BaseModel):
    """The documents a conflict is judged against (objects only): the merge base, the target and the source
    now, the target's snapshot hash, and whether the merge would still report this very conflict."""

    model_config = ConfigDict(frozen=True)

    base: dict[str, Any]
    ours: dict[str, Any]
    theirs: dict[str, Any]
    target_snapshot: str
    still_conflicts: bool


def _side_dropped(context: ConflictContext, sides: Sides) -> set[tuple[str, str]]:
    """(object key, column or "") pairs one side removed: the only data a proposal may drop."""
    dropped: set[tuple[str, str]] = set()
    for path in context.paths:
        b = value_at(sides.base, path)
        if b is not None and (value_at(sides.ours, path) is None or value_at(sides.theirs, path) is None):
            dropped.add((path.get("key", ""), path.get("column", "")))
    return dropped


def _object_key_of(touch: parsing.Touch) -> str:
    kind = touch.kind.value
    if touch.kind is parsing.Kind.COLUMN:
        return f"table:{touch.schema}.{touch.table}"
    if touch.table and touch.kind in {parsing.Kind.CONSTRAINT, parsing.Kind.TRIGGER, parsing.Kind.POLICY}:
        return f"{kind}:{touch.schema}.{touch.table}.{touch.name}"
    return f"{kind}:{touch.schema}.{touch.name}"


def destructive_statements(parsed: Sequence[parsing.Statement],
                           dropped: set[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Drops of data (tables, columns, sequences, types, CASCADE) that no side asked for: (problems, notes).
    `dropped` holds the (object key, column or "") pairs a side removed."""
    problems: list[str] = []
    notes: list[str] = []
    retyped: dict[str, int] = {}
    for statement in parsed:
        number = statement.index + 1
        for touch in statement.touches:
            if touch.action is parsing.Action.RETYPE and touch.kind is parsing.Kind.COLUMN:
                column = f"{touch.table}.{touch.name}"
                retyped[column] = retyped.get(column, 0) + 1
            if touch.action is not parsing.Action.DROP:
                continue
            key = _object_key_of(touch)
            if touch.kind is parsing.Kind.COLUMN:
                allowed = (key, touch.name) in dropped or (key, "") in dropped
                what = f"column {touch.table}.{touch.name}"
            else:
                allowed = (key, "") in dropped or touch.kind not in DATA_KINDS
                what = f"{touch.kind.value} {touch.name}"
            if "cascade" in touch.detail:
                allowed = False
                what += " with CASCADE"
            if not allowed:
                problems.append(f"statement {number} drops {what}, which neither side dropped; "
                                f"resolve without destroying data")
    for column, count in sorted(retyped.items()):
        if count > 1:
            notes.append(f"column {column} changes type {count} times; an intermediate type may lose data")
    return problems, notes


# --------------------------------------------------------------------------------------------- scratch run


def _document(conn: Conn, branch: str) -> dict[str, Any]:
    row = conn.execute("SELECT pggit.snapshot(%s)", (branch,)).fetchone()
    if row is None or not isinstance(row[0], dict):
        raise PgGitError(f"pggit.snapshot({branch!r}) returned no document")
    return row[0]


def _objects(document: Mapping[str, Any]) -> dict[str, Any]:
    objects = document.get("objects", {})
    return dict(objects) if isinstance(objects, Mapping) else {}


def load_sides(conn: Conn, context: ConflictContext) -> Sides:
    """The merge base's document, the target's and the source's now, and whether merging now would report
    this conflict (its fingerprint, as merge.sql computes it, is among the conflicts found)."""
    row = conn.execute(
        "SELECT s.doc, c.fingerprint FROM pggit.conflicts c JOIN pggit.merges m ON m.id = c.merge_id"
        " LEFT JOIN pggit.commits k ON k.id = m.base_commit_id LEFT JOIN pggit.snapshots s ON s.hash = k.snapshot_hash"
        " WHERE c.id = %s", (context.conflict_id,)).fetchone()
    base_doc: dict[str, Any] = row[0] if row is not None and isinstance(row[0], dict) else {"format": 1, "objects": {}}
    fingerprint = row[1] if row is not None else None
    ours_row = conn.execute("SELECT d, pggit.snapshot_hash(d) FROM pggit.snapshot(%s) AS d",
                            (context.target_branch,)).fetchone()
    if ours_row is None or not isinstance(ours_row[0], dict):
        raise PgGitError(f"pggit.snapshot({context.target_branch!r}) returned no document")
    ours_doc: dict[str, Any] = ours_row[0]
    theirs_doc = _document(conn, context.source_branch)
    still = True
    if fingerprint is not None:
        found = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(pggit._merge3(%s, %s, %s) -> 'conflicts') AS c"
            " WHERE pggit._merge_fingerprint(c) = %s)",
            (Jsonb(base_doc), Jsonb(ours_doc), Jsonb(theirs_doc), fingerprint)).fetchone()
        still = bool(found and found[0])
    return Sides(base=_objects(base_doc), ours=_objects(ours_doc), theirs=_objects(theirs_doc),
                 target_snapshot=str(ours_row[1]), still_conflicts=still)


def _database_problem(exc: psycopg.Error, number: int) -> str:
    diag = exc.diag
    mapped = from_database_error(exc)
    message = mapped.message if mapped is not None else (diag.message_primary or str(exc).strip())
    state = f" [{exc.sqlstate}]" if exc.sqlstate else ""
    hint = f" (hint: {diag.message_hint})" if diag.message_hint else ""
    return f"statement {number} failed on the target's copy{state}: {message}{hint}"


class ScratchRun(BaseModel):
    """The scratch branch's objects after the statements, and the first statement that failed."""

    model_config = ConfigDict(frozen=True)

    after: dict[str, Any]
    problems: tuple[str, ...] = ()


def run_on_scratch(conn: Conn, target_branch: str, texts: Sequence[str], label: str = "proposal",
                   sample_rows: int = 0) -> ScratchRun:
    """Create a scratch branch from the target, run the statements there and snapshot it; all of it inside a
    savepoint that is always rolled back, so nothing (branch, schemas, log rows, checkout) survives. A copy
    has the target's document (snapshot identity is branch-relative), so the target's is the 'before'.
    With `sample_rows`, that many rows of each table are copied too, so data-dependent failures (a cast or a
    NOT NULL the data does not satisfy) show here rather than at merge time."""
    scratch = _scratch_name_for(label)
    problems: list[str] = []
    after: dict[str, Any] = {}
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT pggit.create_branch(%s, %s, %s, %s)",
                     (scratch, target_branch, sample_rows > 0, sample_rows if sample_rows > 0 else None))
        conn.execute("SELECT pggit.checkout(%s)", (scratch,))
        conn.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                     (STATEMENT_TIMEOUT, LOCK_TIMEOUT))
        for number, text in enumerate(texts, start=1):
            try:
                with conn.transaction():
                    # Sent as it is, never formatted into other SQL; it was parsed and allowed (DDL on schema
                    # objects only) before it got here.
                    conn.execute(text.encode())
            except psycopg.Error as exc:
                problems.append(_database_problem(exc, number))
                break
        if not problems:
            after = _objects(_document(conn, scratch))
    return ScratchRun(after=after, problems=tuple(problems))


def _scratch_name_for(label: str) -> str:
    return f"scratch/{label}-{secrets.token_hex(4)}"


def check(conn: Conn, context: ConflictContext, texts: Sequence[str], *, sample_rows: int = 0) -> CheckResult:
    """Validate proposed statements for a conflict. Nothing is applied: the scratch branch is rolled back.
    `sample_rows` > 0 copies that many rows per table into the scratch branch (see `run_on_scratch`)."""
    texts = [t.strip().rstrip(";").strip() for t in texts]
    if not texts or not all(texts):
        return _fail(["the proposal has an empty statement; give at least one complete statement"])
    if not context.paths:
        return _fail([f"conflict {context.conflict_id} names no paths; it cannot be checked"], retryable=False)
    schema = context.object_key.partition(":")[2].partition(".")[0] or parsing.DEFAULT_SCHEMA
    parsed, problems = parse_statements(texts, schema)
    if problems:
        return _fail(problems)
    script = join_script(texts)
    try:
        rejoined = parsing.split(script)
    except InvalidSQL as exc:
        rejoined = [exc.message]
    if rejoined != texts:
        return _fail(["the statements do not join into one unambiguous script (a trailing comment or an "
                      "unterminated quote?); remove comments and give complete statements"])

    sides = load_sides(conn, context)
    if not sides.still_conflicts:
        return _fail([f"{context.target_branch!r} or {context.source_branch!r} changed since the merge recorded "
                      f"conflict {context.conflict_id}: merging now would not report it; run the merge again"],
                     retryable=False, stale=True, script=script)
    drop_problems, notes = destructive_statements(parsed, _side_dropped(context, sides))
    if drop_problems:
        return _fail(drop_problems, script=script, target_snapshot=sides.target_snapshot)
    run = run_on_scratch(conn, context.target_branch, texts, f"conflict-{context.conflict_id}", sample_rows)
    if run.problems:
        return _fail(run.problems, script=script, target_snapshot=sides.target_snapshot)
    before, after = sides.ours, run.after

    keys = {p.get("key", "") for p in context.paths}
    whole = {p.get("key", "") for p in context.paths if "column" not in p and "field" not in p}
    transient = sorted({_object_key_of(t) for st in parsed for t in st.touches
                        if t.action is parsing.Action.DROP and t.kind is not parsing.Kind.COLUMN
                        and _object_key_of(t) not in before})
    changed = sorted(k for k in set(before) | set(after) if before.get(k, MISSING) != after.get(k, MISSING))
    problems = []
    for key in changed:
        verb = "created" if key not in before else "removed" if key not in after else "altered"
        if key not in keys:
            problems.append(f"{key} changed ({verb}) but only {', '.join(sorted(keys))} may change")
        elif key not in whole and key in before and key in after and (
                without_paths(before[key], context.paths) != without_paths(after[key], context.paths)):
            problems.append(f"{key} changed outside the conflicting "
                            f"{', '.join(path_label(p) for p in context.paths if p.get('key') == key)}")
    problems.extend(f"{k} is dropped but the target does not have it: no temporary objects" for k in transient)
    for path in context.paths:
        field_problems, field_notes = three_way(value_at(sides.base, path), value_at(before, path),
                                                value_at(sides.theirs, path), value_at(after, path), path_label(path))
        problems.extend(field_problems)
        notes.extend(field_notes)
    if problems:
        return _fail(problems, script=script, changed_objects=tuple(changed), notes=tuple(notes),
                     target_snapshot=sides.target_snapshot)
    return CheckResult(ok=True, notes=tuple(notes), needs_human=bool(notes), script=script,
                       changed_objects=tuple(changed), target_snapshot=sides.target_snapshot)
