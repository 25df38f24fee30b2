"""Every service call that writes is safe to make again after it committed (a task retried after its commit,
its answer lost): nothing is done twice, nothing fails, and the answer is the first one's."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pggit_core import service
from pggit_core.errors import AlreadyExists, IllegalTransition, NotFound

RUN = "6f1c1f7e-0000-4000-8000-000000000001"
ADD_A = ["ALTER TABLE users ADD COLUMN a text"]


def _one(dsn: str, query: str, *params: object) -> Any:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def users(db: str) -> str:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")
        conn.execute("SELECT pggit.commit('users', 'test')")
    return db


def test_registering_again_from_the_same_flow_run_returns_the_same_intent(users: str) -> None:
    first = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN)
    again = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN)
    assert again == first
    assert first.intent.flow_run_id == RUN
    assert _one(users, "SELECT count(*) FROM pggit.intents") == 1
    assert _one(users, "SELECT count(*) FROM pggit.branches WHERE status <> 'deleted' AND name <> 'main'") == 1
    assert _one(users, "SELECT count(*) FROM pggit.intent_events WHERE intent_id = %s", first.intent.id) == 1


def test_registering_again_without_or_from_another_run_is_still_a_duplicate(users: str) -> None:
    service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN)
    with pytest.raises(AlreadyExists):
        service.register_intent(users, "claude", "a", ADD_A, ["users"], "low")
    with pytest.raises(AlreadyExists):
        service.register_intent(users, "claude", "a", ADD_A, ["users"], "low",
                                flow_run_id="6f1c1f7e-0000-4000-8000-000000000002")
    with pytest.raises(AlreadyExists):  # the same run asking for another change under the same name
        service.register_intent(users, "claude", "a", ["ALTER TABLE users ADD COLUMN b text"], ["users"], "low",
                                flow_run_id=RUN)
    assert _one(users, "SELECT count(*) FROM pggit.intents") == 1


def test_the_conflicts_of_a_replayed_registration_are_the_first_ones(users: str) -> None:
    service.register_intent(users, "gpt", "b", ["ALTER TABLE users ADD COLUMN b text"], ["users"], "low")
    first = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN)
    assert first.conflicts
    assert service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN) == first
    assert _one(users, "SELECT count(*) FROM pggit.intent_conflicts") == len(first.conflicts)


def test_the_work_of_an_intent_is_applied_and_committed_once(users: str) -> None:
    intent = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN).intent
    service.start_work(users, intent.id)
    service.start_work(users, intent.id)
    first = service.apply_changes(users, intent.id, ADD_A, "claude: a")
    again = service.apply_changes(users, intent.id, ADD_A, "claude: a")
    assert again == first and first.commit_id is not None
    assert _one(users, "SELECT count(*) FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id "
                       "WHERE b.name = %s", intent.branch_name) == 1
    assert _one(users, "SELECT count(*) FROM pggit.intent_events WHERE intent_id = %s AND to_status = 'completed'",
                intent.id) == 1
    assert service.get_intent(users, intent.id).status == "completed"


def test_a_failing_statement_leaves_the_branch_and_the_intent_as_they_were(users: str) -> None:
    intent = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low").intent
    service.start_work(users, intent.id)
    with pytest.raises(Exception, match="statement 2 failed"):
        service.apply_changes(users, intent.id, [*ADD_A, "ALTER TABLE nope ADD COLUMN x int"], "claude: a")
    assert service.get_intent(users, intent.id).status == "in_progress"
    assert _one(users, "SELECT count(*) FROM pggit.ddl_log l JOIN pggit.branches b ON b.id = l.branch_id "
                       "WHERE b.name = %s", intent.branch_name) == 0
    done = service.apply_changes(users, intent.id, ADD_A, "claude: a")  # and the fixed work goes through
    assert done.statements_applied == 1


def test_review_approval_merge_and_finish_are_retry_safe(users: str) -> None:
    intent = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN).intent
    service.start_work(users, intent.id)
    service.apply_changes(users, intent.id, ADD_A, "claude: a")
    service.mark_pending_review(users, intent.id)
    assert service.mark_pending_review(users, intent.id).status == "pending_review"
    approved = service.record_approval(users, intent.id, "ana", "looks right")
    assert service.record_approval(users, intent.id, "ana", "looks right") == approved
    assert approved.approved and approved.status == "completed"
    assert _one(users, "SELECT count(*) FROM pggit.intent_approvals") == 1
    with pytest.raises(IllegalTransition):  # another decision is not a retry: the intent no longer waits
        service.record_approval(users, intent.id, "bob", "me too")

    merged = service.merge_intent(users, intent.id, auto_resolve=False)
    assert merged.merged and merged.merge_id is not None and merged.statements_applied == 1
    assert service.merge_intent(users, intent.id, auto_resolve=False) == merged
    assert _one(users, "SELECT count(*) FROM pggit.merges") == 1
    finished = service.finish_intent(users, intent.id)
    assert service.finish_intent(users, intent.id) == finished
    assert finished.status == "merged"


def test_acknowledging_again_returns_the_same_conflicts(users: str) -> None:
    service.register_intent(users, "gpt", "b", ["ALTER TABLE users ADD COLUMN b text"], ["users"], "low")
    second = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low")
    first = service.acknowledge_conflicts(users, second.intent.id, "apply b first")
    assert first and service.acknowledge_conflicts(users, second.intent.id, "apply b first") == first
    assert _one(users, "SELECT count(*) FROM pggit.intent_conflicts WHERE NOT reviewed") == 0


def test_abandon_and_drop_branch_are_retry_safe(users: str) -> None:
    intent = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low").intent
    gone = service.abandon_intent(users, intent.id, "not needed")
    assert service.abandon_intent(users, intent.id, "not needed") == gone
    other = service.register_intent(users, "claude", "b", ["ALTER TABLE users ADD COLUMN b text"], ["users"],
                                    "low").intent
    assert service.drop_branch(users, other.branch_name) == other.branch_name
    assert service.drop_branch(users, other.branch_name) == other.branch_name
    with pytest.raises(NotFound):
        service.drop_branch(users, "agent/never-made")


def test_settling_a_failed_run_twice_changes_nothing_more(users: str) -> None:
    intent = service.register_intent(users, "claude", "a", ADD_A, ["users"], "low", flow_run_id=RUN).intent
    service.start_work(users, intent.id)
    settled = service.settle_failed_run(users, RUN, "the run crashed")
    assert [(i.id, i.status) for i in settled] == [(intent.id, "abandoned")]
    assert service.settle_failed_run(users, RUN, "the run crashed") == ()
    assert _one(users, "SELECT count(*) FROM pggit.intent_events WHERE intent_id = %s AND to_status = 'abandoned'",
                intent.id) == 1
