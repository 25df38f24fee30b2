"""Changes made to main outside pggit (capture switched off by a superuser, GRANTs from another branch's session)
become a commit of their own by 'outside pggit', or are refused (on_drift = 'refuse'); they are never folded into
a merge commit."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.security.conftest import World


def _uncaptured(world: World, sql: str) -> None:
    world.admin.execute("ALTER EVENT TRIGGER pggit_capture_ddl DISABLE")
    try:
        world.admin.execute(sql)
    finally:
        world.admin.execute("ALTER EVENT TRIGGER pggit_capture_ddl ENABLE ALWAYS")


def _main_commits(world: World) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in world.admin.execute(
        "SELECT author, message FROM pggit.log('main') ORDER BY commit_id").fetchall()]


def test_uncaptured_change_becomes_its_own_commit_before_the_merge(world: World) -> None:
    _uncaptured(world, "CREATE TABLE hotfix (id int)")
    world.admin.execute("ALTER TABLE users ADD COLUMN captured int")  # captured: main's own next commit
    world.attacker.execute("ALTER TABLE users ADD COLUMN feature int")
    world.attacker.execute("SELECT pggit.commit('feature')")
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main', auto_resolve => true)").fetchone()
    assert merged is not None and merged[0]["result"] == "merged", merged
    assert merged[0]["drift"]["main"] == ["table:public.hotfix"]
    assert any("outside pggit" in n for n in merged[0]["notes"])
    commits = _main_commits(world)
    assert commits[-3:] == [("outside pggit", "Changes made outside pggit: table:public.hotfix"),
                            ("postgres", "Uncommitted changes of main before a merge"),
                            ("postgres", "Merge branch 'agent/attacker' into main")]
    # the outside commit holds the hotfix and not the captured column: each change is where it belongs
    docs = world.admin.execute(
        "SELECT s.doc FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id JOIN pggit.snapshots s "
        "ON s.hash = c.snapshot_hash WHERE b.name = 'main' ORDER BY c.id DESC LIMIT 3").fetchall()
    merge_doc, captured_doc, outside_doc = (d[0]["objects"] for d in docs)
    assert "table:public.hotfix" in outside_doc and "captured" not in outside_doc["table:public.users"]["columns"]
    assert "captured" in captured_doc["table:public.users"]["columns"]
    assert "feature" in merge_doc["table:public.users"]["columns"]


def test_grant_from_a_branch_session_is_recorded_as_drift(world: World) -> None:
    session = psycopg.connect(world.dsn, autocommit=True)
    try:
        session.execute("SELECT pggit.create_branch('agent/admin-work')")
        session.execute("SELECT pggit.checkout('agent/admin-work')")
        session.execute("GRANT SELECT ON public.users TO PUBLIC")  # names no object: PostgreSQL tells no trigger
    finally:
        session.close()
    world.attacker.execute("ALTER TABLE users ADD COLUMN feature int")
    world.attacker.execute("SELECT pggit.commit('feature')")
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert merged is not None and merged[0]["drift"]["main"] == ["table:public.users"]
    assert ("outside pggit", "Changes made outside pggit: table:public.users") in _main_commits(world)


def test_drift_can_be_refused(world: World) -> None:
    world.admin.execute("UPDATE pggit.settings SET value = '\"refuse\"' WHERE key = 'on_drift'")
    _uncaptured(world, "CREATE TABLE hotfix (id int)")
    world.attacker.execute("ALTER TABLE users ADD COLUMN feature int")
    world.attacker.execute("SELECT pggit.commit('feature')")
    with pytest.raises(psycopg.Error) as refused:
        world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')")
    assert refused.value.sqlstate == "PGG92"
    assert "table:public.hotfix" in str(refused.value)
    assert "pggit.record_drift" in (refused.value.diag.message_hint or "")
    # an agent may not record it; a merger does, then merges
    with pytest.raises(psycopg.Error) as denied:
        world.attacker.execute("SELECT pggit.record_drift('main')")
    assert denied.value.sqlstate == "PGG51"
    recorded = world.admin.execute("SELECT pggit.record_drift('main', 'the 2am hotfix')").fetchone()
    assert recorded is not None and recorded[0] is not None
    assert _main_commits(world)[-1] == ("outside pggit", "Changes made outside pggit: table:public.hotfix "
                                                         "(the 2am hotfix)")
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert merged is not None and merged[0]["result"] == "merged" and merged[0]["drift"]["main"] == []
    assert world.admin.execute("SELECT pggit.record_drift('main')").fetchone() == (None,)


def test_replication_role_replica_does_not_switch_capture_off(world: World) -> None:
    world.admin.execute("SET session_replication_role = replica")
    try:
        world.admin.execute("CREATE TABLE replica_made (id int)")
    finally:
        world.admin.execute("RESET session_replication_role")
    rows = world.admin.execute("SELECT command_tag FROM pggit.uncommitted('main')").fetchall()
    assert rows == [("CREATE TABLE",)]
