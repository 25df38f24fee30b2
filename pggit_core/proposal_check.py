"""Validation of proposed conflict SQL: it parses (sqlglot), runs on a rolled-back scratch branch and keeps both
intents, as the engine judges it (pggit._try_statements, pggit._proposal_findings)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from pggit_core import statements as parsing
from pggit_core.advisor import ConflictContext
from pggit_core.errors import InvalidSQL, PgGitError
from pggit_core.migrations.type_changes import TypeChange, classify
from pggit_core.snapshot import ObjectKey

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


# --------------------------------------------------------------------------------------------- the documents


class Sides(BaseModel):
    """The documents a conflict is judged against: the merge base, the target and the source now (whole
    documents, as the engine reads them), the target's snapshot hash, whether the merge would still report
    this very conflict, and the (object key, column or "") pairs a side removed at the conflict's paths
    (pggit._path_dropped): the only data a proposal may drop."""

    model_config = ConfigDict(frozen=True)

    base: dict[str, Any]
    ours: dict[str, Any]
    theirs: dict[str, Any]
    target_snapshot: str
    still_conflicts: bool
    dropped: frozenset[tuple[str, str]] = frozenset()


def _object_key_of(touch: parsing.Touch) -> str:
    if touch.kind is parsing.Kind.COLUMN:
        return str(ObjectKey.table_key(touch.schema, touch.table or ""))
    if touch.table and touch.kind in {parsing.Kind.CONSTRAINT, parsing.Kind.TRIGGER, parsing.Kind.POLICY}:
        return str(ObjectKey(touch.kind.value, touch.schema, touch.name, table=touch.table))
    return str(ObjectKey(touch.kind.value, touch.schema, touch.name))


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


def _objects(document: Mapping[str, Any]) -> dict[str, Any]:
    objects = document.get("objects", {})
    return dict(objects) if isinstance(objects, Mapping) else {}


def load_sides(conn: Conn, context: ConflictContext) -> Sides:
    """The merge base's document, the target's and the source's now, whether merging now would report this
    conflict (its fingerprint, as merge3.sql computes it, is among the conflicts pggit._merge3 finds), and what
    a side dropped at its paths; in one statement, so the documents are read once."""
    row = conn.execute(
        "WITH c AS (SELECT s.doc, c.fingerprint FROM pggit.conflicts c JOIN pggit.merges m ON m.id = c.merge_id"
        "             LEFT JOIN pggit.commits k ON k.id = m.base_commit_id"
        "             LEFT JOIN pggit.snapshots s ON s.hash = k.snapshot_hash WHERE c.id = %(id)s),"
        "     d AS (SELECT coalesce((SELECT c.doc FROM c), '{\"format\": 1, \"objects\": {}}'::jsonb) AS base,"
        "                  pggit.snapshot(%(target)s) AS ours, pggit.snapshot(%(source)s) AS theirs,"
        "                  (SELECT c.fingerprint FROM c) AS fingerprint)"
        " SELECT d.base, d.ours, pggit.snapshot_hash(d.ours), d.theirs,"
        "        d.fingerprint IS NULL OR EXISTS ("
        "            SELECT 1 FROM jsonb_array_elements(pggit._merge3(d.base, d.ours, d.theirs) -> 'conflicts') AS x"
        "             WHERE pggit._merge_fingerprint(x) = d.fingerprint),"
        "        ARRAY(SELECT jsonb_build_array(p ->> 'key', coalesce(p ->> 'column', ''))"
        "                FROM jsonb_array_elements(%(paths)s) AS p"
        "               WHERE pggit._path_dropped(p, d.base, d.ours, d.theirs))"
        "   FROM d",
        {"id": context.conflict_id, "target": context.target_branch, "source": context.source_branch,
         "paths": Jsonb(list(context.paths))}).fetchone()
    if row is None or not all(isinstance(row[i], dict) for i in (0, 1, 3)):
        raise PgGitError(f"pggit.snapshot() returned no document for {context.target_branch!r} or "
                         f"{context.source_branch!r}")
    return Sides(base=row[0], ours=row[1], theirs=row[3], target_snapshot=str(row[2]), still_conflicts=bool(row[4]),
                 dropped=frozenset((str(k), str(c)) for k, c in row[5]))


class ScratchRun(BaseModel):
    """The scratch branch's document after the statements (empty when one failed), and the first statement
    that failed."""

    model_config = ConfigDict(frozen=True)

    after: dict[str, Any]
    problems: tuple[str, ...] = ()


def run_on_scratch(conn: Conn, target_branch: str, texts: Sequence[str], label: str = "proposal",
                   sample_rows: int = 0, schema: str = parsing.DEFAULT_SCHEMA) -> ScratchRun:
    """Create a scratch branch from the target and try the statements there with pggit._try_statements (in
    order, with search_path on the branch's schema for `schema`; the document after them, or the first that
    failed); all of it inside a savepoint that is always rolled back, so nothing (branch, schemas, log rows,
    checkout) survives. A copy has the target's document (snapshot identity is branch-relative), so the
    target's is the 'before'. With `sample_rows`, that many rows of each table are copied too, so
    data-dependent failures (a cast or a NOT NULL the data does not satisfy) show here rather than at merge
    time."""
    scratch = _scratch_name_for(label)
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT pggit.create_branch(%s, %s, %s, %s)",
                     (scratch, target_branch, sample_rows > 0, sample_rows if sample_rows > 0 else None))
        conn.execute("SELECT pggit.checkout(%s)", (scratch,))
        conn.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                     (STATEMENT_TIMEOUT, LOCK_TIMEOUT))
        # The statements are bound as a parameter, never formatted into other SQL; they were parsed and allowed
        # (DDL on schema objects only) before they got here.
        row = conn.execute("SELECT t.failed, t.state, t.message, t.hint, t.doc"
                           "  FROM pggit._try_statements(pggit._branch_id(%s), %s, %s) AS t",
                           (scratch, schema, list(texts))).fetchone()
    if row is None:
        raise PgGitError("pggit._try_statements returned no row")
    failed, state, message, hint, doc = row
    if failed is not None:
        return ScratchRun(after={}, problems=(_database_problem(int(failed), state, message, hint),))
    return ScratchRun(after=doc if isinstance(doc, dict) else {})


def _database_problem(number: int, sqlstate: str | None, message: str | None, hint: str | None) -> str:
    state = f" [{sqlstate}]" if sqlstate else ""
    hint_text = f" (hint: {hint})" if hint else ""
    return f"statement {number} failed on the target's copy{state}: {(message or '').strip()}{hint_text}"


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
    drop_problems, notes = destructive_statements(parsed, set(sides.dropped))
    if drop_problems:
        return _fail(drop_problems, script=script, target_snapshot=sides.target_snapshot)
    run = run_on_scratch(conn, context.target_branch, texts, f"conflict-{context.conflict_id}", sample_rows, schema)
    if run.problems:
        return _fail(run.problems, script=script, target_snapshot=sides.target_snapshot)

    before = _objects(sides.ours)
    transient = sorted({_object_key_of(t) for st in parsed for t in st.touches
                        if t.action is parsing.Action.DROP and t.kind is not parsing.Kind.COLUMN
                        and _object_key_of(t) not in before})
    scope, three_way, changed = _findings(conn, context, sides, run.after)
    problems = scope + [f"{k} is dropped but the target does not have it: no temporary objects" for k in transient]
    for kind, message, new_type, old_types, lossy_message in three_way:
        if kind == "combined" and lossy_message is not None and _narrows(new_type, old_types):
            problems.append(lossy_message)
        elif kind == "problem":
            problems.append(message)
        else:
            notes.append(message)
    if problems:
        return _fail(problems, script=script, changed_objects=tuple(changed), notes=tuple(notes),
                     target_snapshot=sides.target_snapshot)
    return CheckResult(ok=True, notes=tuple(notes), needs_human=bool(notes), script=script,
                       changed_objects=tuple(changed), target_snapshot=sides.target_snapshot)


Finding = tuple[str, str, str | None, list[str] | None, str | None]


def _findings(conn: Conn, context: ConflictContext, sides: Sides, after: dict[str, Any]) -> tuple[
        list[str], list[Finding], list[str]]:
    """What the statements did, as the engine judges it (pggit._proposal_findings): the problems of objects that
    changed where they should not, the three-way findings at the conflict's paths (kind, message, and for a
    combination of column types the types and the problem if they narrow), and the keys that changed
    (pggit._changes)."""
    paths = Jsonb(list(context.paths))
    docs = (Jsonb(sides.base), Jsonb(sides.ours), Jsonb(sides.theirs), Jsonb(after))
    rows = conn.execute("SELECT f.stage, f.kind, f.message, f.new_type, f.old_types, f.lossy_message"
                        "  FROM pggit._proposal_findings(%s, %s, %s, %s, %s) AS f ORDER BY f.ord",
                        (paths, *docs)).fetchall()
    keys = conn.execute("SELECT coalesce(array_agg(c ->> 'key'), '{}')"
                        "  FROM jsonb_array_elements(pggit._changes(%s, %s)) AS c", (docs[1], docs[3])).fetchone()
    scope = [str(r[2]) for r in rows if r[0] == "scope"]
    three_way: list[Finding] = [(str(r[1]), str(r[2]), r[3], r[4], r[5]) for r in rows if r[0] == "three_way"]
    return scope, three_way, sorted(keys[0] if keys is not None else [])


def _narrows(new_type: str | None, old_types: Sequence[str] | None) -> bool:
    """Whether a proposal's column type loses data of one side's type (pggit_core.type_changes.classify)."""
    return new_type is not None and any(classify(old, new_type) in LOSSY for old in old_types or ())
