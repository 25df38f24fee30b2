"""32 processes register overlapping intents at the same instant: every pair must see each other (no lost
conflict), exactly once, and nobody deadlocks."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

WORKER = r"""
import os, sys, time
import psycopg
from pggit_core.coordination import IntentRegistry
dsn, index, go, branches = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
conn = psycopg.connect(dsn, autocommit=True)
registry = IntentRegistry(conn, create_branches=branches, dry_run=False)
column = f"c{index % 8}"
from pggit_core.footprint import build
build(["ALTER TABLE warm_up ADD COLUMN x int"])  # a long-lived agent has its parser warm
conn.execute("SELECT 1")
open(go + f".ready{index}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
intent = registry.register(agent_id=f"agent-{index}", feature_name="f",
                           schema_changes=[f"ALTER TABLE users ADD COLUMN {column} int"],
                           tables_affected=["users"])
print(intent.id)
"""


def _run(db: str, tmp_path: Path, count: int, branches: bool) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.users (id int)")
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db, str(i), str(go), "1" if branches else "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(count)]
    # release every worker together once all have imported and connected
    deadline = time.monotonic() + 300
    while len(list(go.parent.glob(go.name + ".ready*"))) < len(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.write_text("go")
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    with psycopg.connect(db) as conn:
        intents = dict(conn.execute("SELECT id, agent_id FROM pggit.intents").fetchall())
        rows = conn.execute("SELECT intent_id, other_intent_id, conflict_type, severity "
                            "FROM pggit.intent_conflicts").fetchall()
    assert len(intents) == count
    seen: dict[frozenset[object], list[tuple[object, object]]] = {}
    for intent_id, other_id, ctype, severity in rows:
        assert intent_id > other_id  # recorded by the later registration, against the earlier one
        seen.setdefault(frozenset((intent_id, other_id)), []).append((ctype, severity))
    for a, b in itertools.combinations(intents, 2):
        same_column = int(str(intents[a]).split("-")[1]) % 8 == int(str(intents[b]).split("-")[1]) % 8
        expected = [("COLUMN", "ERROR")] if same_column else [("TABLE", "WARNING")]
        assert seen.get(frozenset((a, b))) == expected, (intents[a], intents[b])
    assert len(rows) == count * (count - 1) // 2


def test_32_concurrent_registrations_lose_no_conflict(db: str, tmp_path: Path) -> None:
    _run(db, tmp_path, 32, branches=False)


@pytest.mark.parametrize("count", [8])
def test_concurrent_registrations_with_branches(db: str, tmp_path: Path, count: int) -> None:
    _run(db, tmp_path, count, branches=True)
