"""Approving an LLM proposal for an ERROR conflict from the command line: `pggit proposal` shows what waits,
`pggit approve-proposal` validates it again and records it, and refusals are one line with pggit's exit codes."""

from __future__ import annotations

import json

import pytest

from pggit_core import resolution
from pggit_core.cli import main
from tests.db.resolution.llm_fakes import Conn, FakeAPI, columns, conflict_row, merge, proposal

WIDEN = "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"


def _out(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command printed, with the console's line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_a_waiting_proposal_is_shown_approved_and_merged(users: Conn, error_conflict: int, db: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert resolution.resolve(users, error_conflict, FakeAPI([proposal(WIDEN)]).resolver()).status \
        == "awaiting_approval"
    assert main(["proposal", "--conflict-id", str(error_conflict), "--dsn", db]) == 0
    shown = _out(capsys)
    assert "awaiting_approval" in shown and WIDEN in shown and "pggit approve-proposal" in shown
    assert main(["proposal", "--conflict-id", str(error_conflict), "--dsn", db, "--format", "json"]) == 0
    recorded = json.loads(capsys.readouterr().out)
    assert recorded["conflict"]["id"] == error_conflict and recorded["conflict"]["conflict_type"] == "COLUMN"
    assert recorded["document"]["status"] == "awaiting_approval"

    assert main(["approve-proposal", "--conflict-id", str(error_conflict), "--approver", "alice",
                 "--sample-rows", "10", "--dsn", db, "--format", "json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome == {"conflict_id": error_conflict, "status": "applied", "attempts": 1,
                       "reason": "approved by alice"}
    row = conflict_row(users, error_conflict)
    assert row["resolved"] and row["resolution"] == "custom" and row["proposal"]["approved_by"] == "alice"
    assert row["proposal"]["revalidation"]["ok"] is True

    assert main(["approve-proposal", "--conflict-id", str(error_conflict), "--approver", "bob", "--dsn", db]) == 0
    assert "already resolved (custom)" in _out(capsys)
    assert merge(users, "agent/search")["result"] == "merged"
    assert columns(users)["email"] == "character varying(320)"


def test_approving_nothing_a_stale_proposal_or_no_one_is_refused(users: Conn, error_conflict: int, db: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["approve-proposal", "--conflict-id", "999", "--approver", "alice", "--dsn", db]) == 5
    assert "does not exist" in _err(capsys)
    assert main(["approve-proposal", "--conflict-id", str(error_conflict), "--approver", "alice", "--dsn", db]) == 5
    err = _err(capsys)
    assert "PG070" in err and "no validated proposal waiting" in err and "Traceback" not in err
    assert main(["proposal", "--conflict-id", str(error_conflict), "--dsn", db]) == 0
    assert "no LLM resolution recorded" in _out(capsys)

    assert resolution.resolve(users, error_conflict, FakeAPI([proposal(WIDEN)]).resolver()).status \
        == "awaiting_approval"
    assert main(["approve-proposal", "--conflict-id", str(error_conflict), "--approver", "  ", "--dsn", db]) == 2
    assert "approver" in _err(capsys)
    users.execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")  # main moves on during the review
    assert main(["approve-proposal", "--conflict-id", str(error_conflict), "--approver", "alice", "--dsn", db]) == 5
    assert "no longer validates" in _err(capsys)
    assert not conflict_row(users, error_conflict)["resolved"]
    assert main(["proposal", "--conflict-id", str(error_conflict), "--dsn", db]) == 0
    assert "escalated" in _out(capsys)
