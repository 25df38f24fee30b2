"""`pggit migrate generate|lint|verify|hash|apply` through the CLI entry point, JSON output parsed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from migration_helpers import Conn, on_branch, run_script

from pggit_core.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def prepare(conn: Conn) -> None:
    run_script(conn, "CREATE TABLE users (id integer PRIMARY KEY, email text, legacy text)")
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "ALTER TABLE users DROP COLUMN legacy; CREATE INDEX users_email_idx ON users (email)")


def test_generate_verify_lint_apply(db: str, conn: Conn, target_dsn: str, target: Conn, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    prepare(conn)
    out = tmp_path / "migrations"

    code, stdout, stderr = run(capsys, "migrate", "lint", "--from-branch", "agent/a", "--dsn", db, "--format", "json")
    assert code == 7 and "1 hazard(s) at or above error: PGH102" in stderr
    assert [h["code"] for h in json.loads(stdout)[0]["hazards"]] == ["PGH102", "PGH201"]

    code, stdout, stderr = run(capsys, "migrate", "generate", "--from-branch", "agent/a", "--name", "cleanup",
                               "--out", str(out), "--format-style", "flyway", "--fail-on", "error", "--dsn", db)
    assert code == 7 and not out.exists()  # refused by the gate: nothing written

    code, stdout, stderr = run(capsys, "migrate", "generate", "--from-branch", "agent/a", "--name", "cleanup",
                               "--out", str(out), "--format-style", "flyway", "--concurrent-indexes",
                               "--dsn", db, "--format", "json")
    assert code == 0, stderr
    summary = json.loads(stdout)
    version = summary["version"]
    assert [h["code"] for h in summary["hazards"]] == ["PGH102"] and summary["reversible"] is False
    assert sorted(Path(p).name for p in summary["files"] if p.endswith("__cleanup.sql")) == [
        f"U{version}__cleanup.sql", f"V{version}__cleanup.sql"]

    code, stdout, _ = run(capsys, "migrate", "verify", "--dir", str(out), "--format", "json")
    assert code == 0 and json.loads(stdout)["ok"] is True
    code, stdout, stderr = run(capsys, "migrate", "lint", "--dir", str(out), "--fail-on", "warning",
                               "--format", "json")
    assert code == 7 and [h["code"] for h in json.loads(stdout)[0]["hazards"]] == ["PGH102"]

    run_script(target, "CREATE TABLE users (id integer PRIMARY KEY, email text, legacy text)")
    code, stdout, stderr = run(capsys, "migrate", "apply", "--dir", str(out), "--dsn", target_dsn, "--format", "json")
    assert code == 0, stderr
    assert json.loads(stdout)["applied"] == [version]

    code, _, stderr = run(capsys, "migrate", "revert", "--dir", str(out), "--dsn", target_dsn)
    assert code == 7 and "cannot be reverted without losing data" in stderr and "legacy" in stderr
    code, stdout, stderr = run(capsys, "migrate", "revert", "--dir", str(out), "--dsn", target_dsn,
                               "--accept-data-loss", "--format", "json")
    assert code == 0 and json.loads(stdout) == {"reverted": version}, stderr
    code, stdout, stderr = run(capsys, "migrate", "apply", "--dir", str(out), "--dsn", target_dsn, "--format", "json")
    assert code == 0 and json.loads(stdout)["applied"] == [version], stderr

    up = out / f"V{version}__cleanup.sql"
    up.write_text(up.read_text() + "\n-- reviewed\n")
    code, stdout, stderr = run(capsys, "migrate", "verify", "--dir", str(out))
    assert code == 7 and f"modified: V{version}__cleanup.sql" in stderr
    code, _, _ = run(capsys, "migrate", "hash", "--dir", str(out))
    assert code == 0
    code, _, stderr = run(capsys, "migrate", "apply", "--dir", str(out), "--dsn", target_dsn)
    assert code == 7 and "was changed after it was applied" in stderr


def test_generate_bad_input(db: str, conn: Conn, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prepare(conn)
    code, _, stderr = run(capsys, "migrate", "generate", "--name", "x", "--out", str(tmp_path), "--dsn", db)
    assert code == 2 and "--from-branch BRANCH or --commits" in stderr
    code, _, stderr = run(capsys, "migrate", "generate", "--from-branch", "nope", "--name", "x", "--dsn", db)
    assert code == 5 and "branch 'nope' does not exist" in stderr
    code, _, stderr = run(capsys, "migrate", "generate", "--commits", "1,x", "--name", "x", "--dsn", db)
    assert code == 2 and "comma-separated commit ids" in stderr
    conn.execute("SELECT pggit.create_branch('agent/empty')")
    code, _, stderr = run(capsys, "migrate", "generate", "--from-branch", "agent/empty", "--name", "x",
                          "--out", str(tmp_path / "never"), "--dsn", db)
    assert code == 7 and "nothing to generate" in stderr and not (tmp_path / "never").exists()
    code, stdout, _ = run(capsys, "migrate", "generate", "--from-branch", "agent/a", "--name", "preview",
                          "--dry-run", "--dsn", db, "--format", "json")
    assert code == 0 and "DROP COLUMN legacy" in json.loads(stdout)["up_sql"] and json.loads(stdout)["files"] == []


def test_lint_dir_agrees_with_generate(db: str, conn: Conn, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_script(conn, "CREATE TABLE users (id integer PRIMARY KEY, email text, legacy text)")
    conn.execute("SELECT pggit.create_branch('agent/r')")
    on_branch(conn, "agent/r", "ALTER TABLE users RENAME COLUMN email TO mail; ALTER TABLE users DROP COLUMN legacy")
    code, stdout, stderr = run(capsys, "migrate", "generate", "--from-branch", "agent/r", "--name", "r",
                               "--out", str(tmp_path), "--dsn", db, "--format", "json")
    assert code == 0, stderr
    generated = sorted(h["code"] for h in json.loads(stdout)["hazards"])
    code, stdout, _ = run(capsys, "migrate", "lint", "--dir", str(tmp_path), "--fail-on", "none", "--format", "json")
    assert code == 0 and sorted(h["code"] for h in json.loads(stdout)[0]["hazards"]) == generated == [
        "PGH102", "PGH301"]
