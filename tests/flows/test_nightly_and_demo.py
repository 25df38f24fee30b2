"""The nightly merge (three completed intents, one conflicting) and the coordinator demo, under the harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from prefect.client.orchestration import get_client
from psycopg import sql

from flows.coordinator import coordinator
from flows.nightly_merge import NIGHTLY_SUMMARY_KEY, nightly_merge
from pggit_core import intents, service
from pggit_core.coordination import IntentRegistry

pytestmark = pytest.mark.flows


def _status(dsn: str, intent_id: int) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM pggit.intents WHERE id = %s", (intent_id,)).fetchone()
    assert row is not None
    return str(row[0])


def _finish_work(dsn: str, agent: str, feature: str, statements: list[str], tables: list[str]) -> int:
    reg = service.register_intent(dsn, agent, feature, statements, tables, "low")
    service.start_work(dsn, reg.intent.id)
    service.apply_changes(dsn, reg.intent.id, statements, f"{agent}: {feature}")
    return reg.intent.id


def test_nightly_merge_merges_two_and_marks_the_conflicting_one(db: str, migrations_dir: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
        conn.execute("SELECT pggit.commit('base schema', 'test')")
    phone = _finish_work(db, "claude-auth", "phone", ["ALTER TABLE users ADD COLUMN phone TEXT"], ["users"])
    orders = _finish_work(db, "local-llm", "orders",
                          ["CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users)"],
                          ["orders", "users"])
    email = _finish_work(db, "gpt-email", "email_length",
                         ["ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"], ["users"])
    for intent_id in (phone, orders, email):
        service.acknowledge_conflicts(db, intent_id, "reviewed by the test: merge them in the nightly run")
    audit = service.register_intent(db, "agent-x", "audit", ["ALTER TABLE users ADD COLUMN audit TEXT"], ["users"],
                                    "low").intent
    service.start_work(db, audit.id)  # still working: live, not completed
    notes = _finish_work(db, "agent-y", "notes", ["ALTER TABLE users ADD COLUMN notes TEXT"], ["users"])
    with psycopg.connect(db, autocommit=True) as conn:  # main changes the same column meanwhile
        conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(100)")
        conn.execute("SELECT pggit.commit('hotfix on main', 'test')")

    result = nightly_merge(dsn=db, migrations_dir=str(migrations_dir), migration_name="nightly_test")

    outcomes = {e.intent_id: e.outcome for e in result.entries}
    assert outcomes == {phone: "merged", orders: "merged", email: "conflicted", notes: "skipped"}
    assert _status(db, notes) == "completed" and _status(db, audit.id) == "in_progress"
    assert _status(db, phone) == "merged" and _status(db, orders) == "merged"
    assert _status(db, email) == "conflicted"
    with psycopg.connect(db, autocommit=True) as conn:
        branches = {str(r[0]) for r in conn.execute(
            "SELECT name FROM pggit.branches WHERE status <> 'deleted'").fetchall()}
        email_type = conn.execute("SELECT data_type, character_maximum_length FROM information_schema.columns "
                                  "WHERE table_name = 'users' AND column_name = 'email'").fetchone()
    assert branches == {"main", service.get_intent(db, email).branch_name, audit.branch_name,
                        service.get_intent(db, notes).branch_name}
    assert email_type == ("character varying", 100)
    ups = [Path(f) for f in result.migration_files if f.endswith(".up.sql")]
    assert len(ups) == 1
    up = ups[0].read_text()
    assert "phone" in up and "orders" in up and "320" not in up and "notes" not in up
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts()}
    assert NIGHTLY_SUMMARY_KEY in keys


@pytest.fixture
def demo_database(admin_dsn: str) -> Iterator[str]:
    name = f"pggit_demo_t{os.getpid()}"
    yield name
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_coordinator_demo_runs_the_seed_scenario(admin_dsn: str, demo_database: str, migrations_dir: Path) -> None:
    result = coordinator(dsn=admin_dsn, database=demo_database, migrations_dir=str(migrations_dir))

    assert [i.status for i in result.intents] == ["merged", "merged"]
    assert [i.agent_id for i in result.intents] == ["claude-architecture", "local-llm-indexes"]
    assert result.conflicts_resolved, "the index intent overlaps the architecture intent on users/sessions"
    assert len(result.merge_ids) == 2 and result.merge_ids[0] < result.merge_ids[1]
    assert result.migration is not None
    up = next(Path(f) for f in result.migration.files if f.endswith(".up.sql")).read_text()
    assert "CREATE TABLE" in up and "idx_users_email" in up and "idx_sessions_user" in up
    assert up.index("CREATE TABLE") < up.index("idx_users_email")
    with psycopg.connect(result.dsn, autocommit=True) as conn:
        tables = {str(r[0]) for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
        indexes = {str(r[0]) for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}
        live_branches = conn.execute("SELECT count(*) FROM pggit.branches WHERE status <> 'deleted'").fetchone()
    assert {"users", "sessions", "oauth_tokens"} <= tables
    assert {"idx_users_email", "idx_sessions_user"} <= indexes
    assert live_branches is not None and live_branches[0] == 1  # only main is left


def test_coordinator_demo_runs_again_into_its_own_folder(admin_dsn: str, demo_database: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's main command is run more than once: each run recreates the demo database and the
    demo's own migrations folder, so the second run succeeds as the first did."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / ".pggit" / "demo" / demo_database / "migrations"
    for _ in range(2):
        result = coordinator(dsn=admin_dsn, database=demo_database)
        assert result.migration is not None
        written = [Path(f) for f in result.migration.files if f.endswith(".sql")]
        assert written and all(f.parent == folder for f in written)
        assert len(list(folder.glob("*.up.sql"))) == 1


def test_dependency_order_puts_the_creator_first(db: str) -> None:
    index = service.register_intent(db, "local-llm", "orders_index",
                                    ["CREATE INDEX idx_orders_user ON orders (user_id)"], ["orders"], "low").intent
    table = service.register_intent(db, "claude", "orders", ["CREATE TABLE orders (id bigint, user_id bigint)"],
                                    ["orders"], "high").intent
    column = service.register_intent(db, "gpt", "notes", ["CREATE TABLE notes (id bigint)"], ["notes"], "low").intent
    with psycopg.connect(db, autocommit=True) as conn:
        registry = IntentRegistry(conn)
        loaded = [registry.get(i) for i in (index.id, table.id, column.id)]
    assert [i.id for i in intents.dependency_order(loaded)] == [table.id, index.id, column.id]


def test_pggit_demo_prints_the_outcome_as_json(admin_dsn: str, demo_database: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from pggit_core.cli import main

    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--dsn", admin_dsn, "--database", demo_database, "--migrations-dir", "out",
                 "--format", "json"])
    assert code == 0
    printed = capsys.readouterr().out
    data = json.loads(printed[printed.index("{"):])
    assert [i["status"] for i in data["intents"]] == ["merged", "merged"]
    assert all(f.startswith(str(tmp_path / "out")) for f in data["migration"]["files"])
    assert (tmp_path / "out").is_dir()


def test_pggit_serve_needs_a_persistent_prefect_server(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pggit_core.cli import main

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert main(["serve"]) == 2
    assert "PREFECT_API_URL" in capsys.readouterr().err
