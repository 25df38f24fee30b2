"""IntentRegistry against a real database: the seed's Python, branches, dry runs, lifecycle, bad input."""

from __future__ import annotations

import psycopg
import pytest

from pggit_core.coordination import IntentRegistry, IntentStatus, RiskLevel
from pggit_core.errors import AlreadyExists, IllegalTransition, InvalidInput, InvalidSQL, NotFound

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def users(conn: Conn) -> Conn:
    conn.execute("CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL)")
    return conn


def _counts(conn: Conn) -> tuple[object, ...]:
    row = conn.execute("""SELECT (SELECT count(*) FROM pggit.intents), (SELECT count(*) FROM pggit.intent_objects),
                                 (SELECT count(*) FROM pggit.intent_conflicts),
                                 (SELECT count(*) FROM pggit.intent_events),
                                 (SELECT count(*) FROM pggit.branches WHERE status <> 'deleted')""").fetchone()
    assert row is not None
    return row


def test_seed_python_api_lifecycle(users: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    connection = users
    registry = IntentRegistry(connection)
    intent = registry.register(
        agent_id="claude-payments",
        feature_name="stripe_integration",
        schema_changes=["ALTER TABLE users ADD COLUMN stripe_id TEXT"],
        tables_affected=["users"],
        risk_level=RiskLevel.MEDIUM
    )
    conflicts = registry.get_conflicts(intent.id)
    for conflict in conflicts:
        print(f"{conflict.severity}: {conflict.affected_objects}")
        print(f"  Suggestion: {conflict.resolution_suggestions}")
    registry.mark_in_progress(intent.id)
    registry.mark_completed(intent.id)
    completed = registry.list_intents(status_filter=IntentStatus.COMPLETED)
    assert [i.id for i in completed] == [intent.id]
    unresolved = [c for c in registry.get_conflicts(intent.id) if not c.reviewed]
    assert unresolved == []
    registry.mark_merged(intent.id)
    final = registry.get(intent.id)
    assert final.status is IntentStatus.MERGED and final.merged_at is not None and final.started_at is not None
    assert registry.history(intent.id)[0]["reason"] == "registered by claude-payments"
    trail = [(e["from_status"], e["to_status"]) for e in registry.history(intent.id)]
    assert trail == [(None, "registered"), ("registered", "in_progress"), ("in_progress", "completed"),
                     ("completed", "merged")]
    live = users.execute("SELECT count(*) FROM pggit.intent_objects WHERE intent_id = %s AND live",
                         (intent.id,)).fetchone()
    assert live == (0,)
    with pytest.raises(IllegalTransition, match="cannot go from merged to in_progress"):
        registry.mark_in_progress(intent.id)


def test_seed_coordinator_resolves_conflicts(users: Conn) -> None:
    registry = IntentRegistry(users)
    claude_intent = registry.register(
        agent_id="claude-architecture", feature_name="auth_system",
        schema_changes=["CREATE TABLE accounts (id UUID PRIMARY KEY, email TEXT UNIQUE)",
                        "CREATE TABLE sessions (id UUID PRIMARY KEY, account_id UUID REFERENCES accounts)"],
        tables_affected=["accounts", "sessions"], risk_level=RiskLevel.HIGH)
    local_intent = registry.register(
        agent_id="local-llm-indexes", feature_name="performance_indexes",
        schema_changes=["CREATE INDEX idx_accounts_email ON accounts(email)",
                        "CREATE INDEX idx_sessions_account ON sessions(account_id)"],
        tables_affected=["accounts", "sessions"], risk_level=RiskLevel.LOW)
    assert registry.get(claude_intent.id).footprint_warnings == []
    conflicts = registry.get_conflicts(local_intent.id)
    assert [(c.conflict_type, c.severity, c.affected_objects) for c in conflicts] == [
        ("DEPENDENCY", "WARNING", ["accounts", "sessions"])]
    assert "apply sequentially: claude-architecture (auth_system) first" in conflicts[0].resolution_suggestions[0]
    for c in conflicts:
        registry.resolve_conflict(c.id, resolution_notes="Apply architecture first, then indexes")
    assert registry.get_conflicts(local_intent.id, unresolved_only=True) == []
    again = registry.resolve_conflict(conflicts[0].id, resolution_notes="indexes wait for the tables")
    assert again.reviewed and again.resolution_notes == "indexes wait for the tables"
    assert registry.get_conflicts(claude_intent.id)[0].reviewed
    # The index agent's dry run ran on its own branch, where the tables do not exist yet: a warning.
    assert any("fails against the branch's current schema" in w
               for w in registry.get(local_intent.id).footprint_warnings)


def test_dry_run_confirms_footprint_and_leaves_nothing(users: Conn) -> None:
    registry = IntentRegistry(users)
    logged = users.execute("SELECT count(*) FROM pggit.ddl_log").fetchone()
    intent = registry.register("agent-x", "idx", ["ALTER TABLE users ADD COLUMN nick text",
                                                  "CREATE INDEX users_nick_idx ON users (nick)"], ["users"])
    assert intent.dry_run is not None
    assert intent.dry_run["ran"] == 2 and intent.dry_run["error"] is None
    assert set(intent.dry_run["touched"]) >= {"public.users", "public.users_nick_idx"}
    assert intent.footprint_warnings == []
    # Rolled back: neither main nor the branch has the column; nothing left in the DDL log.
    cols = users.execute("""SELECT n.nspname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attname = 'nick'""").fetchall()
    assert cols == []
    assert users.execute("SELECT count(*) FROM pggit.ddl_log").fetchone() == logged
    assert users.execute("SELECT current_setting('pggit.branch', true)").fetchone() in {(None,), ("",)}


def test_dry_run_failure_is_a_warning_not_a_refusal(users: Conn) -> None:
    registry = IntentRegistry(users)
    intent = registry.register("agent-x", "later", ["ALTER TABLE users DROP COLUMN nope"], ["users"])
    assert intent.dry_run is not None and intent.dry_run["failed_statement"] == 0
    assert any('column "nope" of relation "users" does not exist' in w for w in intent.footprint_warnings)


def test_check_records_nothing(users: Conn) -> None:
    registry = IntentRegistry(users)
    registry.register("claude-payments", "stripe_integration", ["ALTER TABLE users ADD COLUMN stripe_id TEXT"],
                      ["users"])
    before = _counts(users)
    result = registry.check(agent_id="claude-auth", feature_name="oauth2",
                            schema_changes=["ALTER TABLE users ADD COLUMN stripe_id VARCHAR(10)"],
                            tables_affected=["users"])
    assert [(c.conflict_type, c.severity) for c in result.conflicts] == [("COLUMN", "ERROR")]
    assert result.blocking and result.conflicts[0].id is None
    assert _counts(users) == before


def test_list_intents_filters(users: Conn) -> None:
    registry = IntentRegistry(users, create_branches=False)
    a = registry.register("a", "f", ["ALTER TABLE users ADD COLUMN a int"], ["users"])
    b = registry.register("b", "f", ["ALTER TABLE users ADD COLUMN b int"], ["users"])
    registry.mark_in_progress(b.id)
    assert [i.id for i in registry.list_intents(status_filter="in_progress")] == [b.id]
    assert [i.id for i in registry.list_intents()] == [a.id, b.id]
    assert [i.id for i in registry.list_intents(agent_id="a")] == [a.id]
    with pytest.raises(InvalidInput, match="not an intent status"):
        registry.list_intents(status_filter="finished")


def test_abandon_closes_its_conflicts_and_leaves_the_index(users: Conn) -> None:
    registry = IntentRegistry(users, create_branches=False)
    a = registry.register("a", "f", ["ALTER TABLE users ADD COLUMN a int"], ["users"])
    b = registry.register("b", "f", ["ALTER TABLE users ADD COLUMN a bigint"], ["users"])
    assert registry.get_conflicts(b.id, unresolved_only=True)
    registry.abandon(a.id, reason="superseded")
    [closed] = registry.get_conflicts(b.id)
    assert closed.reviewed and "was abandoned" in (closed.resolution_notes or "")
    c = registry.register("c", "f", ["ALTER TABLE users ADD COLUMN a text"], ["users"])
    assert [x.other_agent_id for x in registry.get_conflicts(c.id)] == ["b"]
    # abandoned: the same agent may register the same feature again
    registry.register("a", "f", ["ALTER TABLE users ADD COLUMN z int"], ["users"])


def test_locks_and_partitions_give_conflicts_naming_the_owner(users: Conn) -> None:
    registry = IntentRegistry(users, create_branches=False)
    users.execute("""INSERT INTO pggit_table_locks (agent_id, table_name, locked_at)
                     VALUES ('claude-123', 'users', NOW()) ON CONFLICT (table_name) DO NOTHING RETURNING *""")
    users.execute("""INSERT INTO pggit_agent_partitions VALUES
                     ('auth-agent', ARRAY['users', 'sessions', 'oauth_tokens'], ARRAY['auth'])""")
    intent = registry.register("gpt-search", "prefs", ["ALTER TABLE users ADD COLUMN prefs JSONB"], ["users"],
                               agent_type="search-agent")
    found = {(c.conflict_type, c.owner) for c in registry.get_conflicts(intent.id)}
    assert found == {("LOCK", "claude-123"), ("PARTITION", "auth-agent")}
    assert all(c.severity == "ERROR" and c.other_intent_id is None for c in registry.get_conflicts(intent.id))
    mine = registry.register("claude-123", "own", ["ALTER TABLE users ADD COLUMN x int"], ["users"],
                             agent_type="auth-agent")
    assert {c.conflict_type for c in registry.get_conflicts(mine.id)} == {"TABLE"}


def test_lock_and_unlock_api(users: Conn) -> None:
    registry = IntentRegistry(users, create_branches=False)
    lock, got = registry.lock_table("users", "a1")
    assert got and lock.agent_id == "a1"
    holder, got = registry.lock_table("users", "b1")
    assert not got and holder.agent_id == "a1"
    with pytest.raises(NotFound, match="b1 holds no lock on users; it is held by a1"):
        registry.unlock_table("users", "b1")
    registry.unlock_table("users", "a1")
    assert registry.locks() == []


BAD = [
    (dict(schema_changes=["ALTER TABLE users ADD COLUMN"]), InvalidSQL),
    (dict(schema_changes=["CREATE TABLE t (a int"]), InvalidSQL),
    (dict(schema_changes=[]), InvalidInput),
    (dict(schema_changes=["  "]), InvalidInput),
    (dict(risk_level="extreme"), InvalidInput),
    (dict(agent_id=""), InvalidInput),
    (dict(agent_id="a\nb"), InvalidInput),
    (dict(feature_name="x" * 201), InvalidInput),
    (dict(tables_affected=["users; DROP TABLE users"]), InvalidInput),
    (dict(schema_changes=["SELECT pg_sleep(0)"]), InvalidSQL),
]


@pytest.mark.parametrize(("override", "error"), BAD, ids=[str(b[0])[:50] for b in BAD])
def test_bad_input_records_nothing(users: Conn, override: dict[str, object], error: type[Exception]) -> None:
    registry = IntentRegistry(users)
    before = _counts(users)
    args: dict[str, object] = dict(agent_id="claude", feature_name="f",
                                   schema_changes=["ALTER TABLE users ADD COLUMN x int"], tables_affected=["users"],
                                   risk_level="medium")
    args.update(override)
    with pytest.raises(error) as info:
        registry.register(**args)  # type: ignore[arg-type]
    assert info.value.hint  # type: ignore[attr-defined]
    assert _counts(users) == before


def test_duplicate_agent_feature_refused(users: Conn) -> None:
    registry = IntentRegistry(users)
    registry.register("claude", "f", ["ALTER TABLE users ADD COLUMN x int"], ["users"])
    before = _counts(users)
    with pytest.raises(AlreadyExists, match="already has a live intent"):
        registry.register("claude", "f", ["ALTER TABLE users ADD COLUMN y int"], ["users"])
    assert _counts(users) == before


def test_unknown_ids(users: Conn) -> None:
    registry = IntentRegistry(users)
    with pytest.raises(NotFound, match="intent 999 does not exist"):
        registry.get_conflicts(999)
    with pytest.raises(NotFound):
        registry.mark_completed(999)
    with pytest.raises(NotFound, match="conflict 42 does not exist"):
        registry.resolve_conflict(42, resolution_notes="x")
    with pytest.raises(InvalidInput):
        registry.resolve_conflict(-1, resolution_notes="x")
    with pytest.raises(InvalidInput, match="needs notes"):
        registry.resolve_conflict(1, resolution_notes=" ")


INJECTIONS = ["x'); DROP TABLE users; --", "\"; DROP TABLE users; --", "$$; DROP TABLE users; $$",
              "Robert'); DELETE FROM pggit.intents; --"]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_in_text_fields_is_stored_verbatim(users: Conn, evil: str) -> None:
    registry = IntentRegistry(users)
    intent = registry.register(agent_id=evil, feature_name=evil, schema_changes=["ALTER TABLE users ADD COLUMN x int"],
                               tables_affected=["users"], description=evil)
    again = registry.get(intent.id)
    assert (again.agent_id, again.feature_name, again.description) == (evil, evil, evil)
    assert again.branch_name.startswith("agent/") and "'" not in again.branch_name
    other = registry.register("other", "f", ["ALTER TABLE users ADD COLUMN y int"], ["users"])
    [conflict] = registry.get_conflicts(other.id)
    resolved = registry.resolve_conflict(conflict.id, resolution_notes=evil)
    assert resolved.resolution_notes == evil
    registry.mark_in_progress(intent.id, reason=evil)
    assert registry.history(intent.id)[-1]["reason"] == evil
    assert users.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone() == (True,)
    assert users.execute("SELECT count(*) FROM pggit.intents").fetchone() == (2,)


def test_schema_changes_are_parsed_not_executed(users: Conn) -> None:
    registry = IntentRegistry(users)
    evil = "ALTER TABLE users ADD COLUMN x int; DROP TABLE users"
    intent = registry.register("agent", "f", [evil], ["users"])
    assert intent.schema_changes == [evil]
    assert {o["key"]: o["action"] for o in intent.footprint}["table:public.users"] == "drop"
    assert users.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone() == (True,)
    with pytest.raises(InvalidSQL):
        registry.register("agent", "g", ["ALTER TABLE users ADD COLUMN y int; COPY users TO PROGRAM 'id'"],
                          ["users"])
