"""`pggit coordinate` as agents use it: the seed's CLI commands and CI shell script (with jq), run by bash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

BIN = Path(sys.executable).parent


def _env(dsn: str) -> dict[str, str]:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    env = dict(os.environ, PGGIT_DSN=dsn, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.update({"PGHOST": str(info.get("host", "")), "PGPORT": str(info.get("port", "")),
                "PGUSER": str(info.get("user", "")), "PGDATABASE": str(info.get("dbname", "")),
                "PGPASSWORD": str(info.get("password", "") or "")})
    return env


def _bash(script: str, dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=_env(dsn), timeout=300)


def _pggit(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "pggit"), "coordinate", *args], capture_output=True, text=True,
                          env=_env(dsn), timeout=120)


@pytest.fixture
def users_db(db: str) -> str:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL)")
    return db


SEED_PATTERN_2 = """
set -e
# Agent A registers intent
pggit coordinate register \\
    --agent-id claude-auth \\
    --feature-name oauth_support \\
    --schema-changes "ALTER TABLE users ADD COLUMN oauth_provider TEXT" \\
    --tables-affected users

# Agent B registers intent - pggit immediately warns about conflict
pggit coordinate register \\
    --agent-id local-llm-search \\
    --feature-name search_prefs \\
    --schema-changes "ALTER TABLE users ADD COLUMN search_preferences JSONB" \\
    --tables-affected users

# After coordination, resolve the conflict
pggit coordinate resolve \\
    --conflict-id 1 \\
    --notes "Agreed to apply sequentially: auth first, then search"
"""


def test_seed_pattern_2_cli(users_db: str) -> None:
    result = _bash(SEED_PATTERN_2, users_db)
    assert result.returncode == 0, result.stderr
    expected = ("⚠️ WARNING: TABLE conflict detected\n"
                "  Affected: users\n"
                "  Conflicting intent: claude-auth (oauth_support)\n"
                "  Suggestion: Coordinate with claude-auth agent, consider sequential application\n")
    assert expected in result.stdout
    assert "Conflict 1 resolved" in result.stdout
    listed = json.loads(_pggit(users_db, "conflicts", "--format", "json").stdout)
    assert listed == []
    everything = json.loads(_pggit(users_db, "conflicts", "--all", "--format", "json").stdout)
    assert everything[0]["reviewed"] is True
    assert everything[0]["resolution_notes"] == "Agreed to apply sequentially: auth first, then search"


SEED_CLI_BASED = """
# Register agent intent (auto-creates pgGit branch)
pggit coordinate register \\
    --agent-id claude-payments \\
    --feature-name stripe_integration \\
    --schema-changes "ALTER TABLE users ADD COLUMN stripe_id TEXT" \\
    --tables-affected users \\
    --risk-level medium
echo "exit=$?"

# Pre-flight conflict check (before registering)
pggit coordinate check \\
    --agent-id claude-auth \\
    --feature-name oauth2 \\
    --schema-changes "ALTER TABLE users ADD COLUMN oauth_provider TEXT" \\
    --tables-affected users
echo "exit=$?"

# List all active intents
pggit coordinate list-intents --status-filter in_progress
echo "exit=$?"

# View conflicts for an intent
pggit coordinate conflicts --format json
echo "exit=$?"

# Resolve a conflict
pggit coordinate resolve \\
    --conflict-id 42 \\
    --notes "Coordinated with team: applying sequentially"
echo "exit=$?"
"""


def test_seed_cli_based_coordination(users_db: str) -> None:
    result = _bash(SEED_CLI_BASED, users_db)
    exits = [line for line in result.stdout.splitlines() if line.startswith("exit=")]
    assert exits == ["exit=0", "exit=0", "exit=0", "exit=0", "exit=5"], result.stdout + result.stderr
    assert "Pre-flight for claude-auth (oauth2): nothing recorded" in result.stdout
    assert "⚠️ WARNING: TABLE conflict detected" in result.stdout
    assert "conflict 42 does not exist" in result.stderr
    with psycopg.connect(users_db) as conn:
        assert conn.execute("SELECT agent_id, branch_name FROM pggit.intents").fetchall() == [
            ("claude-payments", "agent/claude-payments-stripe_integration")]


SEED_CI_SCRIPT = """#!/bin/bash
# ci-agent-merge.sh

# List completed intents
INTENTS=$(pggit coordinate list-intents --status-filter completed --format json | jq -r '.[].id')

for intent_id in $INTENTS; do
    echo "Processing intent $intent_id..."

    # Check for unresolved conflicts
    CONFLICTS=$(pggit coordinate conflicts --intent-id $intent_id --format json | jq 'length')
    if [ "$CONFLICTS" -gt 0 ]; then
        echo "  Skipping: unresolved conflicts"
        continue
    fi

    # Get branch name and merge
    BRANCH=$(pggit coordinate status --intent-id $intent_id --format json | jq -r '.branch_name')
    psql -c "SELECT pggit.checkout('main'); SELECT pggit.merge('$BRANCH', 'main');"

    # Mark as merged
    pggit coordinate mark-merged --intent-id $intent_id
done
"""


def test_seed_ci_script_with_jq(users_db: str) -> None:
    assert shutil.which("jq"), "jq is required (scripts/setup.sh installs it)"
    assert shutil.which("psql"), "psql is required"
    env_dsn = users_db

    def register(agent: str, feature: str, change: str, table: str) -> int:
        out = _pggit(env_dsn, "register", "--agent-id", agent, "--feature-name", feature,
                     "--schema-changes", change, "--tables-affected", table, "--format", "json")
        assert out.returncode in (0, 10), out.stderr
        return int(json.loads(out.stdout)["id"])

    clean = register("claude-auth", "oauth_support", "ALTER TABLE users ADD COLUMN oauth_provider TEXT", "users")
    blocked = register("gpt-billing", "billing", "CREATE TABLE invoices (id int)", "invoices")
    other = register("gpt-invoices", "invoice_owner", "CREATE TABLE invoices (id bigint, total numeric)", "invoices")
    with psycopg.connect(env_dsn, autocommit=True) as conn:
        for intent_id, ddl in ((clean, "ALTER TABLE users ADD COLUMN oauth_provider TEXT"),
                               (blocked, "CREATE TABLE invoices (id int)")):
            branch = conn.execute("SELECT branch_name FROM pggit.intents WHERE id = %s", (intent_id,)).fetchone()
            assert branch is not None
            conn.execute("SELECT pggit.checkout(%s)", (branch[0],))
            conn.execute(ddl)
            conn.execute("SELECT pggit.commit('agent work')")
            conn.execute("SELECT pggit.checkout('main')")
    for intent_id in (clean, blocked):
        assert _pggit(env_dsn, "mark-in-progress", "--intent-id", str(intent_id)).returncode == 0
        assert _pggit(env_dsn, "mark-completed", "--intent-id", str(intent_id)).returncode == 0

    result = _bash(SEED_CI_SCRIPT, env_dsn)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Processing intent {clean}..." in result.stdout
    assert f"Processing intent {blocked}...\n  Skipping: unresolved conflicts" in result.stdout
    with psycopg.connect(env_dsn) as conn:
        statuses = dict(conn.execute("SELECT id, status FROM pggit.intents").fetchall())
        assert statuses == {clean: "merged", blocked: "completed", other: "registered"}, result.stdout
        merged = conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                              "AND table_name = 'users' AND column_name = 'oauth_provider'").fetchone()
        assert merged == (1,), result.stdout + result.stderr


def test_exit_codes_and_json_errors(users_db: str) -> None:
    ok = _pggit(users_db, "register", "--agent-id", "a", "--feature-name", "f", "--schema-changes",
                "ALTER TABLE users ADD COLUMN x int", "--tables-affected", "users", "--no-branch")
    assert ok.returncode == 0
    blocked = _pggit(users_db, "register", "--agent-id", "b", "--feature-name", "f", "--schema-changes",
                     "ALTER TABLE users DROP COLUMN x", "--tables-affected", "users", "--no-branch",
                     "--format", "json")
    assert blocked.returncode == 10
    body = json.loads(blocked.stdout)
    assert [c["conflict_type"] for c in body["conflicts"]] == ["COLUMN"]
    check = _pggit(users_db, "check", "--agent-id", "c", "--feature-name", "f", "--schema-changes",
                   "ALTER TABLE users ALTER COLUMN x TYPE bigint", "--format", "json")
    assert check.returncode == 10 and json.loads(check.stdout)["conflicts"]
    bad_sql = _pggit(users_db, "register", "--agent-id", "c", "--feature-name", "g", "--schema-changes",
                     "ALTER TABLE users ADD COLUMN")
    assert bad_sql.returncode == 2 and "does not parse" in bad_sql.stderr
    bad_risk = _pggit(users_db, "check", "--agent-id", "c", "--feature-name", "g", "--schema-changes",
                      "ALTER TABLE users ADD COLUMN y int", "--risk-level", "extreme")
    assert bad_risk.returncode == 2 and "not a risk level" in bad_risk.stderr
    dup = _pggit(users_db, "register", "--agent-id", "a", "--feature-name", "f", "--schema-changes",
                 "ALTER TABLE users ADD COLUMN z int", "--no-branch")
    assert dup.returncode == 5 and "already has a live intent" in dup.stderr
    illegal = _pggit(users_db, "mark-merged", "--intent-id", "1")
    assert illegal.returncode == 5 and "cannot go from registered to merged" in illegal.stderr
    status = json.loads(_pggit(users_db, "status", "--intent-id", "1", "--format", "json").stdout)
    assert status["branch_name"] == "agent/a-f" and status["history"][0]["to_status"] == "registered"


def test_lock_unlock_and_dashboard(users_db: str) -> None:
    got = _pggit(users_db, "lock", "--table", "users", "--agent-id", "claude-123", "--ttl", "30m", "--format",
                 "json")
    assert got.returncode == 0 and json.loads(got.stdout)["acquired"] is True
    held = _pggit(users_db, "lock", "--table", "users", "--agent-id", "gpt-7")
    assert held.returncode == 10 and "locked by claude-123" in held.stdout
    reg = _pggit(users_db, "register", "--agent-id", "gpt-7", "--feature-name", "f", "--schema-changes",
                 "ALTER TABLE users ADD COLUMN x int", "--no-branch")
    assert reg.returncode == 10 and "❌ ERROR: LOCK conflict detected" in reg.stdout
    assert "Conflicting intent: lock held by claude-123" in reg.stdout
    assert _pggit(users_db, "unlock", "--table", "users", "--agent-id", "claude-123").returncode == 0
    assert json.loads(_pggit(users_db, "locks", "--format", "json").stdout) == []
    dash = _pggit(users_db, "dashboard", "--format", "json")
    assert dash.returncode == 0
    data = json.loads(dash.stdout)
    assert set(data) == {"activity", "conflict_rate", "agent_performance", "open_conflicts", "locks"}
    assert data["activity"][0]["agent_id"] == "gpt-7"
    assert _pggit(users_db, "dashboard").returncode == 0
    bad_ttl = _pggit(users_db, "lock", "--table", "users", "--agent-id", "x", "--ttl", "soon")
    assert bad_ttl.returncode == 2


SEED_FROM_PSQL = """
set -e
psql -v ON_ERROR_STOP=1 -q -c "
-- Agent acquires lock
INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
VALUES ('claude-123', 'users', NOW())
ON CONFLICT (table_name) DO NOTHING
RETURNING *;"
psql -v ON_ERROR_STOP=1 -q -At -c "
INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
VALUES ('gpt-9', 'users', NOW())
ON CONFLICT (table_name) DO NOTHING
RETURNING *;" > second.txt
pggit coordinate register --agent-id claude-auth --feature-name oauth --no-branch \\
    --schema-changes "ALTER TABLE users ADD COLUMN oauth_provider TEXT" --tables-affected users \
    || echo "register=$?"
psql -v ON_ERROR_STOP=1 -q -c "
-- Mark for review (don't merge yet)
UPDATE pggit_agent_intents
SET status = 'pending_review'
WHERE branch_name = 'agent/claude-auth-oauth';"
psql -v ON_ERROR_STOP=1 -q -c "UPDATE pggit_agent_intents SET status = 'registered' WHERE id = 1;" \\
    2> illegal.txt || echo "refused=$?"
psql -v ON_ERROR_STOP=1 -q -c "
-- Agent releases lock when done
DELETE FROM pggit_table_locks WHERE agent_id = 'claude-123';"
"""


def test_seed_sql_from_psql(users_db: str, tmp_path: Path) -> None:
    result = subprocess.run(["bash", "-c", SEED_FROM_PSQL], capture_output=True, text=True, env=_env(users_db),
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "claude-123" in result.stdout and (tmp_path / "second.txt").read_text() == ""
    assert "refused=" in result.stdout
    assert "register=10" in result.stdout and "Conflicting intent: lock held by claude-123" in result.stdout
    assert "cannot go from pending_review to registered" in (tmp_path / "illegal.txt").read_text()
    with psycopg.connect(users_db) as conn:
        assert conn.execute("SELECT from_status, to_status FROM pggit.intent_events ORDER BY id").fetchall() == [
            (None, "registered"), ("registered", "pending_review")]
        assert conn.execute("SELECT count(*) FROM pggit.table_locks").fetchone() == (0,)
