"""Everything the README shows runs: its SQL tour through psql, its Python tour, its shell tour."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), re.S)


def _with_users(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")


def test_sql_tour_runs_in_psql(db: str) -> None:
    _with_users(db)
    [tour] = [b for b in _blocks("sql") if "pggit.create_branch" in b]
    done = subprocess.run(["psql", db, "-v", "ON_ERROR_STOP=1", "-X", "-q"], input=tour, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                            "AND table_name = 'users' AND column_name = 'oauth_provider'").fetchone() == (1,)


def test_python_tour_runs(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_users(db)
    [tour] = _blocks("python")
    monkeypatch.chdir(tmp_path)
    exec(compile(tour, "README.md", "exec"), {"dsn": db, "print": lambda *a: None})
    written = sorted(p.name for p in (tmp_path / "db" / "migrations").iterdir())
    assert any(name.endswith("_oauth.up.sql") for name in written), written
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT status FROM pggit.intents").fetchall() == [("merged",)]


def test_shell_tour_runs(db: str, tmp_path: Path) -> None:
    _with_users(db)
    [tour] = [b for b in _blocks("bash") if "pggit coordinate register" in b]
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PGGIT_DSN": db, "PATH": f"{bindir}:{os.environ['PATH']}"}
    assert shutil.which("pggit", path=env["PATH"]), "the pggit console script is not installed"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", tour], env=env, cwd=tmp_path, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "exit 10: an ERROR conflict" in done.stdout
    assert "agent/claude-payments-stripe_integration" in done.stdout
