"""The LLM advisor: what a conflict resolver sees and answers, the protocol, and the Anthropic implementation."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import anthropic
import httpx2
import pydantic
from anthropic.types import AssistantMessageParam, MessageParam, UserMessageParam
from pydantic import BaseModel, ConfigDict, Field

from pggit_core.conflicts import ConflictSeverity, MergeConflict
from pggit_core.errors import ConfigError, ResolverUnavailable

DEFAULT_MODEL = "claude-sonnet-4-5"
MODEL_ENV = "PGGIT_LLM_MODEL"
SECRET_BLOCK_ENV = "PGGIT_LLM_SECRET_BLOCK"
API_KEY_ENV = "ANTHROPIC_API_KEY"


class IntentSummary(BaseModel):
    """What an agent said it would do on one side of the conflict (from `pggit.intents`)."""

    model_config = ConfigDict(frozen=True)

    agent_id: str
    feature_name: str
    description: str
    branch_name: str
    schema_changes: tuple[str, ...] = ()


class ConflictContext(BaseModel):
    """Everything a resolver is shown about one merge conflict: the conflict value itself (`ours` is the
    target, `theirs` the source; its `paths` name what it is about and its definitions are the values at
    those paths), the intents behind both sides and the related objects on the target."""

    model_config = ConfigDict(frozen=True)

    conflict: MergeConflict
    intents: tuple[IntentSummary, ...] = ()
    schema_objects: dict[str, Any] = Field(default_factory=dict)

    # What the validation of a proposal reads (proposal_check.py), from the conflict.
    @property
    def conflict_id(self) -> int:
        return self.conflict.id

    @property
    def source_branch(self) -> str:
        return self.conflict.source_branch

    @property
    def target_branch(self) -> str:
        return self.conflict.target_branch

    @property
    def object_key(self) -> str:
        return self.conflict.object_key

    @property
    def severity(self) -> ConflictSeverity:
        return self.conflict.severity

    @property
    def paths(self) -> tuple[dict[str, str], ...]:
        return self.conflict.paths


class Proposal(BaseModel):
    """A resolver's structured answer: the combined SQL (one statement per item) and why it is right."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statements: tuple[str, ...] = Field(
        min_length=1,
        description="The SQL statements that resolve the conflict, one complete statement per item, "
                    "run in order on the target branch, with unqualified object names.",
    )
    rationale: str = Field(min_length=1, description="Why these statements preserve both sides' intents.")
    preserved_intents: tuple[str, ...] = Field(
        description="The feature names (or agent ids) of the intents these statements preserve.",
    )
    confidence: float = Field(ge=0.0, le=1.0, description="How sure you are, from 0 to 1.")


class Exchange(BaseModel):
    """One earlier round of the conversation: what the resolver answered and what was wrong with it."""

    model_config = ConfigDict(frozen=True)

    response_text: str
    problem: str


class Answer(BaseModel):
    """One call to a resolver: the prompt's identity, the raw response and the proposal parsed from it (or why not)."""

    model_config = ConfigDict(frozen=True)

    resolver: str
    model: str
    prompt_hash: str
    response_text: str
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    proposal: Proposal | None = None
    error: str | None = None


class ConflictResolver(Protocol):
    """Proposes SQL for a conflict. Raises `ResolverUnavailable` when it cannot be asked at all."""

    @property
    def name(self) -> str: ...

    def propose(self, context: ConflictContext, history: Sequence[Exchange] = ()) -> Answer: ...


class ResolverSettings(BaseModel):
    """How the Anthropic resolver is configured (model, limits, where the key comes from)."""

    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL
    max_tokens: int = Field(default=4096, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    secret_block: str | None = None

    @classmethod
    def from_env(cls) -> ResolverSettings:
        """Settings from `PGGIT_LLM_MODEL` and `PGGIT_LLM_SECRET_BLOCK` (defaults otherwise)."""
        model = os.environ.get(MODEL_ENV, "").strip() or DEFAULT_MODEL
        block = os.environ.get(SECRET_BLOCK_ENV, "").strip() or None
        return cls(model=model, secret_block=block)


SYSTEM_PROMPT = """\
You resolve schema merge conflicts in PostgreSQL for pggit, a Git-like tool for database schemas.
Two branches changed the same object differently. "ours" is the target branch (its version of the
object is what the statements start from), "theirs" is the source branch being merged in, "base" is
the version both started from. The conflict's "paths" say what it is about: a whole object {"key"},
one column of a table {"key", "column"} or one table-level field {"key", "field"}; the definitions
are pggit snapshot values at those paths. The SQL each side ran is given when known, together with
the intents (descriptions) of the agents that made the changes.

Answer with SQL statements that, run in order on a copy of the target branch, leave the object as
both sides intended: every column, constraint or definition either side added or changed must end
up as that side made it. Rules:
- One complete statement per list item, no trailing semicolon, no transaction control (BEGIN,
  COMMIT, SAVEPOINT), no SET or RESET, no DO blocks, no data changes (INSERT, UPDATE, DELETE, COPY).
- Use unqualified object names: the statements run with the branch's schema on the search path.
- Change nothing but what the paths name; no helper objects, not even temporary ones.
- No CREATE TABLE ... AS and no materialized views.
- Never drop or narrow anything (DROP, DROP COLUMN, a smaller type, TRUNCATE) unless one side
  dropped it itself.
- If the intents cannot both be kept, say so in the rationale and give a low confidence.
"""


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def conflict_document(context: ConflictContext) -> dict[str, Any]:
    """The conflict as the JSON document the model reads (stable key order, no database handles)."""
    conflict = context.conflict
    return {
        "conflict": {
            "object_key": conflict.object_key,
            "object_type": conflict.object_type,
            "conflict_type": conflict.conflict_type.value,
            "severity": conflict.severity.value,
            "paths": [dict(p) for p in conflict.paths],
            "advice": conflict.advice,
        },
        "target_branch (ours)": conflict.target_branch,
        "source_branch (theirs)": conflict.source_branch,
        "base_definition": conflict.base_def,
        "ours_definition": conflict.ours_def,
        "theirs_definition": conflict.theirs_def,
        "ours_sql": conflict.branch_a_sql,
        "theirs_sql": conflict.branch_b_sql,
        "intents": [intent.model_dump(mode="json") for intent in context.intents],
        "related_objects_on_target": context.schema_objects,
    }


def build_messages(context: ConflictContext, history: Sequence[Exchange]) -> list[MessageParam]:
    """The conversation: the conflict, then for every earlier round its answer and what was wrong with it."""
    first = ("Resolve this conflict. The conflict, as JSON:\n"
             + json.dumps(conflict_document(context), indent=2, sort_keys=True, ensure_ascii=False, default=str))
    turns: list[tuple[Literal["user", "assistant"], str]] = [("user", first)]
    for exchange in history:
        problem = ("Your previous proposal was rejected by validation, nothing was applied:\n"
                   f"{exchange.problem}\nFix it and answer again.")
        if exchange.response_text.strip():
            turns.append(("assistant", exchange.response_text))
            turns.append(("user", problem))
        else:
            turns[-1] = ("user", turns[-1][1] + "\n\n" + problem)
    return [
        AssistantMessageParam(role="assistant", content=content) if role == "assistant"
        else UserMessageParam(role="user", content=content)
        for role, content in turns
    ]


def output_schema() -> dict[str, Any]:
    """The JSON schema the model's answer must follow (the `Proposal` model, in the API's strict dialect)."""
    return anthropic.transform_schema(Proposal)


def prompt_hash(model: str, system: str, messages: Sequence[MessageParam], schema: dict[str, Any]) -> str:
    """sha256 of the exact request content, recorded with the proposal so a reviewer can tie answer to prompt."""
    payload = {"model": model, "system": system, "messages": list(messages), "schema": schema}
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def parse_proposal(text: str) -> Proposal:
    """The `Proposal` in a response text; raises `ValueError` saying what is wrong with it."""
    try:
        return Proposal.model_validate_json(text)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'response'}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"the response is not a valid proposal: {problems}") from exc


def api_key_from(settings: ResolverSettings) -> str:
    """The Anthropic API key: $ANTHROPIC_API_KEY, else the Prefect Secret block named in the settings."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key:
        return key
    if settings.secret_block:
        return _key_from_block(settings.secret_block)
    raise ResolverUnavailable(
        "no Anthropic API key: the LLM resolver is unavailable, conflicts go to human review",
        hint=f"set {API_KEY_ENV}, or {SECRET_BLOCK_ENV} to the name of a Prefect Secret block holding the key",
    )


def _key_from_block(block_name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        loaded: object = Secret.load(block_name)
    except Exception as exc:  # a missing block (ValueError), an unreachable or failing Prefect API: all mean no key
        raise ResolverUnavailable(
            f"the Prefect Secret block {block_name!r} could not be loaded: {exc}",
            hint=f"create it (Secret(value=...).save({block_name!r})) or fix {SECRET_BLOCK_ENV}",
        ) from exc
    if not isinstance(loaded, Secret):
        raise ResolverUnavailable(
            f"the Prefect block {block_name!r} is not a Secret block",
            hint=f"store the key in a Secret block and name it in {SECRET_BLOCK_ENV}",
        )
    value: object = loaded.get()
    if not isinstance(value, str) or not value.strip():
        raise ResolverUnavailable(
            f"the Prefect Secret block {block_name!r} holds no API key",
            hint="store the key as a plain string in that block",
        )
    return value.strip()


class AnthropicResolver:
    """A `ConflictResolver` backed by the Anthropic Messages API with structured (JSON schema) output."""

    def __init__(
        self,
        settings: ResolverSettings | None = None,
        *,
        api_key: str | None = None,
        http_client: httpx2.Client | None = None,
        client: anthropic.Anthropic | None = None,
    ) -> None:
        self.settings = settings or ResolverSettings.from_env()
        if client is None:
            key = api_key or api_key_from(self.settings)
            client = anthropic.Anthropic(
                api_key=key,
                max_retries=self.settings.max_retries,
                timeout=self.settings.timeout_seconds,
                http_client=http_client,
            )
        self._client = client

    @property
    def name(self) -> str:
        return f"anthropic:{self.settings.model}"

    def propose(self, context: ConflictContext, history: Sequence[Exchange] = ()) -> Answer:
        """Ask the model once (the client retries rate limits and overloads with backoff)."""
        messages = build_messages(context, history)
        schema = output_schema()
        digest = prompt_hash(self.settings.model, SYSTEM_PROMPT, messages, schema)
        try:
            message = self._client.messages.create(
                model=self.settings.model,
                max_tokens=self.settings.max_tokens,
                system=SYSTEM_PROMPT,
                messages=messages,
                output_config={"format": {"type": "json_schema", "schema": schema}},
            )
        except anthropic.APIConnectionError as exc:
            raise ResolverUnavailable(
                f"the Anthropic API could not be reached: {exc}",
                hint="check the network and ANTHROPIC_BASE_URL; the conflict stays for human review",
            ) from exc
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
            raise ResolverUnavailable(
                f"the Anthropic API refused the key ({exc.status_code})",
                hint=f"check {API_KEY_ENV} or the Prefect Secret block",
            ) from exc
        except (anthropic.NotFoundError, anthropic.BadRequestError) as exc:
            raise ConfigError(
                f"the Anthropic API refused the request for model {self.settings.model!r}: {exc.message}",
                hint=f"set {MODEL_ENV} to a model id your key can use (e.g. {DEFAULT_MODEL})",
            ) from exc
        except anthropic.APIStatusError as exc:
            raise ResolverUnavailable(
                f"the Anthropic API kept failing ({exc.status_code}) after "
                f"{self.settings.max_retries} retries: {exc.message}",
                hint="try again later; the conflict stays for human review",
            ) from exc
        text = "".join(block.text for block in message.content if block.type == "text")
        answer = Answer(
            resolver=self.name,
            model=message.model or self.settings.model,
            prompt_hash=digest,
            response_text=text,
            stop_reason=message.stop_reason,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
        )
        if message.stop_reason == "refusal":
            return answer.model_copy(update={"error": "the model declined to answer"})
        if message.stop_reason == "max_tokens":
            return answer.model_copy(update={"error": "the answer was cut off at max_tokens; give a shorter answer"})
        try:
            proposal = parse_proposal(text)
        except ValueError as exc:
            return answer.model_copy(update={"error": str(exc)})
        return answer.model_copy(update={"proposal": proposal})
