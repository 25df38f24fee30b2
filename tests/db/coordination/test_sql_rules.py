"""Intent status rules, audit trail and table locks in SQL, exercised from plain SQL as the seed does."""

from __future__ import annotations

import psycopg
import pytest


def _intent(conn: psycopg.Connection[tuple[object, ...]], agent: str = "claude-auth",
            branch: str = "agent/claude-auth") -> int:
    row = conn.execute(
        """INSERT INTO pggit.intents (agent_id, feature_name, branch_name, risk_level, schema_changes)
           VALUES (%s, 'oauth', %s, 'medium', ARRAY['ALTER TABLE users ADD COLUMN x TEXT']) RETURNING id""",
        (agent, branch)).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_seed_update_from_psql_is_validated_and_audited(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    intent_id = _intent(conn)
    conn.execute("UPDATE pggit_agent_intents SET status = 'pending_review' WHERE branch_name = 'agent/claude-auth'")
    events = conn.execute("SELECT from_status, to_status, actor FROM pggit.intent_events WHERE intent_id = %s "
                          "ORDER BY id", (intent_id,)).fetchall()
    user = conn.execute("SELECT current_user").fetchone()
    assert user is not None
    assert events == [(None, "registered", user[0]), ("registered", "pending_review", user[0])]


def test_illegal_transition_refused_with_pgg70(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    intent_id = _intent(conn)
    conn.execute("UPDATE pggit.intents SET status = 'completed' WHERE id = %s", (intent_id,))
    conn.execute("UPDATE pggit.intents SET status = 'merged' WHERE id = %s", (intent_id,))
    with pytest.raises(psycopg.Error) as info:
        conn.execute("UPDATE pggit.intents SET status = 'in_progress' WHERE id = %s", (intent_id,))
    assert info.value.sqlstate == "PGG70"
    assert "merged is final" in (info.value.diag.message_hint or "")
    row = conn.execute("SELECT status, merged_at IS NOT NULL FROM pggit.intents WHERE id = %s",
                       (intent_id,)).fetchone()
    assert row == ("merged", True)


def test_reason_from_transaction_setting(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    intent_id = _intent(conn)
    with conn.transaction():
        conn.execute("SELECT set_config('pggit.reason', 'starting work', true)")
        conn.execute("UPDATE pggit.intents SET status = 'in_progress' WHERE id = %s", (intent_id,))
    row = conn.execute("SELECT reason FROM pggit.intent_events WHERE intent_id = %s AND to_status = 'in_progress'",
                       (intent_id,)).fetchone()
    assert row == ("starting work",)


def test_unknown_status_refused(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    intent_id = _intent(conn)
    with pytest.raises(psycopg.Error) as info:
        conn.execute("UPDATE pggit.intents SET status = 'conflict' WHERE id = %s", (intent_id,))
    assert info.value.sqlstate == "PGG61"


def test_seed_lock_strategy_from_sql(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    first = conn.execute("""INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
                            VALUES ('claude-123', 'users', NOW())
                            ON CONFLICT (table_name) DO NOTHING
                            RETURNING *""").fetchall()
    assert len(first) == 1 and first[0][0] == "claude-123"
    second = conn.execute("""INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
                             VALUES ('gpt-7', 'users', NOW())
                             ON CONFLICT (table_name) DO NOTHING
                             RETURNING *""").fetchall()
    assert second == []
    conn.execute("DELETE FROM pggit_table_locks WHERE agent_id = 'claude-123'")
    third = conn.execute("""INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
                            VALUES ('gpt-7', 'users', NOW())
                            ON CONFLICT (table_name) DO NOTHING RETURNING agent_id""").fetchall()
    assert third == [("gpt-7",)]


def test_expired_lock_does_not_block(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("INSERT INTO pggit.table_locks (agent_id, table_name, locked_at, expires_at) "
                 "VALUES ('old', 'users', now() - interval '2 hours', now() - interval '1 hour')")
    taken = conn.execute("""INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
                            VALUES ('new', 'users', NOW())
                            ON CONFLICT (table_name) DO NOTHING RETURNING agent_id""").fetchall()
    assert taken == [("new",)]


def test_seed_partitions_insert_and_monitoring_queries(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("""INSERT INTO pggit_agent_partitions VALUES
      ('auth-agent', ARRAY['users', 'sessions', 'oauth_tokens'], ARRAY['auth']),
      ('search-agent', ARRAY['search_index', 'search_logs'], ARRAY['search']),
      ('analytics-agent', ARRAY['events', 'metrics'], ARRAY['analytics'])""")
    _intent(conn)
    dashboard = conn.execute("""
        SELECT agent_id, branch_name, intent, tables_affected, status, started_at, completed_at,
               EXTRACT(EPOCH FROM (COALESCE(completed_at, NOW()) - started_at)) as duration_seconds
        FROM pggit_agent_intents ORDER BY started_at DESC LIMIT 20""").fetchall()
    assert dashboard[0][0] == "claude-auth"
    conn.execute("""
        SELECT DATE(created_at) as date, COUNT(*) as total_merges,
               COUNT(*) FILTER (WHERE had_conflicts) as conflicts,
               ROUND(100.0 * COUNT(*) FILTER (WHERE had_conflicts) / COUNT(*), 2) as conflict_rate
        FROM pggit_merge_history GROUP BY DATE(created_at) ORDER BY date DESC""").fetchall()
    perf = conn.execute("""
        SELECT agent_id, COUNT(*) as total_branches,
               COUNT(*) FILTER (WHERE status = 'merged') as successful,
               COUNT(*) FILTER (WHERE status = 'conflict') as conflicts
        FROM pggit_agent_intents GROUP BY agent_id ORDER BY conflicts DESC""").fetchall()
    assert perf == [("claude-auth", 1, 0, 0)]
