"""The conflict gate (wait for an earlier intent to merge, or fail fast) and a merge that stops on conflicts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prefect.states import State

from flows.agent_lifecycle import agent_change_flow
from pggit_core import service
from tests.flows.conftest import Background

pytestmark = pytest.mark.flows

CREATE_ORDERS = "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint)"
INDEX_ORDERS = "CREATE INDEX idx_orders_user ON orders (user_id)"


def _indexes(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {str(r[0]) for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}


def _status_of(dsn: str, agent_id: str) -> str | None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM pggit.intents WHERE agent_id = %s ORDER BY id DESC LIMIT 1",
                           (agent_id,)).fetchone()
    return None if row is None else str(row[0])


def test_the_gate_waits_for_the_earlier_intent_then_works_on_the_new_main(db: str, migrations_dir: Path) -> None:
    architect = service.register_intent(db, "claude-architecture", "orders", [CREATE_ORDERS], ["orders"],
                                        "high").intent

    def run() -> State[Any]:
        state: State[Any] = agent_change_flow(
            agent_id="local-llm-indexes", feature_name="orders_index", schema_changes=[INDEX_ORDERS],
            tables_affected=["orders"], require_review=False, dsn=db, gate_mode="wait", gate_timeout=120,
            migrations_dir=str(migrations_dir), return_state=True)
        return state
    indexer = Background(run).start()

    deadline = time.monotonic() + 60
    while _status_of(db, "local-llm-indexes") != "registered" and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    assert _status_of(db, "local-llm-indexes") == "registered"  # held at the gate

    service.start_work(db, architect.id)
    service.apply_changes(db, architect.id, [CREATE_ORDERS], "architecture")
    assert service.merge_intent(db, architect.id, auto_resolve=False).merged
    service.finish_intent(db, architect.id)

    state = indexer.join()
    assert state.is_completed(), state.message
    assert _status_of(db, "local-llm-indexes") == "merged"
    assert "idx_orders_user" in _indexes(db)


def test_two_new_columns_on_one_table_do_not_wait_for_each_other(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")
    first = service.register_intent(db, "claude-auth", "oauth", ["ALTER TABLE users ADD COLUMN oauth TEXT"],
                                    ["users"], "medium").intent
    service.start_work(db, first.id)
    second = service.register_intent(db, "local-llm", "prefs", ["ALTER TABLE users ADD COLUMN prefs JSONB"],
                                     ["users"], "low")
    assert second.conflicts and {c.severity for c in second.conflicts} == {"WARNING"}
    assert service.gate(db, second.intent.id).clear


def test_fail_fast_refuses_to_start_behind_an_earlier_intent(db: str, migrations_dir: Path) -> None:
    service.register_intent(db, "claude-architecture", "orders", [CREATE_ORDERS], ["orders"], "high")
    state = agent_change_flow(
        agent_id="local-llm-indexes", feature_name="orders_index", schema_changes=[INDEX_ORDERS],
        tables_affected=["orders"], require_review=False, dsn=db, gate_mode="fail_fast",
        migrations_dir=str(migrations_dir), return_state=True)
    assert state.is_failed()
    assert _status_of(db, "local-llm-indexes") == "abandoned"
    assert _status_of(db, "claude-architecture") == "registered"


def test_merge_conflicts_mark_the_intent_conflicted_and_keep_main(db: str, migrations_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("PGGIT_LLM_SECRET_BLOCK", raising=False)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
        conn.execute("SELECT pggit.commit('base', 'test')")
    registration = service.register_intent(db, "gpt-email", "email_length",
                                           ["ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"], ["users"],
                                           "medium")
    service.start_work(db, registration.intent.id)  # the branch is made now; main changes after it
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
        conn.execute("SELECT pggit.commit('hotfix on main', 'test')")
    service.apply_changes(db, registration.intent.id, ["ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"],
                          "gpt-email: email_length")
    preview = service.preview_merge(db, registration.intent.id, auto_resolve=False)
    assert preview.conflicts and not preview.merged
    outcome = service.resolve_with_llm(db, registration.intent.id, "anthropic")
    assert outcome.unavailable_reason and not outcome.applied
    assert set(outcome.awaiting_human) == {c.id for c in preview.conflicts}
    packet = service.review_packet(db, registration.intent.id)
    assert {c.object_key for c in packet.merge_conflicts} == {c.object_key for c in preview.conflicts}

    merged = service.merge_intent(db, registration.intent.id, auto_resolve=False)
    assert not merged.merged and merged.conflicts
    with psycopg.connect(db, autocommit=True) as conn:
        length = conn.execute("SELECT character_maximum_length FROM information_schema.columns "
                              "WHERE table_name = 'users' AND column_name = 'email'").fetchone()
    assert length == (100,)


def test_an_approved_change_that_conflicts_at_merge_fails_the_run_and_stays_conflicted(
        db: str, migrations_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from uuid import UUID

    from prefect.flow_runs import resume_flow_run

    from tests.flows.conftest import wait_for_paused_run

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
        conn.execute("SELECT pggit.commit('base', 'test')")

    def run() -> State[Any]:
        state: State[Any] = agent_change_flow(
            agent_id="gpt-email", feature_name="email_length",
            schema_changes=["ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"], tables_affected=["users"],
            resolver="anthropic", require_review=True, dsn=db, migrations_dir=str(migrations_dir),
            return_state=True)
        return state
    running = Background(run).start()

    def run_id() -> UUID | None:
        with psycopg.connect(db, autocommit=True) as conn:
            row = conn.execute("SELECT flow_run_id FROM pggit.intents WHERE agent_id = 'gpt-email'").fetchone()
        return UUID(str(row[0])) if row and row[0] else None
    paused = wait_for_paused_run(run_id)
    with psycopg.connect(db, autocommit=True) as conn:  # main changes the same column during the review
        conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
        conn.execute("SELECT pggit.commit('hotfix on main', 'test')")
    resume_flow_run(paused.id, run_input={"approved": True, "comment": "ok", "reviewer": "ana"})
    state = running.join()
    assert state.is_failed()
    assert _status_of(db, "gpt-email") == "conflicted"
    with psycopg.connect(db, autocommit=True) as conn:
        open_conflicts = conn.execute("SELECT count(*) FROM pggit.conflicts WHERE NOT resolved").fetchone()
        branch = conn.execute("SELECT count(*) FROM pggit.branches b JOIN pggit.intents i ON i.branch_name = b.name "
                              "WHERE i.agent_id = 'gpt-email' AND b.status <> 'deleted'").fetchone()
    assert open_conflicts is not None and open_conflicts[0] >= 1
    assert branch == (1,)  # kept for resolution
