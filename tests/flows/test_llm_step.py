"""The lifecycle's LLM step end to end: a merge conflict found before review is resolved by the Anthropic
resolver (the real client, pointed at a local fake Messages API), validated, applied, and the merge completes;
an ERROR conflict's proposal waits for the review, and approving the review applies it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prefect.states import State
from psycopg import sql

from flows.agent_lifecycle import agent_change_flow
from pggit_core import service
from tests.flows.conftest import Background

pytestmark = pytest.mark.flows

ADD_PREFS = "ALTER TABLE users ADD COLUMN search_preferences jsonb"


class FakeMessagesAPI(ThreadingHTTPServer):
    """Answers every POST /v1/messages with a proposal of `statements` (by default: add the source's column)."""

    requests: list[dict[str, Any]]
    statements: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: FakeMessagesAPI

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("content-length", "0"))
        self.server.requests.append(json.loads(self.rfile.read(length)))
        proposal = {"statements": self.server.statements, "rationale": "both columns are kept",
                    "preserved_intents": ["oauth", "search_prefs"], "confidence": 0.9}
        body = json.dumps({"id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test-1",
                           "content": [{"type": "text", "text": json.dumps(proposal)}], "stop_reason": "end_turn",
                           "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 10}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def fake_anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMessagesAPI]:
    server = FakeMessagesAPI(("127.0.0.1", 0), _Handler)
    server.requests = []
    server.statements = [ADD_PREFS]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("PGGIT_LLM_MODEL", "claude-test-1")
    yield server
    server.shutdown()
    server.server_close()


def _columns(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {str(r[0]) for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'users'").fetchall()}



def _hold_branch_table(db: str, blocker: psycopg.Connection[Any], agent_id: str) -> None:
    """Lock the users table of the agent's branch in `blocker`'s open transaction, as soon as the branch exists,
    and return once the agent started work on it: its DDL then waits for the lock (commit `blocker` to free it)."""
    deadline = time.monotonic() + 60
    physical = None
    while physical is None and time.monotonic() < deadline:
        row = blocker.execute(
            "SELECT s.physical_schema FROM pggit.intents i JOIN pggit.branches b ON b.name = i.branch_name "
            "AND b.status <> 'deleted' JOIN pggit.branch_schemas s ON s.branch_id = b.id "
            "WHERE i.agent_id = %s AND i.status = 'registered'", (agent_id,)).fetchone()
        blocker.commit()
        physical = None if row is None else str(row[0])
        time.sleep(0.05)
    assert physical is not None, f"the branch of {agent_id} never appeared"
    blocker.execute(sql.SQL("LOCK TABLE {}.users IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(physical)))
    with psycopg.connect(db, autocommit=True) as watcher:
        while watcher.execute("SELECT status FROM pggit.intents WHERE agent_id = %s",
                              (agent_id,)).fetchone() != ("in_progress",):
            assert time.monotonic() < deadline, f"{agent_id} never started work"
            time.sleep(0.05)

def test_the_llm_resolves_a_warning_conflict_and_the_merge_completes(db: str, migrations_dir: Path,
                                                                     fake_anthropic: FakeMessagesAPI) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id integer PRIMARY KEY, email text)")
        conn.execute("SELECT pggit.commit('users', 'test')")
    oauth = service.register_intent(db, "claude-auth", "oauth", ["ALTER TABLE users ADD COLUMN oauth_provider text"],
                                    ["users"], "medium").intent
    service.start_work(db, oauth.id)
    service.apply_changes(db, oauth.id, ["ALTER TABLE users ADD COLUMN oauth_provider text"], "oauth")

    def run() -> State[Any]:
        state: State[Any] = agent_change_flow(
            agent_id="local-llm-search", feature_name="search_prefs", schema_changes=[ADD_PREFS],
            tables_affected=["users"], resolver="anthropic", require_review=False, auto_resolve=False, dsn=db,
            migrations_dir=str(migrations_dir), return_state=True)
        return state

    with psycopg.connect(db) as blocker:  # hold the search branch's table until oauth has reached main
        running = Background(run).start()
        # main moves only once the search agent started work on the branch it has (so start_work does not see a
        # stale branch and make it again): its DDL then waits for the lock, and runs on the stale branch
        _hold_branch_table(db, blocker, "local-llm-search")
        assert service.merge_intent(db, oauth.id, auto_resolve=False).merged
        service.finish_intent(db, oauth.id)
        blocker.commit()  # the search agent's DDL now runs on its (stale) branch
        state = running.join()

    assert state.is_completed(), state.message
    assert state.result().outcome == "merged"
    assert {"oauth_provider", "search_preferences"} <= _columns(db)
    assert len(fake_anthropic.requests) == 1
    prompt = fake_anthropic.requests[0]["messages"][0]["content"]
    assert "search_preferences" in prompt and "oauth_provider" in prompt
    with psycopg.connect(db, autocommit=True) as conn:
        resolved = conn.execute("SELECT resolved, resolution, proposal->>'status' FROM pggit.conflicts "
                                "WHERE source_branch LIKE 'agent/local-llm-search%'").fetchall()
    assert resolved and all(r[0] and r[1] == "custom" and r[2] == "applied" for r in resolved)


WIDEN_EMAIL = "ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"


def _email(dsn: str) -> tuple[str, str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT data_type || coalesce('(' || character_maximum_length || ')', ''), is_nullable"
                           " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'"
                           " AND column_name = 'email'").fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_an_error_conflicts_proposal_waits_for_the_review_and_the_approval_applies_it(
        db: str, migrations_dir: Path, fake_anthropic: FakeMessagesAPI) -> None:
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from tests.flows.conftest import wait_for_paused_run

    fake_anthropic.statements = [WIDEN_EMAIL]
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id integer PRIMARY KEY, email text)")
        conn.execute("SELECT pggit.commit('users', 'test')")

    def run() -> State[Any]:
        state: State[Any] = agent_change_flow(
            agent_id="gpt-email", feature_name="email_length", schema_changes=[WIDEN_EMAIL],
            tables_affected=["users"], resolver="anthropic", require_review=True, auto_resolve=False, dsn=db,
            migrations_dir=str(migrations_dir), return_state=True)
        return state

    with psycopg.connect(db) as blocker:  # hold the branch's table until main has changed the same column
        running = Background(run).start()
        _hold_branch_table(db, blocker, "gpt-email")
        with psycopg.connect(db, autocommit=True) as main:
            main.execute("ALTER TABLE users ALTER COLUMN email SET NOT NULL")  # main changes the same column
            main.execute("SELECT pggit.commit('email required', 'test')")
        blocker.commit()  # the agent's DDL now runs on its (stale) branch

        def run_id() -> UUID | None:
            with psycopg.connect(db, autocommit=True) as conn:
                found = conn.execute("SELECT flow_run_id FROM pggit.intents WHERE agent_id = 'gpt-email'").fetchone()
            return UUID(str(found[0])) if found and found[0] else None
        paused = wait_for_paused_run(run_id)

    with psycopg.connect(db, autocommit=True) as conn:
        waiting = conn.execute("SELECT id, severity, resolved, proposal->>'status' FROM pggit.conflicts").fetchall()
        intent_id = conn.execute("SELECT id FROM pggit.intents WHERE agent_id = 'gpt-email'").fetchone()
    assert [(severity, resolved, status) for _, severity, resolved, status in waiting] \
        == [("ERROR", False, "awaiting_approval")]
    assert intent_id is not None
    with get_client(sync_client=True) as client:
        shown = {a.key: a.data for a in client.read_artifacts()}
    assert WIDEN_EMAIL in str(shown[f"intent-{intent_id[0]}-proposals"])
    assert _email(db) == ("text", "NO")  # nothing applied before the review

    resume_flow_run(paused.id, run_input={"approved": True, "comment": "both", "reviewer": "ana"})
    state = running.join()
    assert state.is_completed(), state.message
    assert state.result().outcome == "merged"
    assert _email(db) == ("character varying(320)", "NO")  # both sides' changes
    assert len(fake_anthropic.requests) == 1
    with psycopg.connect(db, autocommit=True) as conn:
        (resolved,) = conn.execute("SELECT resolved, resolution, proposal->>'status', proposal->>'approved_by'"
                                   " FROM pggit.conflicts").fetchall()
    assert resolved == (True, "custom", "applied", "ana")
