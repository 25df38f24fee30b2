"""Review approvals are rows of pggit.intent_approvals written by pggit._intent_approve only: an agent cannot
write them, cannot approve another agent's intent, and cannot make its intent approved by writing the old
audit text. Approving its own intent is what any status change of it is (its agent or a merger may), and the
row says which role recorded it."""

from __future__ import annotations

import psycopg
import pytest

from pggit_core import service
from pggit_core.coordination import IntentRegistry
from tests.db.security.conftest import World


def _waiting_for_review(world: World) -> int:
    registry = IntentRegistry(world.victim, create_branches=False)
    intent = registry.register("victim", "feature", ["ALTER TABLE users ADD COLUMN reviewed_col int"], ["users"],
                               "low")
    registry.mark_pending_review(intent.id, "waiting for a review")
    return intent.id


def test_an_agent_cannot_approve_another_agents_intent(world: World) -> None:
    intent_id = _waiting_for_review(world)
    with pytest.raises(psycopg.Error) as refused:
        world.attacker.execute("SELECT pggit._intent_approve(%s, 'attacker', 'fine')", (intent_id,))
    assert refused.value.sqlstate == "PGG51"
    assert IntentRegistry(world.admin).approval(intent_id) is None
    assert IntentRegistry(world.admin).get(intent_id).status == "pending_review"


@pytest.mark.parametrize("sql", [
    "INSERT INTO pggit.intent_approvals (intent_id, reviewer, approved_by, event_id) "
    "SELECT {id}, 'ana', 'ana', max(id) FROM pggit.intent_events",
    "UPDATE pggit.intent_approvals SET reviewer = 'attacker'",
    "DELETE FROM pggit.intent_approvals",
])
def test_approvals_are_not_writable(world: World, sql: str) -> None:
    intent_id = _waiting_for_review(world)
    IntentRegistry(world.admin).approve(intent_id, "ana", "fine")
    for who in (world.attacker, world.victim):
        with pytest.raises(psycopg.Error) as refused:
            who.execute(sql.format(id=intent_id).encode())
        assert refused.value.sqlstate == "42501"
    approval = IntentRegistry(world.admin).approval(intent_id)
    assert approval is not None and (approval.reviewer, approval.approved_by) == ("ana", "postgres")


def test_the_old_audit_text_does_not_approve(world: World, db: str) -> None:
    """Writing 'review approved by ...' as the reason of pending_review -> completed once counted as an approval."""
    intent_id = _waiting_for_review(world)
    world.victim.execute("SELECT set_config('pggit.reason', 'review approved by ana: fine', false)")
    world.victim.execute("UPDATE pggit_agent_intents SET status = 'completed' WHERE id = %s", (intent_id,))
    assert IntentRegistry(world.admin).get(intent_id).status == "completed"
    assert IntentRegistry(world.admin).approval(intent_id) is None
    assert not service.get_intent(db, intent_id).approved


def test_an_approval_records_the_role_that_made_it(world: World) -> None:
    """As for every status change of its intent, its agent may approve it; the approval says it did."""
    intent_id = _waiting_for_review(world)
    approval = IntentRegistry(world.victim).approve(intent_id, "victim", "my own review")
    assert (approval.reviewer, approval.comment, approval.approved_by) == ("victim", "my own review", "victim")
    history = IntentRegistry(world.admin).history(intent_id)
    assert (history[-1]["from_status"], history[-1]["to_status"], history[-1]["actor"], history[-1]["reason"]) == (
        "pending_review", "completed", "victim", "review approved by victim: my own review")
