"""The branch face of the CLI: checkout, commit, log (JSON output parsed)."""

from __future__ import annotations

import json

import psycopg
import pytest

from pggit_core.cli import main
from tests.db.capture.helpers import make_branch


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_commit_on_a_named_branch_and_log(main_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        make_branch(conn, "agent/cli")
        conn.execute("SELECT pggit.checkout('agent/cli')")
        conn.execute("ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    made = run_json(capsys, "commit", "-m", "oauth provider", "--branch", "agent/cli", "--author", "claude",
                    "--dsn", main_db)
    assert isinstance(made, dict)
    assert made["branch"] == "agent/cli" and made["author"] == "claude"
    assert made["statements"] == ["ALTER TABLE users ADD COLUMN oauth_provider TEXT"]
    log = run_json(capsys, "log", "agent/cli", "--limit", "5", "--dsn", main_db)
    assert isinstance(log, list)
    assert [c["commit_id"] for c in log] == [made["commit_id"]]
    assert set(log[0]) == {"commit_id", "branch", "parent_id", "message", "author", "snapshot_hash", "created_at",
                           "statements"}
    main_log = run_json(capsys, "log", "--dsn", main_db)
    assert isinstance(main_log, list) and [c["message"] for c in main_log] == ["users table"]
    assert main(["log", "agent/cli", "--dsn", main_db]) == 0
    assert "oauth provider" in capsys.readouterr().out


def test_checkout_verifies_and_explains(main_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        make_branch(conn, "agent/cli")
    shown = run_json(capsys, "checkout", "agent/cli", "--dsn", main_db)
    assert shown == {"branch": "agent/cli", "search_path": "pggit_b_agent_cli, pggit",
                     "psql": "SELECT pggit.checkout('agent/cli');"} or (
        isinstance(shown, dict) and shown["psql"] == "SELECT pggit.checkout('agent/cli');")
    assert main(["checkout", "agent/cli", "--dsn", main_db]) == 0
    out = capsys.readouterr().out
    assert "SELECT pggit.checkout('agent/cli');" in out and "session" in out


def test_cli_errors(main_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checkout", "agent/nope", "--dsn", main_db]) == 5
    err = capsys.readouterr().err
    assert "PG040" in err and "agent/nope" in err
    assert main(["commit", "-m", " ", "--dsn", main_db]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["log", "agent/nope", "--dsn", main_db]) == 5
    assert "agent/nope" in capsys.readouterr().err


def test_branch_create_list_diff_delete(main_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    made = run_json(capsys, "branch", "create", "agent/claude-auth", "--from", "main", "--dsn", main_db)
    assert isinstance(made, dict)
    assert made["name"] == "agent/claude-auth" and made["parent"] == "main" and len(made["schemas"]) == 1
    listed = run_json(capsys, "branch", "list", "--dsn", main_db)
    assert isinstance(listed, list) and [b["name"] for b in listed] == ["main", "agent/claude-auth"]
    assert run_json(capsys, "branch", "--dsn", main_db) == listed  # `pggit branch` alone lists
    assert main(["branch", "list", "--dsn", main_db]) == 0
    assert "agent/claude-auth" in capsys.readouterr().out

    empty = run_json(capsys, "diff", "main", "agent/claude-auth", "--dsn", main_db)
    assert empty == {"a": "main", "b": "agent/claude-auth", "changes": []}
    with psycopg.connect(main_db, autocommit=True) as conn:
        conn.execute("SELECT pggit.checkout('agent/claude-auth')")
        conn.execute("ALTER TABLE users ADD COLUMN oauth_provider TEXT")
    found = run_json(capsys, "diff", "main", "agent/claude-auth", "--dsn", main_db)
    assert isinstance(found, dict)
    assert [(c["object_key"], c["change"], c["fields"], c["statement"]) for c in found["changes"]] == [
        ("table:public.users", "changed", ["columns.oauth_provider"],
         "ALTER TABLE users ADD COLUMN oauth_provider text")]
    assert main(["diff", "main", "agent/claude-auth", "--dsn", main_db]) == 0
    assert "oauth_provider" in capsys.readouterr().out

    # Uncommitted work: delete needs --force.
    assert main(["branch", "delete", "agent/claude-auth", "--dsn", main_db]) == 5
    assert "force" in capsys.readouterr().err
    assert run_json(capsys, "branch", "delete", "agent/claude-auth", "--force", "--dsn", main_db) == {
        "deleted": "agent/claude-auth", "force": True}
    listed = run_json(capsys, "branch", "list", "--dsn", main_db)
    assert isinstance(listed, list) and [b["name"] for b in listed] == ["main"]


def test_branch_bad_input(main_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["branch", "create", "Agent X", "--dsn", main_db]) == 2
    assert "PG030" in capsys.readouterr().err
    assert main(["branch", "create", "agent/x", "--from", "agent/nope", "--dsn", main_db]) == 5
    assert "agent/nope" in capsys.readouterr().err
    assert main(["branch", "delete", "main", "--dsn", main_db]) == 5
    assert "PG050" in capsys.readouterr().err
    assert main(["diff", "main", "agent/nope", "--dsn", main_db]) == 5
    assert "agent/nope" in capsys.readouterr().err
