"""pggit._three_way_leaves / _proposal_findings: how a proposal's result is judged against what each side
intended, leaf by leaf (moved here from Python's proposal_check.three_way, which re-derived the merge)."""

from __future__ import annotations

import json
from typing import Any

from tests.db.engine.helpers import Conn, col

USERS = "table:public.users"


def table(**columns: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "table", "schema": "public", "name": "users", "comment": None, "deps": [], "grants": [],
            "columns": columns, "persistence": "permanent", "rls_enabled": False, "rls_forced": False,
            "partition_key": None, "partition_of": None, "partition_bound": None}


BASE = table(id=col("integer", not_null=True), email=col("text"))
OURS = table(id=col("integer", not_null=True), email=col("text"), oauth_provider=col("text"))
THEIRS = table(id=col("integer", not_null=True), email=col("text"), search_preferences=col("jsonb"))
BOTH = table(id=col("integer", not_null=True), email=col("text"), oauth_provider=col("text"),
             search_preferences=col("jsonb"))


def leaves(conn: Conn, b: Any, o: Any, t: Any, r: Any, label: str = "") -> tuple[list[str], list[str], list[Any]]:
    """(problems, notes, combined type findings) as the SQL reports them."""
    rows = conn.execute("SELECT kind, message, new_type, old_types, lossy_message"
                        "  FROM pggit._three_way_leaves(%s::jsonb, %s::jsonb, %s::jsonb, %s::jsonb, %s) ORDER BY ord",
                        tuple(None if v is None else json.dumps(v) for v in (b, o, t, r)) + (label,)
                        ).fetchall()
    return ([m for k, m, *_ in rows if k == "problem"], [m for k, m, *_ in rows if k in ("note", "combined")],
            [tuple(x) for k, *x in rows if k == "combined"])


def test_both_additions_are_accepted(conn: Conn) -> None:
    assert leaves(conn, BASE, OURS, THEIRS, BOTH) == ([], [], [])


def test_the_lost_intent_is_named(conn: Conn) -> None:
    problems, _, _ = leaves(conn, BASE, OURS, THEIRS, OURS)
    assert any(p.startswith("columns.search_preferences") and "theirs" in p for p in problems)


def test_changes_nobody_asked_for_are_refused(conn: Conn) -> None:
    result = table(id=col("integer", not_null=True), email=col("text", not_null=True), oauth_provider=col("text"),
                   search_preferences=col("jsonb"))
    problems, _, _ = leaves(conn, BASE, OURS, THEIRS, result)
    assert problems == ["columns.email.not_null: both sides have false, the proposal leaves true"]


def test_both_changed_needs_a_human_or_a_lossy_type_is_the_callers_to_judge(conn: Conn) -> None:
    ours = table(id=col("bigint", not_null=True), email=col("text"))
    theirs = table(id=col("numeric(12,0)", not_null=True), email=col("text"))
    problems, notes, _ = leaves(conn, BASE, ours, theirs, table(id=col("bigint", not_null=True), email=col("text")))
    assert problems == [] and "keeps ours" in notes[0]
    problems, notes, combined = leaves(conn, BASE, ours, theirs, table(id=col("smallint", not_null=True),
                                                                       email=col("text")))
    assert problems == [] and "combines them as \"smallint\"" in notes[0]
    [(message, new_type, old_types, lossy)] = combined
    assert (new_type, old_types) == ("smallint", ["bigint", "numeric(12,0)"]) and "narrows or converts" in lossy
    problems, _, _ = leaves(conn, BASE, ours, theirs, table(email=col("text")))
    assert problems == ["columns.id: both sides have present, the proposal leaves absent"]


def test_a_column_path_with_scalars_and_absence(conn: Conn) -> None:
    # both_added_columns: ours added a, theirs added b (per path: one side has it)
    assert leaves(conn, None, col("text"), None, col("text"), "a") == ([], [], [])
    problems, _, _ = leaves(conn, None, None, col("jsonb"), None, "b")
    assert problems == ["b: <object>: theirs (the source) changed it to present, the proposal leaves absent"]
    # a table-level field
    assert leaves(conn, False, True, False, True, "rls") == ([], [], [])


def test_findings_of_a_proposal_name_what_changed_outside_the_conflict(conn: Conn) -> None:
    paths = [{"key": USERS, "column": "search_preferences"}]
    docs = [{"objects": {USERS: d}} for d in (BASE, OURS, THEIRS)]
    after_ok = {"objects": {USERS: BOTH}}
    rows = conn.execute("SELECT stage, kind, message FROM pggit._proposal_findings(%s, %s, %s, %s, %s) ORDER BY ord",
                        [json.dumps(x) for x in (paths, *docs, after_ok)]).fetchall()
    assert rows == []
    after = {"objects": {USERS: {**BOTH, "comment": "people"},
                         "index:public.i": {"kind": "index", "schema": "public", "name": "i", "table": "users"}}}
    rows = conn.execute("SELECT stage, kind, message FROM pggit._proposal_findings(%s, %s, %s, %s, %s) ORDER BY ord",
                        [json.dumps(x) for x in (paths, *docs, after)]).fetchall()
    assert rows == [
        ("scope", "problem", "index:public.i changed (created) but only table:public.users may change"),
        ("scope", "problem", "table:public.users changed outside the conflicting table:public.users column "
                             "search_preferences"),
    ]
