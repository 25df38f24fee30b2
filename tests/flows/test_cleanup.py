"""The cleanup flow: intents whose flow run ended are resumed (approved work) or abandoned; leaked branches go."""

from __future__ import annotations

import psycopg
import pytest
from prefect import flow

from flows.cleanup import cleanup
from pggit_core import service
from pggit_core.coordination import IntentRegistry

pytestmark = pytest.mark.flows


@flow(persist_result=False)
def crashing_agent() -> None:
    raise RuntimeError("the agent's process died (simulated by the test)")


def _branch_live(dsn: str, name: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pggit.branches WHERE name = %s AND status <> 'deleted'",
                            (name,)).fetchone() is not None


def test_cleanup_resumes_approved_work_abandons_the_rest_and_drops_leaked_branches(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY)")
        conn.execute("SELECT pggit.commit('base', 'test')")
    dead = crashing_agent(return_state=True)
    assert dead.is_failed()
    dead_run = str(dead.state_details.flow_run_id)

    stuck = service.register_intent(db, "agent-a", "stuck", ["ALTER TABLE users ADD COLUMN a TEXT"], ["users"],
                                    "low", flow_run_id=dead_run).intent
    service.start_work(db, stuck.id)

    approved = service.register_intent(db, "agent-b", "approved", ["CREATE TABLE b (id bigint PRIMARY KEY)"],
                                       ["b"], "low", flow_run_id=dead_run).intent
    service.start_work(db, approved.id)
    service.apply_changes(db, approved.id, ["CREATE TABLE b (id bigint PRIMARY KEY)"], "agent-b: approved")
    service.mark_pending_review(db, approved.id)
    service.record_approval(db, approved.id, "ana", "fine")

    unreviewed = service.register_intent(db, "agent-c", "unreviewed", ["CREATE TABLE c (id bigint PRIMARY KEY)"],
                                         ["c"], "low", flow_run_id=dead_run).intent
    service.start_work(db, unreviewed.id)
    service.apply_changes(db, unreviewed.id, ["CREATE TABLE c (id bigint PRIMARY KEY)"], "agent-c: unreviewed")

    leaked = service.register_intent(db, "agent-d", "leaked", ["CREATE TABLE d (id bigint PRIMARY KEY)"],
                                     ["d"], "low").intent
    with psycopg.connect(db, autocommit=True) as conn:
        IntentRegistry(conn).abandon(leaked.id, "abandoned by hand; its branch is left behind")
    assert _branch_live(db, leaked.branch_name)

    result = cleanup(dsn=db)

    assert service.get_intent(db, stuck.id).status == "abandoned"
    assert not _branch_live(db, stuck.branch_name)
    assert service.get_intent(db, approved.id).status == "merged"
    assert not _branch_live(db, approved.branch_name)
    assert service.get_intent(db, unreviewed.id).status == "abandoned"
    assert not _branch_live(db, leaked.branch_name)
    with psycopg.connect(db, autocommit=True) as conn:
        tables = {str(r[0]) for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
    assert tables == {"users", "b"}
    actions = {(a.subject.split(" (")[0], a.action) for a in result.actions}
    assert (f"intent {stuck.id}", "abandoned") in actions
    assert (f"intent {approved.id}", "resumed") in actions
    assert (f"intent {unreviewed.id}", "abandoned") in actions
    assert (f"branch {leaked.branch_name}", "dropped-branch") in actions

    assert cleanup(dsn=db).actions == ()  # nothing left to clean
