"""Review approvals of intents: pggit._intent_approve and reads of pggit.intent_approvals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pggit_core.intents import Approval
from pggit_core.store.commits import database_errors

Conn = psycopg.Connection[Any]

_COLUMNS = "id, intent_id, reviewer, comment, approved_by, approved_at"


def approve(conn: Conn, intent_id: int, reviewer: str, comment: str) -> Approval:
    """Approve the intent waiting for review (pending_review -> completed) and record who, when and why, in one
    statement; the same approval again, with nothing changed since, returns the recorded one."""
    with database_errors():
        row = conn.execute("SELECT pggit._intent_approve(%s, %s, %s)", (intent_id, reviewer, comment)).fetchone()
    assert row is not None
    with conn.cursor(row_factory=dict_row) as cur:
        got = cur.execute(f"SELECT {_COLUMNS} FROM pggit.intent_approvals WHERE id = %s",  # noqa: S608 (constant)
                          (row[0],)).fetchone()
    assert got is not None
    return Approval.model_validate(got)


def latest(conn: Conn, intent_id: int) -> Approval | None:
    """The intent's last approval, if it was ever approved."""
    with conn.cursor(row_factory=dict_row) as cur:
        got = cur.execute(f"SELECT {_COLUMNS} FROM pggit.intent_approvals WHERE intent_id = %s "  # noqa: S608
                          "ORDER BY id DESC LIMIT 1", (intent_id,)).fetchone()
    return None if got is None else Approval.model_validate(got)


def approved(conn: Conn, intent_ids: Sequence[int]) -> frozenset[int]:
    """Which of ``intent_ids`` were approved in a review."""
    rows = conn.execute("SELECT DISTINCT intent_id FROM pggit.intent_approvals WHERE intent_id = ANY(%s::bigint[])",
                        (list(intent_ids),)).fetchall()
    return frozenset(int(str(r[0])) for r in rows)
