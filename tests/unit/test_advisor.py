"""The Anthropic resolver against canned Messages API responses (the real client, a mock transport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from pggit_core import advisor
from pggit_core.advisor import (
    AnthropicResolver,
    ConflictContext,
    Exchange,
    IntentSummary,
    Proposal,
    ResolverSettings,
)
from pggit_core.conflicts import MergeConflict
from pggit_core.errors import ConfigError, ResolverUnavailable

GOOD = {
    "statements": ["ALTER TABLE users ADD COLUMN search_preferences jsonb"],
    "rationale": "ours already has oauth_provider; adding theirs keeps both columns",
    "preserved_intents": ["oauth_support", "search_prefs"],
    "confidence": 0.9,
}


def message_body(text: str, *, stop_reason: str = "end_turn", model: str = "claude-test-1") -> dict[str, Any]:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 40},
    }


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


class FakeAPI:
    """Serves queued responses and records every request body."""

    def __init__(self, *responses: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.queue = list(responses)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        if not self.queue:
            raise AssertionError("the fake API got more requests than it has responses")
        return self.queue.pop(0)(request)


def reply(text: str, **kwargs: Any) -> Callable[[httpx2.Request], httpx2.Response]:
    return lambda request: httpx2.Response(200, json=message_body(text, **kwargs))


def status(code: int, kind: str, headers: dict[str, str] | None = None) -> Callable[[httpx2.Request], httpx2.Response]:
    return lambda request: httpx2.Response(code, json=error_body(kind, f"{kind} (test)"), headers=headers or {})


def timeout() -> Callable[[httpx2.Request], httpx2.Response]:
    def raise_timeout(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out (test)", request=request)

    return raise_timeout


def resolver_for(api: FakeAPI, *, max_retries: int = 0, model: str = "claude-test-1") -> AnthropicResolver:
    settings = ResolverSettings(model=model, max_retries=max_retries, timeout_seconds=5)
    return AnthropicResolver(settings, api_key="sk-test",
                             http_client=httpx2.Client(transport=httpx2.MockTransport(api)))


@pytest.fixture
def context() -> ConflictContext:
    return ConflictContext(
        conflict=MergeConflict(
            id=7, merge_id=3, source_branch="agent/search", target_branch="main",
            object_key="table:public.users", object_type="table", conflict_type="TABLE", severity="WARNING",
            reason="both_added_columns",
            base_def={"kind": "table", "columns": {"id": {"type": "integer"}}},
            ours_def={"kind": "table", "columns": {"id": {"type": "integer"}, "oauth_provider": {"type": "text"}}},
            theirs_def={"kind": "table", "columns": {"id": {"type": "integer"},
                                                     "search_preferences": {"type": "jsonb"}}},
            branch_a_sql="ALTER TABLE users ADD COLUMN oauth_provider text",
            branch_b_sql="ALTER TABLE users ADD COLUMN search_preferences jsonb"),
        intents=(IntentSummary(agent_id="local-llm-search", feature_name="search_prefs",
                               description="store search preferences per user", branch_name="agent/search"),),
    )


def test_good_proposal_is_parsed_and_request_is_structured(context: ConflictContext) -> None:
    api = FakeAPI(reply(json.dumps(GOOD)))
    answer = resolver_for(api).propose(context)
    assert answer.error is None
    assert answer.proposal == Proposal.model_validate(GOOD)
    assert answer.model == "claude-test-1" and answer.input_tokens == 120
    (body,) = api.requests
    assert body["model"] == "claude-test-1"
    assert body["system"] == advisor.SYSTEM_PROMPT
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert set(body["output_config"]["format"]["schema"]["properties"]) == set(Proposal.model_fields)
    assert "store search preferences per user" in body["messages"][0]["content"]
    assert answer.prompt_hash == advisor.prompt_hash(
        "claude-test-1", advisor.SYSTEM_PROMPT, advisor.build_messages(context, ()), advisor.output_schema())


def test_prompt_hash_is_stable_and_tracks_content(context: ConflictContext) -> None:
    first = resolver_for(FakeAPI(reply(json.dumps(GOOD)))).propose(context)
    again = resolver_for(FakeAPI(reply(json.dumps(GOOD)))).propose(context)
    other = resolver_for(FakeAPI(reply(json.dumps(GOOD)))).propose(
        context.model_copy(update={"conflict": context.conflict.model_copy(update={"advice": "x"})}))
    assert first.prompt_hash == again.prompt_hash != other.prompt_hash


def test_malformed_json_is_an_answer_with_an_error(context: ConflictContext) -> None:
    answer = resolver_for(FakeAPI(reply('{"statements": ["ALTER TABLE'))).propose(context)
    assert answer.proposal is None
    assert answer.error is not None and "not a valid proposal" in answer.error
    assert answer.response_text.startswith('{"statements"')


def test_out_of_range_confidence_and_empty_statements_are_refused(context: ConflictContext) -> None:
    bad = {**GOOD, "confidence": 1.5, "statements": []}
    answer = resolver_for(FakeAPI(reply(json.dumps(bad)))).propose(context)
    assert answer.proposal is None and answer.error is not None
    assert "confidence" in answer.error and "statements" in answer.error


def test_truncated_and_refused_answers_are_errors(context: ConflictContext) -> None:
    cut = resolver_for(FakeAPI(reply('{"statements"', stop_reason="max_tokens"))).propose(context)
    assert cut.proposal is None and cut.error is not None and "max_tokens" in cut.error
    refused = resolver_for(FakeAPI(reply("", stop_reason="refusal"))).propose(context)
    assert refused.proposal is None and refused.error == "the model declined to answer"


def test_rate_limit_is_retried_with_backoff_then_succeeds(context: ConflictContext) -> None:
    api = FakeAPI(status(429, "rate_limit_error", {"retry-after-ms": "10"}),
                  status(529, "overloaded_error", {"retry-after-ms": "10"}),
                  reply(json.dumps(GOOD)))
    answer = resolver_for(api, max_retries=2).propose(context)
    assert answer.proposal is not None
    assert len(api.requests) == 3


def test_rate_limit_beyond_retries_is_unavailable(context: ConflictContext) -> None:
    api = FakeAPI(status(429, "rate_limit_error", {"retry-after-ms": "10"}),
                  status(429, "rate_limit_error", {"retry-after-ms": "10"}))
    with pytest.raises(ResolverUnavailable, match="429"):
        resolver_for(api, max_retries=1).propose(context)
    assert len(api.requests) == 2


def test_timeout_is_unavailable(context: ConflictContext) -> None:
    with pytest.raises(ResolverUnavailable, match="could not be reached"):
        resolver_for(FakeAPI(timeout())).propose(context)


def test_rejected_key_is_unavailable_and_bad_model_is_a_config_error(context: ConflictContext) -> None:
    with pytest.raises(ResolverUnavailable, match="refused the key"):
        resolver_for(FakeAPI(status(401, "authentication_error"))).propose(context)
    with pytest.raises(ConfigError, match="PGGIT_LLM_MODEL"):
        resolver_for(FakeAPI(status(404, "not_found_error"))).propose(context)


def test_no_key_means_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("PGGIT_LLM_SECRET_BLOCK", raising=False)
    with pytest.raises(ResolverUnavailable, match="no Anthropic API key") as caught:
        AnthropicResolver()
    assert caught.value.hint is not None and "ANTHROPIC_API_KEY" in caught.value.hint


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGGIT_LLM_MODEL", "claude-sonnet-5-5")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    monkeypatch.delenv("PGGIT_LLM_SECRET_BLOCK", raising=False)
    resolver = AnthropicResolver()
    assert resolver.settings.model == "claude-sonnet-5-5"
    assert resolver.name == "anthropic:claude-sonnet-5-5"
    monkeypatch.delenv("PGGIT_LLM_MODEL")
    assert ResolverSettings.from_env().model == advisor.DEFAULT_MODEL


def test_history_feeds_the_previous_answer_and_its_problem_back(context: ConflictContext) -> None:
    api = FakeAPI(reply(json.dumps(GOOD)))
    history = (Exchange(response_text='{"statements": ["DROP TABLE users"]}', problem="destructive: DROP TABLE"),
               Exchange(response_text="", problem="the answer was cut off"))
    resolver_for(api).propose(context, history)
    roles = [m["role"] for m in api.requests[0]["messages"]]
    assert roles == ["user", "assistant", "user"]
    last = api.requests[0]["messages"][-1]["content"]
    assert "destructive: DROP TABLE" in last and "the answer was cut off" in last


def test_proposal_model_is_frozen() -> None:
    proposal = Proposal.model_validate(GOOD)
    with pytest.raises(ValueError):
        proposal.confidence = 0.1  # type: ignore[misc]


def test_key_from_a_prefect_secret_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("PGGIT_LLM_SECRET_BLOCK", "anthropic-key")
    loaded: list[str] = []

    def load(name: str) -> Secret[str]:
        loaded.append(name)
        return Secret(value="sk-from-block")

    monkeypatch.setattr(Secret, "load", load)
    assert advisor.api_key_from(ResolverSettings.from_env()) == "sk-from-block"
    assert loaded == ["anthropic-key"]

    def missing(name: str) -> Secret[str]:
        raise ValueError(f"Unable to find block document named {name}")

    monkeypatch.setattr(Secret, "load", missing)
    with pytest.raises(ResolverUnavailable, match="could not be loaded") as caught:
        AnthropicResolver()
    assert caught.value.hint is not None and "PGGIT_LLM_SECRET_BLOCK" in caught.value.hint
