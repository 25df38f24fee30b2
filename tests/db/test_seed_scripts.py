"""The Python examples of the user's seed (docs/ai-agent-workflows.md) run as written, on a plain
(non-autocommit) ``psycopg.connect`` that never commits, and their effects are checked from a new connection.

Each script is copied from the seed. Changes: import paths (``confiture.integrations.pggit`` ->
``pggit_core``), the DSN (the test database), imports the seed forgot, the Anthropic client's transport (a
canned Messages API), and every other deviation is commented where it is made (and listed in
docs/architecture.md, "The seed, as written"). Closing the script's connection without a commit stands for
the script's process ending.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime  # the seed's ci_agent_merge.py uses datetime without importing it
from pathlib import Path  # ... and Path
from typing import Any

import httpx2
import psycopg
import pytest
from anthropic import Anthropic

from pggit_core import MigrationGenerator, PgGitClient, resolution
from pggit_core.advisor import AnthropicResolver, ResolverSettings
from pggit_core.coordination import IntentRegistry, IntentStatus, RiskLevel
from pggit_core.errors import AlreadyExists, InvalidInput, MergeError, NotFound
from pggit_core.statements import split

Conn = psycopg.Connection[Any]

ARCHITECTURE = [
    "CREATE TABLE users (id UUID PRIMARY KEY, email TEXT UNIQUE)",
    "CREATE TABLE sessions (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
    "CREATE TABLE oauth_tokens (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
]


# ------------------------------------------------------------------------------------------------- helpers


@pytest.fixture
def setup(db: str) -> Iterator[Conn]:
    """The user's database before a script runs (made with our faces on an autocommit connection)."""
    with psycopg.connect(db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def users_on_main(setup: Conn) -> Conn:
    """main with a committed ``users`` table."""
    setup.execute("CREATE TABLE users (id integer PRIMARY KEY, email text)")
    PgGitClient(setup).commit("users")
    return setup


def messages_api(*texts: str) -> tuple[list[dict[str, Any]], httpx2.MockTransport]:
    """A canned Messages API: one text reply per request, in order; the request bodies are recorded."""
    replies = list(texts)
    requests: list[dict[str, Any]] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        requests.append(json.loads(request.content))
        assert replies, "the fake Messages API got more requests than it has replies"
        return httpx2.Response(200, json={
            "id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test-1",
            "content": [{"type": "text", "text": replies.pop(0)}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 10}})

    return requests, httpx2.MockTransport(handle)


def run_declared(conn: Conn, intent_changes: list[str], llm_text: str) -> None:
    """The robust equivalent of the seed's ``conn.execute(architecture_ddl)``: the LLM's text is split into
    statements, and only statements the intent declared (parsed, dry-run and conflict-checked at
    registration) are run, one by one, never the text itself."""
    declared = {" ".join(s.split()).rstrip(";").lower() for s in intent_changes}
    statements = split(llm_text)
    for statement in statements:
        if " ".join(statement.split()).rstrip(";").lower() not in declared:
            raise InvalidInput(f"the model proposed a statement the intent did not declare: {statement!r}",
                               hint="register the change as an intent first")
    for statement in statements:
        conn.execute(statement.encode())


def columns(conn: Conn, table: str, schema: str = "public") -> dict[str, str]:
    rows = conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                        " WHERE attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))"
                        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (schema, table)).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def tables(conn: Conn, schema: str = "public") -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    return {str(r[0]) for r in rows}


def indexes(conn: Conn, schema: str = "public") -> set[str]:
    rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)).fetchall()
    return {str(r[0]) for r in rows}


def intents_by_feature(dsn: str) -> dict[str, Any]:
    """Every intent, read from a new connection (what lasted after the script's connection went away)."""
    with psycopg.connect(dsn, autocommit=True) as fresh:
        return {i.feature_name: i for i in IntentRegistry(fresh).list_intents()}


def branch_names(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as fresh:
        return {b.name for b in PgGitClient(fresh).list_branches()}


# ------------------------------------------------------------------------------- Pattern 2, Python equivalent


def test_pattern_2_python(db: str, users_on_main: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    connection = psycopg.connect(db)  # the seed's `connection`: a plain psycopg connection (not autocommit)

    # --- the seed, from here
    registry = IntentRegistry(connection)

    # Agent A registers
    intent_a = registry.register(
        agent_id="claude-auth",
        feature_name="oauth_support",
        schema_changes=["ALTER TABLE users ADD COLUMN oauth_provider TEXT"],
        tables_affected=["users"],
        risk_level=RiskLevel.MEDIUM
    )

    # Agent B registers - conflicts detected automatically
    intent_b = registry.register(
        agent_id="local-llm-search",
        feature_name="search_prefs",
        schema_changes=["ALTER TABLE users ADD COLUMN search_preferences JSONB"],
        tables_affected=["users"],
        risk_level=RiskLevel.LOW
    )

    # Both agents see conflict immediately
    for conflict in registry.get_conflicts(intent_b.id):
        print(f"Conflict: {conflict.conflict_type} on {conflict.affected_objects}")
        # Output: Conflict: TABLE on ['users']
    # --- to here

    connection.close()  # the script ends without a commit
    assert capsys.readouterr().out.splitlines() == ["Conflict: TABLE on ['users']"]
    intents = intents_by_feature(db)
    assert intents["oauth_support"].id == intent_a.id and intents["search_prefs"].id == intent_b.id
    assert {intent_a.branch_name, intent_b.branch_name} <= branch_names(db)
    with psycopg.connect(db, autocommit=True) as fresh:
        (seen,) = IntentRegistry(fresh).get_conflicts(intent_b.id)
        assert seen.other_intent_id == intent_a.id and not seen.reviewed
        [seen_by_a] = IntentRegistry(fresh).get_conflicts(intent_a.id)  # both agents see it
    assert seen_by_a.other_agent_id == "local-llm-search"
    assert seen_by_a.resolution_suggestions[0] == ("Coordinate with local-llm-search agent, consider sequential "
                                                   "application")


# ------------------------------------------------------------------------------------- Strategy 1


def test_strategy_1_intent_based(db: str, users_on_main: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    IntentRegistry(users_on_main).register(  # another agent already declared work on users.oauth_provider
        agent_id="local-llm-auth", feature_name="oauth_columns",
        schema_changes=["ALTER TABLE users ADD COLUMN oauth_provider TEXT"], tables_affected=["users"])
    connection = psycopg.connect(db)

    # --- the seed, from here
    registry = IntentRegistry(connection)

    # Agent declares intent BEFORE starting work
    # Confiture immediately detects conflicts with other agents
    intent = registry.register(
        agent_id="claude-auth",
        feature_name="oauth2_support",
        schema_changes=["ALTER TABLE users ADD COLUMN oauth_provider TEXT"],
        tables_affected=["users"],
        risk_level=RiskLevel.MEDIUM
    )

    # Check conflicts immediately
    conflicts = registry.get_conflicts(intent.id)
    if conflicts:
        # Coordinate before proceeding
        for c in conflicts:
            print(f"Conflict with {c.affected_objects}: {c.resolution_suggestions}")
    # --- to here

    connection.close()
    out = capsys.readouterr().out.splitlines()
    assert out and all(line.startswith("Conflict with [") for line in out)
    assert any("users.oauth_provider" in line for line in out)
    assert intents_by_feature(db)["oauth2_support"].status is IntentStatus.REGISTERED
    assert intent.branch_name in branch_names(db)


# ------------------------------------------------------------------------------------- Pattern 4


@pytest.fixture
def completed_intents(users_on_main: Conn) -> dict[str, Any]:
    """Agents that finished their work (committed on their branches, intents completed):
    auth (users.email NOT NULL) and widen (users.email varchar(320)) clash on users.email, a conflict the
    team reviewed ("sequentially"), so auth merges and widen then meets a merge conflict; metrics is
    independent; audit finished but has an unreviewed conflict with an agent still at work (skipped)."""
    conn = users_on_main
    registry, client = IntentRegistry(conn), PgGitClient(conn)

    def finish(intent_id: int, branch: str, *ddl: str) -> None:
        registry.mark_in_progress(intent_id)
        client.checkout(branch)
        for statement in ddl:
            conn.execute(statement.encode())
        client.commit(f"work of intent {intent_id}")
        client.checkout("main")
        registry.mark_completed(intent_id)

    made: dict[str, Any] = {}
    for agent, feature, change in [
        ("claude-auth", "email_required", "ALTER TABLE users ALTER COLUMN email SET NOT NULL"),
        ("local-llm", "email_wide", "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"),
        ("automation", "metrics", "CREATE TABLE metrics (id integer PRIMARY KEY, value numeric)"),
        ("claude-audit", "audit", "CREATE TABLE audit_log (id integer PRIMARY KEY, note text)"),
        ("local-llm-audit", "audit_index", "CREATE INDEX audit_log_note_idx ON audit_log (note)"),
    ]:
        made[feature] = registry.register(agent_id=agent, feature_name=feature, schema_changes=[change])
    for c in registry.get_conflicts(made["email_wide"].id):
        assert c.id is not None
        registry.resolve_conflict(c.id, resolution_notes="Apply sequentially: email_required first")
    finish(made["email_required"].id, made["email_required"].branch_name,
           "ALTER TABLE users ALTER COLUMN email SET NOT NULL")
    finish(made["email_wide"].id, made["email_wide"].branch_name,
           "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")
    finish(made["metrics"].id, made["metrics"].branch_name,
           "CREATE TABLE metrics (id integer PRIMARY KEY, value numeric)")
    finish(made["audit"].id, made["audit"].branch_name,
           "CREATE TABLE audit_log (id integer PRIMARY KEY, note text)")
    assert registry.get_conflicts(made["audit"].id, unresolved_only=True)
    return made


def test_pattern_4_ci_agent_merge(db: str, completed_intents: dict[str, Any], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # the script writes to the relative db/migrations/ of its working directory

    # --- the seed's ci_agent_merge.py, from here
    def merge_completed_intents() -> None:
        conn = psycopg.connect(db)  # the seed: psycopg.connect("postgresql://localhost/myapp_dev")
        client = PgGitClient(conn)
        registry = IntentRegistry(conn)

        # Get all completed intents (agents finished their work)
        completed = registry.list_intents(status_filter=IntentStatus.COMPLETED)

        for intent in completed:
            print(f"Processing: {intent.feature_name} by {intent.agent_id}")

            # Check for unresolved conflicts
            conflicts = [c for c in registry.get_conflicts(intent.id) if not c.reviewed]
            if conflicts:
                print("  ⚠️ Unresolved conflicts, skipping")  # the seed: an f-string without fields (ruff F541)
                continue

            # Merge to main
            client.checkout("main")
            result = client.merge(intent.branch_name, target_branch="main")

            if result.has_conflicts:
                print("  ❌ Merge conflicts detected")
                # The seed: `intent.status = IntentStatus.CONFLICTED`. An Intent is a frozen value (the
                # assignment raises) and setting an attribute would not reach the database anyway; the
                # status change goes through the registry, which validates and records it.
                registry.mark_conflicted(intent.id)
            else:
                print("  ✅ Merged successfully")
                registry.mark_merged(intent.id)
                client.delete_branch(intent.branch_name)

        # Generate combined migration from all merged changes
        generator = MigrationGenerator(client)
        migration = generator.generate_from_commits(
            commits=client.log("main", limit=10),
            name=f"agent_changes_{datetime.now():%Y%m%d}"
        )
        migration.write_to_file(Path("db/migrations/"))
        conn.close()  # the script ends here, without a commit

    merge_completed_intents()
    # --- to here

    out = capsys.readouterr().out
    assert "Processing: audit by claude-audit\n  ⚠️ Unresolved conflicts, skipping" in out
    assert "Processing: email_wide by local-llm\n  ❌ Merge conflicts detected" in out
    assert out.count("✅ Merged successfully") == 2
    intents = intents_by_feature(db)
    assert {f: i.status for f, i in intents.items()} == {
        "email_required": IntentStatus.MERGED, "metrics": IntentStatus.MERGED,
        "email_wide": IntentStatus.CONFLICTED, "audit": IntentStatus.COMPLETED,
        "audit_index": IntentStatus.REGISTERED}
    names = branch_names(db)
    assert completed_intents["email_required"].branch_name not in names
    assert completed_intents["metrics"].branch_name not in names
    assert {completed_intents["email_wide"].branch_name, completed_intents["audit"].branch_name} <= names
    with psycopg.connect(db, autocommit=True) as fresh:
        assert "metrics" in tables(fresh)
        assert columns(fresh, "users") == {"id": "integer", "email": "text"}
        assert fresh.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.users'::regclass"
                             " AND attname = 'email'").fetchone() == (True,)
        assert PgGitClient(fresh).conflicts(source=completed_intents["email_wide"].branch_name)
        (recorded,) = fresh.execute("SELECT version, name FROM pggit.migrations").fetchall()
    assert recorded[1].startswith("agent_changes_")
    up = tmp_path / "db" / "migrations" / f"{recorded[0]}_{recorded[1]}.up.sql"
    assert "metrics" in up.read_text() and "varchar(320)" not in up.read_text()


# ------------------------------------------------------------------------------- Claude + Local LLM


def test_claude_and_local_llm_coordinator(db: str, setup: Conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    requests, transport = messages_api(";\n".join(ARCHITECTURE) + ";")

    # --- the seed's coordinator.py, from here
    def coordinate_agents() -> None:
        conn = psycopg.connect(db)  # the seed: psycopg.connect("postgresql://localhost/myapp_dev")
        client = PgGitClient(conn)
        registry = IntentRegistry(conn)
        # The seed: `Anthropic()`. Here the real client talks to a canned Messages API (no network, no key).
        claude = Anthropic(api_key="sk-test", max_retries=0, http_client=httpx2.Client(transport=transport))

        # 1. Claude registers intent for complex architecture work
        claude_intent = registry.register(
            agent_id="claude-architecture",
            feature_name="auth_system",
            schema_changes=[
                "CREATE TABLE users (id UUID PRIMARY KEY, email TEXT UNIQUE)",
                "CREATE TABLE sessions (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
                "CREATE TABLE oauth_tokens (id UUID PRIMARY KEY, user_id UUID REFERENCES users)"
            ],
            tables_affected=["users", "sessions", "oauth_tokens"],
            risk_level=RiskLevel.HIGH
        )

        # 2. Local LLM registers intent for index optimization
        #    Confiture automatically detects overlap on 'users' table
        local_intent = registry.register(
            agent_id="local-llm-indexes",
            feature_name="performance_indexes",
            schema_changes=[
                "CREATE INDEX idx_users_email ON users(email)",
                "CREATE INDEX idx_sessions_user ON sessions(user_id)"
            ],
            tables_affected=["users", "sessions"],
            risk_level=RiskLevel.LOW
        )

        # 3. Check conflicts - Confiture detected overlap
        conflicts = registry.get_conflicts(local_intent.id)
        if conflicts:
            print("Conflicts detected - coordinating...")
            for c in conflicts:
                # Resolve: indexes depend on tables existing first
                registry.resolve_conflict(
                    c.id,
                    resolution_notes="Apply architecture first, then indexes"
                )

        # 4. Claude designs and implements architecture
        registry.mark_in_progress(claude_intent.id)
        client.checkout(claude_intent.branch_name)

        architecture_ddl = claude.messages.create(
            max_tokens=1024,  # not in the seed: the Messages API requires max_tokens
            model="claude-sonnet-4-20250514",
            messages=[{"role": "user", "content": "Design user authentication schema..."}]
        ).content[0].text  # type: ignore[union-attr]  # the seed reads .text of the first block

        # The seed: `conn.execute(architecture_ddl)`, the model's text run as SQL. Here only what the intent
        # declared (and registration checked) runs, statement by statement.
        run_declared(conn, claude_intent.schema_changes, architecture_ddl)
        client.commit("Implement auth schema")
        registry.mark_completed(claude_intent.id)

        # The seed merges both branches at step 6, after the local LLM worked; but the local LLM's branch was
        # copied from main when main had no users table, so its CREATE INDEX ... ON users fails there. As the
        # resolution notes say, the architecture goes first: it is merged into main now, and main is merged
        # into the local LLM's branch before that agent starts.
        client.checkout("main")
        client.merge(claude_intent.branch_name, target_branch="main")
        registry.mark_merged(claude_intent.id)
        client.merge("main", target_branch=local_intent.branch_name)

        # 5. Local LLM adds indexes (after architecture is ready)
        registry.mark_in_progress(local_intent.id)
        client.checkout(local_intent.branch_name)
        conn.execute("CREATE INDEX idx_users_email ON users(email)")
        conn.execute("CREATE INDEX idx_sessions_user ON sessions(user_id)")
        client.commit("Add performance indexes")
        registry.mark_completed(local_intent.id)

        # 6. Merge in dependency order (the architecture was merged above)
        client.checkout("main")
        client.merge(local_intent.branch_name, target_branch="main")
        registry.mark_merged(local_intent.id)

        # 7. Generate production migration
        generator = MigrationGenerator(client)
        migration = generator.generate_from_branch("main", name="auth_feature")
        migration.write_to_file(Path("db/migrations/"))

        print(f"✅ Generated migration: {migration.version}_{migration.name}")
        conn.close()  # the script ends here, without a commit

    coordinate_agents()
    # --- to here

    out = capsys.readouterr().out
    assert out.startswith("Conflicts detected - coordinating...\n")
    assert "✅ Generated migration: " in out and out.rstrip().endswith("_auth_feature")
    assert len(requests) == 1 and requests[0]["model"] == "claude-sonnet-4-20250514"
    intents = intents_by_feature(db)
    assert intents["auth_system"].status is IntentStatus.MERGED
    assert intents["performance_indexes"].status is IntentStatus.MERGED
    with psycopg.connect(db, autocommit=True) as fresh:
        assert all(c.reviewed for c in IntentRegistry(fresh).get_conflicts(intents["performance_indexes"].id))
        assert {"users", "sessions", "oauth_tokens"} <= tables(fresh)
        assert {"idx_users_email", "idx_sessions_user"} <= indexes(fresh)
        (recorded,) = fresh.execute("SELECT version, name FROM pggit.migrations").fetchall()
    assert recorded[1] == "auth_feature"
    up = (tmp_path / "db" / "migrations" / f"{recorded[0]}_auth_feature.up.sql").read_text()
    for needle in ("CREATE TABLE", "users", "sessions", "oauth_tokens", "idx_users_email", "idx_sessions_user"):
        assert needle in up, up


# ------------------------------------------------------------------------------- Coordinator agent resolution


def test_coordinator_agent_resolution(db: str, users_on_main: Conn) -> None:
    conn = users_on_main
    client = PgGitClient(conn)
    for branch, ddl in [("agent/auth", "ALTER TABLE users ADD COLUMN oauth_provider text"),
                        ("agent/search", "ALTER TABLE users ADD COLUMN search_preferences jsonb")]:
        client.create_branch(branch)
        client.checkout(branch)
        conn.execute(ddl)
        client.commit(ddl)
        client.checkout("main")
    assert client.merge("agent/auth").result == "merged"
    assert client.merge("agent/search").has_conflicts
    proposal = json.dumps({"statements": ["ALTER TABLE users ADD COLUMN search_preferences jsonb"],
                           "rationale": "main already has oauth_provider; adding search_preferences keeps both",
                           "preserved_intents": ["oauth", "search"], "confidence": 0.9})
    requests, transport = messages_api(proposal)
    # The seed's `claude` resolves through pggit's resolver (the real Anthropic client, a canned API).
    claude = AnthropicResolver(ResolverSettings(model="claude-sonnet-4-20250514", max_retries=0),
                               api_key="sk-test", http_client=httpx2.Client(transport=transport))
    # The seed's `db` is an unnamed query helper: a plain (non-autocommit) connection that never commits;
    # every record and apply of the resolution loop is durable by itself.
    db_conn = psycopg.connect(db)

    # --- the seed, from here (robust equivalent)
    # The seed: db.query("SELECT * FROM pggit.conflicts WHERE resolved = false").
    conflicts = PgGitClient(db_conn).conflicts()

    for conflict in conflicts:
        # The seed asks the model for "combined SQL" in free text and formats it into
        # `SELECT pggit.resolve_conflict({conflict.id}, 'custom', '{resolution.content}')`: SQL injection by the
        # model's text, and unchecked SQL. pggit's resolution loop asks for a structured proposal, validates it
        # on a scratch branch, and hands the SQL to pggit.resolve_conflict as a bound parameter.
        resolution.resolve(db_conn, conflict.id, claude)
    # --- to here

    db_conn.close()
    assert len(requests) == 1 and len(conflicts) == 1
    with psycopg.connect(db, autocommit=True) as fresh:
        (resolved,) = PgGitClient(fresh).conflicts(include_resolved=True)
        assert resolved.resolved and resolved.resolution == "custom"
        assert "search_preferences" in (resolved.custom_sql or "")
        merged = PgGitClient(fresh).merge("agent/search")
        assert merged.result == "merged", merged
        assert set(columns(fresh, "users")) == {"id", "email", "oauth_provider", "search_preferences"}


# ------------------------------------------------------------------------------- the rule itself


def test_a_failing_operation_leaves_the_connection_usable(db: str, users_on_main: Conn) -> None:
    conn = psycopg.connect(db)
    registry, client = IntentRegistry(conn), PgGitClient(conn)
    PgGitClient(users_on_main).create_branch("agent/taken")
    conn.execute("CREATE TABLE notes (id integer)")  # the caller's own work, before the failing calls
    with pytest.raises(AlreadyExists):
        client.create_branch("agent/taken")
    with pytest.raises(NotFound):
        client.checkout("agent/no-such-branch")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    registry.register(agent_id="a", feature_name="f", schema_changes=["ALTER TABLE users ADD COLUMN x text"])
    conn.close()
    with psycopg.connect(db, autocommit=True) as fresh:
        assert "notes" in tables(fresh)  # committed by the register that succeeded after the failures
        assert [i.feature_name for i in IntentRegistry(fresh).list_intents()] == ["f"]


def test_an_operation_inside_the_callers_transaction_block_does_not_commit(db: str, users_on_main: Conn) -> None:
    conn = psycopg.connect(db)
    with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
        IntentRegistry(conn).register(agent_id="a", feature_name="f", schema_changes=["CREATE TABLE t (id int)"])
        conn.execute("SELECT 1 / 0")
    conn.close()
    assert intents_by_feature(db) == {}
    assert not any(name.startswith("agent/a-") for name in branch_names(db))


def test_a_failed_merge_is_recorded_and_the_connection_stays_usable(db: str, users_on_main: Conn) -> None:
    users_on_main.execute("INSERT INTO users VALUES (1, NULL)")  # main's row makes SET NOT NULL fail there
    PgGitClient(users_on_main).create_branch("agent/strict")
    conn = psycopg.connect(db)
    client = PgGitClient(conn)
    client.checkout("agent/strict")
    conn.execute("ALTER TABLE users ALTER COLUMN email SET NOT NULL")
    client.commit("email required")
    client.checkout("main")
    with pytest.raises(MergeError):
        client.merge("agent/strict")
    assert conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR
    assert client.current_branch() == "main"
    conn.close()
    with psycopg.connect(db, autocommit=True) as fresh:
        assert fresh.execute("SELECT result FROM pggit.merges").fetchall() == [("failed",)]
        assert fresh.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.users'::regclass"
                             " AND attname = 'email'").fetchone() == (False,)
