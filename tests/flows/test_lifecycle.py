"""The agent lifecycle flow end to end under the Prefect test harness: approved, rejected, timed out, refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from prefect.states import State

from flows.agent_lifecycle import LifecycleResult, agent_change_flow
from pggit_core import service
from tasks import database
from tests.flows.conftest import Background, wait_for_paused_run

pytestmark = pytest.mark.flows

BASE_SCHEMA = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)"


def _setup_main(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(BASE_SCHEMA)
        conn.execute("SELECT pggit.commit('base schema', 'test')")


def _intent_row(dsn: str, agent_id: str, feature: str) -> dict[str, Any] | None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT id, status, branch_name, flow_run_id FROM pggit.intents WHERE agent_id = %s AND feature_name = %s"
            " ORDER BY id DESC LIMIT 1", (agent_id, feature)).fetchone()
    if row is None:
        return None
    return {"id": row[0], "status": row[1], "branch_name": row[2], "flow_run_id": row[3]}


def _events(dsn: str, intent_id: int) -> list[tuple[str | None, str, str | None]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT from_status, to_status, reason FROM pggit.intent_events WHERE intent_id = %s "
                            "ORDER BY id", (intent_id,)).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _branch_exists(dsn: str, name: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pggit.branches WHERE name = %s AND status <> 'deleted'",
                           (name,)).fetchone()
    return bool(row and row[0])


def _columns(dsn: str, table: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                            "AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
    return [str(r[0]) for r in rows]


def _start(dsn: str, migrations: Path, feature: str, review_timeout: int = 120) -> Background:
    def run() -> State[Any]:
        state: State[Any] = agent_change_flow(
            agent_id="claude-payments", feature_name=feature,
            schema_changes=["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"],
            risk_level="medium", require_review=True, dsn=dsn, review_timeout=review_timeout,
            migrations_dir=str(migrations), return_state=True)
        return state
    return Background(run).start()


def _paused_run_of(dsn: str, feature: str) -> UUID:
    def run_id() -> UUID | None:
        row = _intent_row(dsn, "claude-payments", feature)
        return UUID(row["flow_run_id"]) if row and row["flow_run_id"] else None
    return wait_for_paused_run(run_id).id


def test_approved_review_merges_and_writes_the_migration(db: str, migrations_dir: Path) -> None:
    _setup_main(db)
    running = _start(db, migrations_dir, "stripe_integration")
    run_id = _paused_run_of(db, "stripe_integration")

    intent = _intent_row(db, "claude-payments", "stripe_integration")
    assert intent is not None and intent["status"] == "pending_review"
    assert "stripe_id" not in _columns(db, "users")  # main untouched while the review waits
    with get_client(sync_client=True) as client:
        paused = client.read_flow_run(run_id)
        assert paused.state is not None and paused.state.is_paused()
        artifacts = client.read_artifacts()
    assert f"intent-{intent['id']}-diff" in {a.key for a in artifacts}
    packet = service.review_packet(db, intent["id"])  # what the pause description and the diff artifact show
    assert [(d.object_key, d.change) for d in packet.diff] == [("table:public.users", "changed")]
    assert any("stripe_id" in f for f in packet.diff[0].fields) and "stripe_id" in packet.diff[0].statement
    assert packet.statements == ("ALTER TABLE users ADD COLUMN stripe_id TEXT",)
    assert paused.state.state_details.pause_key == f"review-intent-{intent['id']}"

    resume_flow_run(run_id, run_input={"approved": True, "comment": "ship it", "reviewer": "ana"})
    state = running.join()
    assert state.is_completed(), state.message
    result = state.result()
    assert isinstance(result, LifecycleResult)
    assert result.outcome == "merged" and result.flow_run_id == str(run_id)
    assert "stripe_id" in _columns(db, "users")

    final = _intent_row(db, "claude-payments", "stripe_integration")
    assert final is not None and final["status"] == "merged" and final["flow_run_id"] == str(run_id)
    assert not _branch_exists(db, final["branch_name"])
    statuses = [to for _, to, _ in _events(db, final["id"])]
    assert statuses[0] == "registered" and statuses[-1] == "merged" and "pending_review" in statuses
    assert any(reason and "ana" in reason and "ship it" in reason for _, _, reason in _events(db, final["id"]))
    assert result.migration_files and all(Path(f).exists() for f in result.migration_files)
    up = next(Path(f) for f in result.migration_files if f.endswith(".up.sql")).read_text()
    assert "stripe_id" in up
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts()}
    assert {f"intent-{final['id']}-merge", f"intent-{final['id']}-migration"} <= keys


def test_rejected_review_abandons_the_intent_and_drops_its_branch(db: str, migrations_dir: Path) -> None:
    _setup_main(db)
    running = _start(db, migrations_dir, "rejected_feature")
    run_id = _paused_run_of(db, "rejected_feature")
    with pytest.raises(Exception, match="approved"):  # the form's schema refuses it; the run stays paused
        resume_flow_run(run_id, run_input={"approved": "perhaps", "comment": "unsure"})
    with get_client(sync_client=True) as client:
        still = client.read_flow_run(run_id)
    assert still.state is not None and still.state.is_paused()
    resume_flow_run(run_id, run_input={"approved": False, "comment": "use a separate table", "reviewer": "bo"})
    state = running.join()
    assert state.is_completed(), state.message
    result = state.result()
    assert result.outcome == "rejected" and result.review_comment == "use a separate table"

    intent = _intent_row(db, "claude-payments", "rejected_feature")
    assert intent is not None and intent["status"] == "abandoned"
    assert not _branch_exists(db, intent["branch_name"])
    assert "stripe_id" not in _columns(db, "users")
    reasons = [reason for _, to, reason in _events(db, intent["id"]) if to == "abandoned"]
    assert reasons and "use a separate table" in (reasons[0] or "")
    assert not migrations_dir.exists() or not any(migrations_dir.glob("*.sql"))


def test_review_timeout_fails_the_run_and_marks_the_intent(db: str, migrations_dir: Path) -> None:
    _setup_main(db)
    state = agent_change_flow(
        agent_id="claude-payments", feature_name="nobody_reviews",
        schema_changes=["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"],
        dsn=db, review_timeout=2, migrations_dir=str(migrations_dir), return_state=True)
    assert state.is_failed()
    intent = _intent_row(db, "claude-payments", "nobody_reviews")
    assert intent is not None and intent["status"] == "abandoned"
    assert not _branch_exists(db, intent["branch_name"])
    assert "stripe_id" not in _columns(db, "users")
    reasons = [reason or "" for _, to, reason in _events(db, intent["id"]) if to == "abandoned"]
    assert "review timed out: no decision within 2 s" in reasons[0]


@pytest.mark.parametrize("bad", [
    {"schema_changes": []},
    {"schema_changes": ["   "]},
    {"risk_level": "extreme"},
    {"agent_id": "claude payments; DROP TABLE users"},
    {"gate_mode": "sometimes"},
    {"review_timeout": 0},
])
def test_invalid_parameters_are_refused_before_anything_is_registered(db: str, bad: dict[str, Any]) -> None:
    params: dict[str, Any] = {"agent_id": "claude-payments", "feature_name": "bad_input",
                              "schema_changes": ["ALTER TABLE users ADD COLUMN x TEXT"], "dsn": db}
    params.update(bad)
    state = agent_change_flow(**params, return_state=True)
    assert state.is_failed()
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pggit.intents").fetchone()
    assert row is not None and row[0] == 0


def test_bad_sql_fails_without_retry_and_abandons_the_intent(db: str, migrations_dir: Path) -> None:
    _setup_main(db)
    state = agent_change_flow(
        agent_id="claude-payments", feature_name="typo",
        schema_changes=["ALTER TABLE users ADD COLUMN note TEXT", "ALTER TABLE userz ADD COLUMN x TEXT"],
        tables_affected=["users"], dsn=db, require_review=False, migrations_dir=str(migrations_dir),
        return_state=True)
    assert state.is_failed()
    intent = _intent_row(db, "claude-payments", "typo")
    assert intent is not None and intent["status"] == "abandoned"
    assert "note" not in _columns(db, "users")
    reasons = [reason or "" for _, to, reason in _events(db, intent["id"]) if to == "abandoned"]
    assert reasons and "InvalidSQL: statement 2 failed" in reasons[0] and "userz" in reasons[0]


def test_a_failure_after_the_merge_leaves_the_intent_merged(db: str, tmp_path: Path) -> None:
    _setup_main(db)
    not_a_folder = tmp_path / "migrations"
    not_a_folder.write_text("a file where the migrations folder should be\n")
    state = agent_change_flow(
        agent_id="claude-payments", feature_name="merged_then_failed",
        schema_changes=["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"],
        dsn=db, require_review=False, migrations_dir=str(not_a_folder), return_state=True)
    assert state.is_failed()
    intent = _intent_row(db, "claude-payments", "merged_then_failed")
    assert intent is not None and intent["status"] == "merged"
    assert "stripe_id" in _columns(db, "users")
    assert not _branch_exists(db, intent["branch_name"])


def test_the_database_can_be_named_by_a_prefect_secret_block(db: str, migrations_dir: Path) -> None:
    from prefect.blocks.system import Secret

    from pggit_core.errors import ConfigError

    _setup_main(db)
    Secret(value=db).save("pggit-test-dsn", overwrite=True)
    result = agent_change_flow(
        agent_id="claude-payments", feature_name="via_block",
        schema_changes=["ALTER TABLE users ADD COLUMN stripe_id TEXT"], tables_affected=["users"],
        dsn="block:pggit-test-dsn", require_review=False, migrations_dir=str(migrations_dir))
    assert result.outcome == "merged"
    assert "stripe_id" in _columns(db, "users")
    with pytest.raises(ConfigError, match="no-such-block"):
        database.resolve_target("block:no-such-block")
