"""Helpers of the LLM resolution tests: a canned Messages API served to the real `anthropic` client through a
mock transport (no network), and small SQL helpers over a connection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import psycopg

from pggit_core.advisor import AnthropicResolver, ResolverSettings

Conn = psycopg.Connection[Any]
Responder = Callable[[httpx2.Request], httpx2.Response]


class FakeAPI:
    """Serves queued responses to the anthropic client and records every request body."""

    def __init__(self, responses: list[Responder]) -> None:
        self.queue = list(responses)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        if not self.queue:
            raise AssertionError("the fake API got more requests than it has responses")
        return self.queue.pop(0)(request)

    def resolver(self, max_retries: int = 0) -> AnthropicResolver:
        settings = ResolverSettings(model="claude-test-1", max_retries=max_retries, timeout_seconds=5)
        return AnthropicResolver(settings, api_key="sk-test",
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(self)))


def proposal(*statements: str, confidence: float = 0.9) -> Responder:
    """A Messages API reply whose text is a proposal with these statements."""
    return text_reply(json.dumps({"statements": list(statements), "rationale": "keeps both sides' changes",
                                  "preserved_intents": ["oauth_support", "search_prefs"],
                                  "confidence": confidence}))


def text_reply(text: str) -> Responder:
    body = {"id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test-1",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 30}}
    return lambda request: httpx2.Response(200, json=body)


def status(code: int, kind: str, retry_after_ms: str = "10") -> Responder:
    body = {"type": "error", "error": {"type": kind, "message": f"{kind} (test)"}}
    return lambda request: httpx2.Response(code, json=body, headers={"retry-after-ms": retry_after_ms})


def timeout() -> Responder:
    def raise_timeout(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out (test)", request=request)

    return raise_timeout


def run_on(conn: Conn, branch: str, *statements: str, message: str = "work") -> None:
    """Check out a branch, run DDL there, commit, go back to main."""
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    for statement in statements:
        conn.execute(statement.encode())
    conn.execute("SELECT pggit.commit(%s)", (message,))
    conn.execute("SELECT pggit.checkout('main')")


def merge(conn: Conn, source: str) -> dict[str, Any]:
    row = conn.execute("SELECT pggit.merge(%s, 'main')", (source,)).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def columns(conn: Conn, table: str = "users") -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, format_type(atttypid, atttypmod) FROM information_schema.columns c"
        " JOIN pg_attribute a ON a.attrelid = ('public.' || c.table_name)::regclass AND a.attname = c.column_name"
        " WHERE c.table_schema = 'public' AND c.table_name = %s ORDER BY c.ordinal_position", (table,)).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def conflict_row(conn: Conn, conflict_id: int) -> dict[str, Any]:
    cur = conn.execute("SELECT resolved, resolution, custom_sql, proposal, resolution_notes"
                       " FROM pggit.conflicts WHERE id = %s", (conflict_id,))
    row = cur.fetchone()
    assert row is not None
    return {"resolved": row[0], "resolution": row[1], "custom_sql": row[2], "proposal": row[3], "notes": row[4]}


def register_intent(conn: Conn, agent: str, feature: str, description: str, branch: str, change: str) -> None:
    conn.execute("INSERT INTO pggit.intents (agent_id, feature_name, description, branch_name, risk_level,"
                 " schema_changes) VALUES (%s, %s, %s, %s, 'low', %s)", (agent, feature, description, branch, [change]))
