"""The Python and CLI faces of merging: PgGitClient.merge/conflicts/resolve_conflict, typed results, errors
mapped to pggit's classes, and `pggit merge|conflicts|resolve|merges` with JSON output."""

from __future__ import annotations

import json

import psycopg
import pytest

from pggit_core.cli import main
from pggit_core.client import PgGitClient
from pggit_core.errors import BranchError, InvalidInput, InvalidSQL, MergeError, NotFound
from pggit_core.merge import MergeResult, history
from tests.db.merge.conftest import Conn, on_branch, snapshot


def make_email_conflict(conn: Conn) -> None:
    on_branch(conn, "agent/a", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")


def test_client_merge_conflicts_and_resolution(users_db: Conn) -> None:
    client = PgGitClient(users_db)
    make_email_conflict(users_db)
    stopped = client.merge("agent/a", target_branch="main", auto_resolve=True)
    assert isinstance(stopped, MergeResult)
    assert stopped.has_conflicts and not stopped.applied and stopped.result == "conflicts"
    (conflict,) = stopped.conflicts
    assert conflict.conflict_type == "COLUMN" and conflict.severity == "ERROR"
    assert conflict.branch_b_sql is not None and "320" in conflict.branch_b_sql
    assert [c.id for c in client.conflicts()] == [conflict.id]
    resolved = client.resolve_conflict(conflict.id, "theirs", notes="the source's length")
    assert resolved.resolved and resolved.resolution == "theirs" and resolved.resolution_notes == "the source's length"
    assert client.conflicts() == []
    assert [c.id for c in client.conflicts(include_resolved=True)] == [conflict.id]
    done = client.merge("agent/a")
    assert done.applied and not done.has_conflicts and done.merge_id > stopped.merge_id
    assert [r.resolution for r in done.resolutions] == ["theirs"]
    assert [m.result for m in history(users_db)] == ["merged", "conflicts"]


def test_client_errors_are_pggit_errors(users_db: Conn) -> None:
    client = PgGitClient(users_db)
    with pytest.raises(NotFound):
        client.merge("agent/nope")
    with pytest.raises(BranchError):
        client.merge("main", "main")
    with pytest.raises(NotFound):
        client.resolve_conflict(12345, "ours")
    with pytest.raises(InvalidInput):
        client.resolve_conflict(1, "both")
    make_email_conflict(users_db)
    conflict_id = client.merge("agent/a").conflicts[0].id
    with pytest.raises(InvalidSQL, match="nope"):
        client.resolve_conflict(conflict_id, "custom", "ALTER TABLE nope ADD COLUMN x int")


def test_client_failed_merge_raises_and_is_recorded(users_db: Conn) -> None:
    client = PgGitClient(users_db)
    make_email_conflict(users_db)
    conflict_id = client.merge("agent/a").conflicts[0].id
    client.resolve_conflict(conflict_id, "custom", "CREATE INDEX users_audit ON users (email)")
    users_db.execute("CREATE TABLE users_audit (id int)")  # main changes after the resolution was checked
    before = snapshot(users_db)
    with pytest.raises(MergeError, match="users_audit") as failed:
        client.merge("agent/a")
    assert failed.value.code == "PG090"
    assert snapshot(users_db) == before
    assert history(users_db)[0].result == "failed"


def test_cli_merge_conflicts_resolve(users_db: Conn, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    make_email_conflict(users_db)
    assert main(["merge", "agent/a", "--into", "main", "--dsn", db, "--format", "json"]) == 10
    stopped = json.loads(capsys.readouterr().out)
    assert stopped["result"] == "conflicts"
    conflict_id = stopped["conflicts"][0]["id"]
    assert main(["conflicts", "--dsn", db, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [conflict_id]
    assert main(["resolve", "--conflict-id", "999", "--resolution", "ours", "--dsn", db]) == 5
    assert "does not exist" in capsys.readouterr().err
    assert main(["resolve", "--conflict-id", str(conflict_id), "--resolution", "custom",
                 "--sql", "ALTER TABLE users ALTER COLUMN email TYPE varchar(200)", "--notes", "compromise",
                 "--dsn", db]) == 0
    assert "resolved: custom" in capsys.readouterr().out
    assert main(["merge", "agent/a", "--dsn", db]) == 0
    assert "Merged agent/a into main" in capsys.readouterr().out
    assert main(["conflicts", "--all", "--dsn", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["resolution"] == "custom"
    assert main(["merges", "--dsn", db, "--format", "json"]) == 0
    assert [m["result"] for m in json.loads(capsys.readouterr().out)] == ["merged", "conflicts"]
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                           " WHERE attrelid = 'public.users'::regclass AND attname = 'email'").fetchone()
    assert row == ("character varying(200)",)
