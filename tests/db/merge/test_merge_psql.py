"""The seed's merge patterns run as written through psql (a subprocess): Pattern 1 (two independent
branches merge cleanly), Pattern 3 (review with diff and log, then merge), the CI script's one-line
merge, human-in-the-loop resolution and the conflict-rate query."""

from __future__ import annotations

import subprocess

import psycopg

PSQL = "/usr/bin/psql"

# `pggit init` sets the database's search_path (public, pggit); a database cloned from the test template
# does not inherit that setting, so the setup does what init does.
SETUP = """\
SELECT pggit._set_database_search_path();
CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT NOT NULL);
SELECT pggit.create_branch('agent/claude-auth');
SELECT pggit.create_branch('agent/local-llm-search');
"""

PATTERN_1 = """\
-- Agent A: Authentication (users, oauth_tokens)
SELECT pggit.checkout('agent/claude-auth');
ALTER TABLE users ADD COLUMN oauth_provider TEXT;
CREATE TABLE oauth_tokens (id SERIAL, user_id INT, token TEXT);

-- Agent B: Search (search_index, search_logs) - no overlap
SELECT pggit.checkout('agent/local-llm-search');
CREATE TABLE search_index (id SERIAL, content TSVECTOR);
CREATE TABLE search_logs (id SERIAL, query TEXT, results INT);

-- Both can merge independently
SELECT pggit.checkout('main');
SELECT pggit.merge('agent/claude-auth', 'main');
SELECT pggit.merge('agent/local-llm-search', 'main');
"""

PATTERN_3 = """\
-- Agent completes work
SELECT pggit.checkout('agent/claude-auth');
-- ... makes changes ...
ALTER TABLE users ADD COLUMN oauth_provider TEXT;

-- Mark for review (don't merge yet)
UPDATE pggit_agent_intents
SET status = 'pending_review'
WHERE branch_name = 'agent/claude-auth';

-- Human reviews
SELECT * FROM pggit.diff('main', 'agent/claude-auth');
SELECT * FROM pggit.log('agent/claude-auth');

-- Human approves and merges
SELECT pggit.checkout('main');
SELECT pggit.merge('agent/claude-auth', 'main');
"""

CONFLICT_RATE = """\
SELECT
    DATE(created_at) as date,
    COUNT(*) as total_merges,
    COUNT(*) FILTER (WHERE had_conflicts) as conflicts,
    ROUND(100.0 * COUNT(*) FILTER (WHERE had_conflicts) / COUNT(*), 2) as conflict_rate
FROM pggit_merge_history
GROUP BY DATE(created_at)
ORDER BY date DESC;
"""


def psql(dsn: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-d", dsn, *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def columns(conn: psycopg.Connection[tuple[object, ...]], table: str) -> set[str]:
    rows = conn.execute("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s)"
                        " AND a.attnum > 0 AND NOT a.attisdropped", (f"public.{table}",)).fetchall()
    return {str(r[0]) for r in rows}


def test_pattern_1_independent_features(db: str) -> None:
    psql(db, "-f", "-", stdin=SETUP)
    done = psql(db, "-f", "-", stdin=PATTERN_1)
    assert done.stdout.count('"result": "merged"') == 2
    with psycopg.connect(db, autocommit=True) as conn:
        assert "oauth_provider" in columns(conn, "users")
        for table in ("oauth_tokens", "search_index", "search_logs"):
            assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone() == (True,)
        history = conn.execute("SELECT source_branch, result FROM pggit_merge_history ORDER BY id").fetchall()
        assert history == [("agent/claude-auth", "merged"), ("agent/local-llm-search", "merged")]
    rate = psql(db, "-A", "-t", "-F", "|", "-c", CONFLICT_RATE)
    assert rate.stdout.strip().split("|")[1:] == ["2", "0", "0.00"]


def test_pattern_3_review_then_merge(db: str) -> None:
    psql(db, "-f", "-", stdin=SETUP)
    done = psql(db, "-f", "-", stdin=PATTERN_3)
    assert "table:public.users" in done.stdout  # the diff row
    assert "ALTER TABLE users ADD COLUMN oauth_provider TEXT" in done.stdout  # the log's statements
    assert '"result": "merged"' in done.stdout
    with psycopg.connect(db, autocommit=True) as conn:
        assert "oauth_provider" in columns(conn, "users")
    # the CI script's one-line merge: nothing left to merge
    again = psql(db, "-c", "SELECT pggit.checkout('main'); SELECT pggit.merge('agent/claude-auth', 'main');")
    assert '"result": "noop"' in again.stdout


def test_human_in_the_loop_resolution(db: str) -> None:
    psql(db, "-f", "-", stdin=SETUP)
    psql(db, "-f", "-", stdin="""\
SELECT pggit.checkout('agent/claude-auth');
ALTER TABLE users ALTER COLUMN email TYPE varchar(320);
SELECT pggit.checkout('main');
ALTER TABLE users ALTER COLUMN email TYPE varchar(100);
SELECT pggit.merge('agent/claude-auth', 'main', auto_resolve => true);
""")
    listed = psql(db, "-A", "-F", "|", "-c", "SELECT * FROM pggit.conflicts WHERE resolved = false;")
    header = listed.stdout.splitlines()[0].split("|")
    assert {"branch_a_sql", "branch_b_sql", "resolved"} <= set(header)
    row = dict(zip(header, listed.stdout.splitlines()[1].split("|"), strict=False))
    assert row["conflict_type"] == "COLUMN"
    psql(db, "-c", f"""SELECT pggit.resolve_conflict(
    conflict_id => {row['id']},
    resolution => 'custom',
    custom_sql => 'ALTER TABLE users ALTER COLUMN email TYPE varchar(500)'
);""")
    done = psql(db, "-c", "SELECT pggit.merge('agent/claude-auth', 'main');")
    assert '"result": "merged"' in done.stdout
    rate = psql(db, "-A", "-t", "-F", "|", "-c", CONFLICT_RATE)
    assert rate.stdout.strip().split("|")[1:] == ["2", "2", "100.00"]
