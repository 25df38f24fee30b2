"""The LLM resolution loop end to end: real merges, the real anthropic client on canned responses, real
validation on scratch branches. Each case ends in the right state and nothing unvalidated is applied."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pggit_core import proposal_check, resolution
from pggit_core.errors import ConfigError, IllegalTransition, InvalidInput
from pggit_core.resolution import ResolutionPolicy
from tests.db.resolution.llm_fakes import (
    FakeAPI,
    columns,
    conflict_row,
    merge,
    proposal,
    run_on,
    status,
    text_reply,
    timeout,
)

Conn = psycopg.Connection[Any]
ADD_THEIRS = "ALTER TABLE users ADD COLUMN search_preferences jsonb"


def no_scratch_left(conn: Conn) -> bool:
    row = conn.execute("SELECT count(*) FROM pggit.branches WHERE name LIKE 'scratch/%'").fetchone()
    schemas = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%scratch%'").fetchone()
    return row is not None and row[0] == 0 and schemas is not None and schemas[0] == 0


def test_good_proposal_on_a_warning_is_validated_applied_and_merges(users: Conn, warning_conflict: int) -> None:
    api = FakeAPI([proposal(ADD_THEIRS)])
    outcome = resolution.resolve(users, warning_conflict, api.resolver())
    assert outcome.status == "applied" and outcome.attempts == 1, outcome
    row = conflict_row(users, warning_conflict)
    assert row["resolved"] and row["resolution"] == "custom"
    assert row["custom_sql"] == ADD_THEIRS + ";"
    doc = row["proposal"]
    assert doc["status"] == "applied" and doc["approved_by"] == "policy:auto-warning"
    assert doc["accepted"]["model"] == "claude-test-1" and len(doc["accepted"]["prompt_hash"]) == 64
    assert doc["accepted"]["validation"]["ok"] is True
    assert doc["attempts"][0]["response_text"].startswith("{")
    # the resolver saw both intents
    prompt = api.requests[0]["messages"][0]["content"]
    assert "store search preferences per user" in prompt and "remember which OAuth provider" in prompt
    # main is untouched until the merge runs again, which applies the recorded resolution
    assert "search_preferences" not in columns(users)
    assert merge(users, "agent/search")["result"] == "merged"
    assert columns(users) == {"id": "integer", "email": "text", "oauth_provider": "text",
                              "search_preferences": "jsonb"}
    assert no_scratch_left(users)


def test_failing_sql_is_fed_back_and_the_retry_is_applied(users: Conn, warning_conflict: int) -> None:
    api = FakeAPI([proposal("ALTER TABLE users ADD COLUMN search_preferences jsonbb"), proposal(ADD_THEIRS)])
    outcome = resolution.resolve(users, warning_conflict, api.resolver())
    assert outcome.status == "applied" and outcome.attempts == 2
    first = conflict_row(users, warning_conflict)["proposal"]["attempts"][0]
    assert first["validation"]["ok"] is False
    assert "statement 1 failed" in first["validation"]["problems"][0]
    assert "42704" in first["validation"]["problems"][0]  # undefined_object: type "jsonbb" does not exist
    retry = api.requests[1]["messages"]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert "jsonbb" in retry[2]["content"]
    assert no_scratch_left(users)


def test_a_proposal_that_drops_a_column_is_never_applied(users: Conn, warning_conflict: int) -> None:
    dropping = proposal("ALTER TABLE users DROP COLUMN oauth_provider", ADD_THEIRS)
    api = FakeAPI([dropping, dropping, dropping])
    outcome = resolution.resolve(users, warning_conflict, api.resolver())
    assert outcome.status == "escalated" and outcome.attempts == 3
    row = conflict_row(users, warning_conflict)
    assert not row["resolved"] and row["custom_sql"] is None
    doc = row["proposal"]
    assert doc["status"] == "escalated" and "accepted" not in doc
    assert all("drops column users.oauth_provider" in a["validation"]["problems"][0] for a in doc["attempts"])
    assert columns(users)["oauth_provider"] == "text"
    assert merge(users, "agent/search")["result"] == "conflicts"


def test_malformed_json_escalates_after_the_bounded_retries(users: Conn, warning_conflict: int) -> None:
    api = FakeAPI([text_reply('{"statements": ["ALTER TABLE users'), text_reply("not json"),
                   text_reply('{"rationale": "x"}')])
    outcome = resolution.resolve(users, warning_conflict, api.resolver(), ResolutionPolicy(max_attempts=3))
    assert outcome.status == "escalated" and outcome.attempts == 3
    row = conflict_row(users, warning_conflict)
    assert not row["resolved"]
    attempts = row["proposal"]["attempts"]
    assert [a["proposal"] for a in attempts] == [None, None, None]
    assert all("not a valid proposal" in a["error"] for a in attempts)
    assert attempts[1]["response_text"] == "not json"


def test_rate_limit_is_retried_with_backoff(users: Conn, warning_conflict: int) -> None:
    api = FakeAPI([status(429, "rate_limit_error"), proposal(ADD_THEIRS)])
    outcome = resolution.resolve(users, warning_conflict, api.resolver(max_retries=2))
    assert outcome.status == "applied"
    assert len(api.requests) == 2


def test_timeout_leaves_the_conflict_for_a_human(users: Conn, warning_conflict: int) -> None:
    api = FakeAPI([timeout()])
    outcome = resolution.resolve(users, warning_conflict, api.resolver())
    assert outcome.status == "unavailable" and outcome.reason and "could not be reached" in outcome.reason
    row = conflict_row(users, warning_conflict)
    assert not row["resolved"] and row["proposal"]["status"] == "unavailable"


def test_without_a_resolver_every_open_conflict_goes_to_human_review(users: Conn, warning_conflict: int) -> None:
    outcomes = resolution.resolve_all(users, "agent/search", "main", None,
                                      unavailable_reason="no Anthropic API key")
    assert [(o.conflict_id, o.status, o.reason) for o in outcomes] == [
        (warning_conflict, "unavailable", "no Anthropic API key")]
    assert not conflict_row(users, warning_conflict)["resolved"]


def test_error_conflicts_wait_for_approval_then_apply(users: Conn, error_conflict: int) -> None:
    api = FakeAPI([proposal("ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")])
    outcome = resolution.resolve(users, error_conflict, api.resolver())
    assert outcome.status == "awaiting_approval"
    assert outcome.reason is not None and "ERROR conflicts wait for human approval" in outcome.reason
    assert not conflict_row(users, error_conflict)["resolved"]
    approved = resolution.approve_proposal(users, error_conflict, "alice")
    assert approved.status == "applied"
    row = conflict_row(users, error_conflict)
    assert row["resolved"] and row["proposal"]["approved_by"] == "alice"
    assert "approved by alice" in row["notes"]
    assert resolution.approve_proposal(users, error_conflict, "bob").status == "already_resolved"
    assert merge(users, "agent/search")["result"] == "merged"
    assert columns(users)["email"] == "character varying(320)"


def test_error_conflicts_apply_automatically_only_when_configured(users: Conn, error_conflict: int) -> None:
    api = FakeAPI([proposal("ALTER TABLE users ALTER COLUMN email TYPE varchar(320)", confidence=0.3),
                   proposal("ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")])
    policy = ResolutionPolicy(auto_apply=frozenset({"WARNING", "ERROR"}), min_confidence=0.5)
    low = resolution.resolve(users, error_conflict, api.resolver(), policy)
    assert low.status == "awaiting_approval" and low.reason is not None and "confidence 0.30" in low.reason
    assert resolution.resolve(users, error_conflict, api.resolver(), policy).status == "applied"


def test_approval_revalidates_and_refuses_a_stale_proposal(users: Conn, error_conflict: int) -> None:
    api = FakeAPI([proposal("ALTER TABLE users ALTER COLUMN email TYPE varchar(320)")])
    assert resolution.resolve(users, error_conflict, api.resolver()).status == "awaiting_approval"
    users.execute("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")  # main moves on
    with pytest.raises(IllegalTransition, match="no longer validates"):
        resolution.approve_proposal(users, error_conflict, "alice")
    row = conflict_row(users, error_conflict)
    assert not row["resolved"] and row["proposal"]["status"] == "escalated"


def test_approving_without_a_validated_proposal_or_approver_is_refused(users: Conn, warning_conflict: int) -> None:
    with pytest.raises(IllegalTransition, match="no validated proposal"):
        resolution.approve_proposal(users, warning_conflict, "alice")
    with pytest.raises(InvalidInput, match="approver"):
        resolution.approve_proposal(users, warning_conflict, "  ")


def test_qualified_names_cannot_reach_past_the_scratch_branch(users: Conn, warning_conflict: int) -> None:
    context, _ = resolution.load_context(users, warning_conflict)
    check = proposal_check.check(users, context, ["ALTER TABLE public.users ADD COLUMN search_preferences jsonb"])
    assert not check.ok
    assert "search_preferences" not in columns(users)


def test_a_proposal_touching_other_objects_is_refused(users: Conn, warning_conflict: int) -> None:
    context, _ = resolution.load_context(users, warning_conflict)
    check = proposal_check.check(users, context, [ADD_THEIRS, "CREATE TABLE audit (id integer)"])
    assert not check.ok and check.problems == (
        "table:public.audit changed (created) but only table:public.users may change",)
    check = proposal_check.check(users, context, [ADD_THEIRS, "ALTER TABLE users ALTER COLUMN email SET NOT NULL"])
    assert not check.ok and "changed outside the conflicting" in check.problems[0]
    check = proposal_check.check(users, context, ["ALTER TABLE users ADD COLUMN search_preferences json"])
    assert not check.ok and 'theirs (the source) changed it to "jsonb"' in check.problems[0]
    assert no_scratch_left(users)
    assert "search_preferences" not in columns(users) and "audit" not in {
        str(r[0]) for r in users.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_validation_runs_inside_the_callers_transaction_and_leaves_nothing(users: Conn,
                                                                           warning_conflict: int) -> None:
    context, _ = resolution.load_context(users, warning_conflict)
    before = users.execute("SELECT count(*) FROM pggit.branches").fetchone()
    with users.transaction():
        check = proposal_check.check(users, context, [ADD_THEIRS])
        assert check.ok and check.changed_objects == ("table:public.users",)
        inside = users.execute("SELECT count(*) FROM pggit.branches").fetchone()
    assert before == inside == users.execute("SELECT count(*) FROM pggit.branches").fetchone()
    search_path = users.execute("SHOW search_path").fetchone()
    assert search_path is not None and "scratch" not in str(search_path[0])
    assert no_scratch_left(users)


def test_statements_outside_the_policy_never_reach_the_database(users: Conn, warning_conflict: int) -> None:
    context, _ = resolution.load_context(users, warning_conflict)
    for bad in ("DROP TABLE users CASCADE", "INSERT INTO users VALUES (1, 'x')", "CREATE ROLE intruder",
                "ALTER TABLE pggit.conflicts ADD COLUMN x integer"):
        check = proposal_check.check(users, context, [bad])
        assert not check.ok, bad
    assert columns(users)["email"] == "text"
    row = users.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'").fetchone()
    assert row is not None and row[0] == 0


def test_a_resolved_conflict_is_not_asked_about(users: Conn, warning_conflict: int) -> None:
    users.execute("SELECT pggit.resolve_conflict(%s, 'ours')", (warning_conflict,))
    api = FakeAPI([])
    assert resolution.resolve(users, warning_conflict, api.resolver()).status == "already_resolved"
    assert api.requests == []


def test_target_moved_since_the_merge_is_stale_and_not_retried(users: Conn, warning_conflict: int) -> None:
    run_on(users, "agent/search", "ALTER TABLE users ADD COLUMN search_rank integer")
    api = FakeAPI([proposal(ADD_THEIRS)])
    outcome = resolution.resolve(users, warning_conflict, api.resolver())
    assert outcome.status == "stale" and len(api.requests) == 1
    assert not conflict_row(users, warning_conflict)["resolved"]


def test_sampled_rows_catch_a_cast_the_data_does_not_fit(users: Conn, error_conflict: int) -> None:
    users.execute("INSERT INTO users (id, email) VALUES (1, %s)", ("x" * 400 + "@example.com",))
    context, _ = resolution.load_context(users, error_conflict)
    widen = ["ALTER TABLE users ALTER COLUMN email TYPE varchar(320)"]
    assert proposal_check.check(users, context, widen).ok  # schema only: the long value is not there
    sampled = proposal_check.check(users, context, widen, sample_rows=100)
    assert not sampled.ok and "[22001]" in sampled.problems[0]  # string_data_right_truncation
    row = users.execute("SELECT length(email) FROM users WHERE id = 1").fetchone()
    assert row is not None and row[0] == 412
    assert no_scratch_left(users)


def test_function_redefined_on_both_sides_needs_a_person_to_choose(users: Conn) -> None:
    users.execute("CREATE FUNCTION fee(amount numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT amount * 0.01 $$")
    users.execute("SELECT pggit.commit('fee')")
    users.execute("SELECT pggit.create_branch('agent/fees-a', 'main')")
    users.execute("SELECT pggit.create_branch('agent/fees-b', 'main')")
    run_on(users, "agent/fees-a",
           "CREATE OR REPLACE FUNCTION fee(amount numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT amount * 0.02 $$")
    assert merge(users, "agent/fees-a")["result"] == "merged"
    run_on(users, "agent/fees-b",
           "CREATE OR REPLACE FUNCTION fee(amount numeric) RETURNS numeric LANGUAGE sql"
           " AS $$ SELECT greatest(amount * 0.01, 0.30) $$")
    result = merge(users, "agent/fees-b")
    (conflict,) = result["conflicts"]
    assert conflict["object_key"] == "function:public.fee(numeric)"
    combined = ("CREATE OR REPLACE FUNCTION fee(amount numeric) RETURNS numeric LANGUAGE sql"
                " AS $$ SELECT greatest(amount * 0.02, 0.30) $$")
    api = FakeAPI([proposal(combined)])
    policy = ResolutionPolicy(auto_apply=frozenset({"WARNING", "ERROR"}))
    outcome = resolution.resolve(users, int(conflict["id"]), api.resolver(), policy)
    assert outcome.status == "awaiting_approval"
    assert outcome.reason is not None and "a person must choose" in outcome.reason and "body" in outcome.reason
    assert resolution.approve_proposal(users, int(conflict["id"]), "carol").status == "applied"
    assert merge(users, "agent/fees-b")["result"] == "merged"
    row = users.execute("SELECT fee(100)").fetchone()
    assert row is not None and float(row[0]) == 2.0


def test_both_added_indexes_keep_both(users: Conn) -> None:
    run_on(users, "agent/auth", "CREATE INDEX users_email_a ON users (email)")
    assert merge(users, "agent/auth")["result"] == "merged"
    run_on(users, "agent/search", "CREATE INDEX users_email_b ON users (email)")
    result = merge(users, "agent/search")
    (conflict,) = result["conflicts"]
    assert conflict["severity"] == "WARNING" and len(conflict["paths"]) == 2
    context, _ = resolution.load_context(users, int(conflict["id"]))
    dropped_ours = proposal_check.check(users, context, ["DROP INDEX users_email_a",
                                                         "CREATE INDEX users_email_b ON users (email)"])
    assert not dropped_ours.ok and any("index:public.users_email_a" in p for p in dropped_ours.problems)
    api = FakeAPI([proposal("CREATE INDEX users_email_b ON users (email)")])
    assert resolution.resolve(users, int(conflict["id"]), api.resolver()).status == "applied"
    assert merge(users, "agent/search")["result"] == "merged"
    indexes = {str(r[0]) for r in users.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")}
    assert {"users_email_a", "users_email_b"} <= indexes


def test_an_unknown_model_is_a_config_error_and_is_recorded(users: Conn, warning_conflict: int) -> None:
    api = FakeAPI([status(404, "not_found_error")])
    with pytest.raises(ConfigError, match="PGGIT_LLM_MODEL"):
        resolution.resolve(users, warning_conflict, api.resolver())
    row = conflict_row(users, warning_conflict)
    assert not row["resolved"] and row["proposal"]["status"] == "unavailable"
