"""The attacks an agent (or a careless superuser on a branch) can try, as a case table. Each runs as the agent's
own role (pggit.add_agent), checked out to its own branch; then main's catalog and rows, the other agent's
branch, the event triggers and the roles are checked from the admin's connection."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.security.conftest import World


def email_conflict(world: World, agent: str = "attacker") -> int:
    """main and the agent's branch both change users.email's type: merging the branch stops on that conflict."""
    world.admin.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(200)")
    world.admin.execute("SELECT pggit.commit('email 200')")
    conn = world.attacker if agent == "attacker" else world.victim
    conn.execute("ALTER TABLE users ALTER COLUMN email TYPE varchar(300)")
    conn.execute("SELECT pggit.commit('email 300')")
    stopped = world.admin.execute("SELECT pggit.merge(%s, 'main')", (f"agent/{agent}",)).fetchone()
    assert stopped is not None and stopped[0]["result"] == "conflicts", stopped
    return int(stopped[0]["conflicts"][0]["id"])


# (case id, what the agent sends as one message). Every one must fail and change nothing.
REFUSED = [
    ("truncate-main", "TRUNCATE public.orders"),
    ("delete-main", "DELETE FROM public.orders"),
    ("update-main", "UPDATE public.users SET email = 'x'"),
    ("insert-main", "INSERT INTO public.users (email) VALUES ('x')"),
    ("copy-into-main", "COPY public.users (email) FROM PROGRAM 'echo x'"),
    ("ddl-on-main", "ALTER TABLE public.users DROP COLUMN name"),
    ("create-on-main", "CREATE TABLE public.evil (x int)"),
    ("do-block-on-main", "DO $$ BEGIN EXECUTE 'DROP TABLE public.orders CASCADE'; END $$"),
    ("internal-on", "SET pggit.internal = 'on'; ALTER TABLE public.users DROP COLUMN name"),
    ("internal-capture", "SET pggit.internal = 'capture'; ALTER TABLE public.users DROP COLUMN name"),
    ("branch-setting", "SET pggit.branch = ''; ALTER TABLE public.users DROP COLUMN name"),
    ("rule-on-main", "CREATE RULE r AS ON INSERT TO public.orders DO INSTEAD NOTHING"),
    ("set-schema", "ALTER TABLE public.orders SET SCHEMA {attacker_schema}"),
    ("rename-main-schema", "ALTER SCHEMA public RENAME TO gone"),
    ("rename-own-schema", "ALTER SCHEMA {attacker_schema} RENAME TO gone"),
    ("drop-own-schema", "DROP SCHEMA {attacker_schema} CASCADE"),
    ("disable-event-trigger", "ALTER EVENT TRIGGER pggit_capture_ddl DISABLE"),
    ("replication-role", "SET session_replication_role = replica"),
    ("become-superuser", "ALTER ROLE attacker SUPERUSER"),
    ("grant-merger-to-self", "GRANT pggit_merger TO attacker"),
    ("write-victim-branch", "INSERT INTO {victim_schema}.users (email) VALUES ('x')"),
    ("alter-victim-branch", "ALTER TABLE {victim_schema}.users DROP COLUMN victim_work"),
    ("checkout-victim-branch", "SELECT pggit.checkout('agent/victim')"),
    ("delete-victim-branch", "SELECT pggit.delete_branch('agent/victim', true)"),
    ("merge-victim-branch", "SELECT pggit.merge('agent/victim', 'agent/attacker')"),
    ("branch-for-victim", "SELECT pggit.create_branch('agent/fake', owner => 'victim')"),
    ("edit-branches", "UPDATE pggit.branches SET status = 'deleted' WHERE name = 'agent/victim'"),
    ("edit-commits", "INSERT INTO pggit.commits (branch_id, message, snapshot_hash) VALUES (1, 'x', 'y')"),
    ("edit-ddl-log", "DELETE FROM pggit.ddl_log"),
    ("edit-conflicts", "UPDATE pggit.conflicts SET custom_sql = 'DELETE FROM orders'"),
    ("edit-sessions", "DELETE FROM pggit.sessions"),
    ("read-passwords", "SELECT password FROM pggit.agents"),
    ("operations", "SELECT pggit._op_begin(1, 'merge')"),
    ("record-commit", "SELECT pggit._record_commit(1, 'forged', 'alice')"),
    ("forge-author", "SELECT pggit.commit('forged', 'alice')"),
    ("merge-into-main", "SELECT pggit.merge('agent/attacker', 'main')"),
    ("record-drift", "SELECT pggit.record_drift('main')"),
    ("add-agent", "SELECT pggit.add_agent('mallory', merger => true)"),
    ("remove-agent", "SELECT pggit.remove_agent('victim', force => true)"),
    ("intent-for-victim", "SELECT pggit._intent_record('{{\"agent\": \"victim\", \"feature\": \"f\", "
                          "\"branch\": \"agent/x\", \"risk\": \"low\"}}')"),
]


@pytest.mark.parametrize(("case", "sql"), REFUSED, ids=[c for c, _ in REFUSED])
def test_agent_attack_is_refused(world: World, case: str, sql: str) -> None:
    text = sql.format(attacker_schema=f'"{world.attacker_schema}"', victim_schema=f'"{world.victim_schema}"')
    with pytest.raises(psycopg.Error) as refused:
        world.attacker.execute(text.encode())
    assert refused.value.sqlstate in {"42501", "PGG50", "PGG51", "3F000"}, (case, refused.value.sqlstate,
                                                                             str(refused.value))
    world.assert_untouched()
    # what the agent was refused is not in any branch's history either
    assert world.admin.execute("SELECT count(*) FROM pggit.ddl_log WHERE role_name = 'attacker'").fetchone() == (0,)


def test_grant_on_main_changes_nothing(world: World) -> None:
    """PostgreSQL answers a GRANT the agent may not make with a warning and grants nothing."""
    before = world.admin.execute("SELECT relacl FROM pg_class WHERE oid = 'public.users'::regclass").fetchone()
    world.attacker.execute("GRANT SELECT ON public.users TO PUBLIC")
    after = world.admin.execute("SELECT relacl FROM pg_class WHERE oid = 'public.users'::regclass").fetchone()
    assert before == after
    world.assert_untouched()


def test_status_and_locks_of_another_agent_are_out_of_reach(world: World) -> None:
    """The seed's SQL on pggit_agent_intents and pggit_table_locks works for an agent's own rows only."""
    world.admin.execute("INSERT INTO pggit.table_locks (table_name, agent_id) VALUES ('users', 'victim')")
    world.victim.execute("UPDATE pggit_agent_intents SET status = 'in_progress' WHERE id = -1")
    changed = world.attacker.execute("DELETE FROM pggit_table_locks WHERE agent_id = 'victim'")
    assert changed.rowcount == 0
    with pytest.raises(psycopg.Error) as refused:
        world.attacker.execute("INSERT INTO pggit_table_locks (agent_id, table_name) VALUES ('victim', 'orders')")
    assert refused.value.sqlstate == "42501"
    mine = world.attacker.execute("INSERT INTO pggit_table_locks (agent_id, table_name, locked_at) "
                                  "VALUES ('attacker', 'orders', now()) ON CONFLICT (table_name) DO NOTHING "
                                  "RETURNING *").fetchall()
    assert len(mine) == 1
    assert world.admin.execute("SELECT agent_id FROM pggit.table_locks ORDER BY table_name").fetchall() == [
        ("attacker",), ("victim",)]


def test_merge_replays_schema_changes_only(world: World) -> None:
    """The message mixes DDL with a delete and a backfill: on the branch all of it ran (on the branch's own,
    empty copies); the merge brings main the column and nothing else."""
    warnings: list[str] = []
    world.attacker.add_notice_handler(lambda d: warnings.append(d.message_primary or ""))
    world.attacker.execute("ALTER TABLE users ADD COLUMN a int; DELETE FROM orders; UPDATE users SET email = 'x';")
    assert any("only the DDL" in w for w in warnings)
    world.attacker.execute("INSERT INTO users (email) VALUES ('branch@example.com')")
    with world.attacker.cursor().copy("COPY users (email) FROM STDIN") as copy:
        copy.write_row(("copied@example.com",))
    world.attacker.execute("CREATE FUNCTION touch() RETURNS int LANGUAGE sql AS $$ UPDATE users SET name = 'y' "
                           "RETURNING 1 $$; SELECT touch();")
    world.attacker.execute("DO $$ BEGIN UPDATE users SET name = 'z'; END $$")
    world.attacker.execute("SELECT pggit.commit('a column, and data changes that stay here')")
    log = world.admin.execute("SELECT statements FROM pggit.log('agent/attacker', 1)").fetchone()
    assert log == (["ALTER TABLE users ADD COLUMN a int",
                    "CREATE FUNCTION touch() RETURNS int LANGUAGE sql AS $$ UPDATE users SET name = 'y' "
                    "RETURNING 1 $$"],)
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert merged is not None and merged[0]["result"] == "merged", merged
    assert world.rows() == world.rows_before
    columns = world.admin.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'public.users'::regclass "
                                  "AND attnum > 0 AND NOT attisdropped ORDER BY attnum").fetchall()
    assert [c[0] for c in columns] == ["id", "email", "name", "a"]
    assert merged[0]["statements"] == log[0]


def test_forged_statement_text_never_reaches_main(world: World) -> None:
    """pggit.statement once named the text a merge replayed: now it is ignored, so the role grant it names
    never runs, not even when a superuser merges."""
    world.attacker.execute("SET pggit.statement = 'CREATE TABLE t1 (x int); ALTER ROLE attacker SUPERUSER'; "
                           "CREATE TABLE t1 (x int)")
    world.attacker.execute("SELECT pggit.commit('t1')")
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert merged is not None and merged[0]["result"] == "merged"
    assert merged[0]["statements"] == ["CREATE TABLE t1 (x int)"]
    assert world.admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'attacker'").fetchone() == (False,)


def test_agent_commits_as_itself_only(world: World) -> None:
    world.attacker.execute("ALTER TABLE users ADD COLUMN mine int")
    made = world.attacker.execute("SELECT pggit.commit('mine')").fetchone()
    assert made is not None
    author = world.admin.execute("SELECT author, committed_by FROM pggit.commits WHERE id = %s", made).fetchone()
    assert author == ("attacker", "attacker")
    # naming itself is allowed; a merger may name anyone
    world.attacker.execute("SELECT pggit.commit('again', 'attacker')")
    world.admin.execute("SELECT pggit.checkout('agent/attacker')")
    world.admin.execute("SELECT pggit.commit('on behalf', 'claude')")
    assert world.admin.execute("SELECT c.author, c.committed_by FROM pggit.log('agent/attacker', 1) l "
                               "JOIN pggit.commits c ON c.id = l.commit_id").fetchone() == ("claude", "postgres")


def test_a_forged_branch_setting_commits_nowhere_but_the_sessions_branch(world: World) -> None:
    """set_config('pggit.branch', '') once put the session on main for pggit.commit: now the commit lands on
    the branch the session checked out, and main's history does not move."""
    main_head = world.admin.execute("SELECT head_commit_id FROM pggit.branches WHERE name = 'main'").fetchone()
    made = world.attacker.execute("SELECT set_config('pggit.branch', '', false), pggit.commit('forged')").fetchone()
    assert made is not None
    assert world.admin.execute("SELECT b.name FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id "
                               "WHERE c.id = %s", (made[1],)).fetchone() == ("agent/attacker",)
    assert world.admin.execute("SELECT head_commit_id FROM pggit.branches WHERE name = 'main'").fetchone() == main_head
    world.assert_untouched()


def test_custom_resolution_carrying_data_changes_is_refused_on_every_face(world: World) -> None:
    conflict_id = email_conflict(world)
    for who in (world.attacker, world.admin):
        for sql in ("ALTER TABLE users ALTER COLUMN email TYPE text; DELETE FROM orders",
                    "ALTER TABLE users ALTER COLUMN email TYPE text; COPY orders FROM STDIN",
                    "DO $$ BEGIN DELETE FROM orders; END $$",
                    "ALTER TABLE users ALTER COLUMN email TYPE text; ALTER ROLE attacker SUPERUSER",
                    "ALTER TABLE users ALTER COLUMN email TYPE text; SELECT pg_sleep(0)",
                    "ALTER TABLE orders DROP COLUMN total",
                    "ALTER TABLE users DROP COLUMN name"):
            with pytest.raises(psycopg.Error) as refused:
                who.execute("SELECT pggit.resolve_conflict(%s, 'custom', %s)", (conflict_id, sql))
            assert refused.value.sqlstate == "PGG60", (sql, str(refused.value))
    # force is a merger's, and is recorded
    with pytest.raises(psycopg.Error) as refused:
        world.attacker.execute("SELECT pggit.resolve_conflict(%s, 'custom', 'DELETE FROM orders', force => true)",
                               (conflict_id,))
    assert refused.value.sqlstate == "PGG51"
    assert world.admin.execute("SELECT resolved FROM pggit.conflicts WHERE id = %s", (conflict_id,)).fetchone() == (
        False,)
    world.attacker.execute("SELECT pggit.resolve_conflict(%s, 'custom', 'ALTER TABLE users ALTER COLUMN email TYPE "
                           "varchar(400)')", (conflict_id,))
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert merged is not None and merged[0]["result"] == "merged", merged
    assert world.rows() == world.rows_before


def test_a_tampered_resolution_is_checked_again_at_merge(world: World) -> None:
    """Even a resolution row changed behind pggit's back (a superuser's UPDATE) passes the checks again when
    the merge applies it: the DELETE never runs."""
    conflict_id = email_conflict(world)
    world.attacker.execute("SELECT pggit.resolve_conflict(%s, 'custom', 'ALTER TABLE users ALTER COLUMN email TYPE "
                           "text')", (conflict_id,))
    world.admin.execute("UPDATE pggit.conflicts SET custom_sql = custom_sql || '; DELETE FROM orders' WHERE id = %s",
                        (conflict_id,))
    failed = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert failed is not None and failed[0]["result"] == "failed"
    assert "not a schema change" in failed[0]["error"]
    assert world.rows() == world.rows_before


def test_forced_resolution_records_who_forced_it(world: World) -> None:
    conflict_id = email_conflict(world)
    row = world.admin.execute("SELECT pggit.resolve_conflict(%s, 'custom', 'ALTER TABLE users ALTER COLUMN email "
                              "TYPE text; CREATE TABLE audit (x int)', force => true)", (conflict_id,)).fetchone()
    assert row is not None and row[0]["forced_by"] == "postgres"
    merged = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    assert merged is not None and merged[0]["result"] == "merged"
    assert world.admin.execute("SELECT to_regclass('public.audit') IS NOT NULL").fetchone() == (True,)


# A superuser checked out to a branch is not stopped by privileges; the guard gives the error, and merges
# replay only the DDL it ran on the branch.
SUPERUSER_ON_BRANCH = [
    ("internal-on", "SET pggit.internal = 'on'; ALTER TABLE public.users DROP COLUMN name"),
    ("branch-setting", "SET pggit.branch = ''; ALTER TABLE public.users DROP COLUMN name"),
    ("rule-on-main", "CREATE RULE r AS ON INSERT TO public.orders DO INSTEAD NOTHING"),
    ("trigger-on-main", "CREATE FUNCTION nope() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; "
                        "CREATE TRIGGER t BEFORE INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION nope()"),
    ("policy-on-main", "CREATE POLICY p ON public.orders USING (false)"),
    ("rename-main-schema", "ALTER SCHEMA public RENAME TO gone"),
    ("drop-main-table", "DROP TABLE public.orders CASCADE"),
    ("other-branch", "ALTER TABLE {victim_schema}.users DROP COLUMN victim_work"),
]


@pytest.mark.parametrize(("case", "sql"), SUPERUSER_ON_BRANCH, ids=[c for c, _ in SUPERUSER_ON_BRANCH])
def test_superuser_on_a_branch_is_guarded(world: World, case: str, sql: str) -> None:
    session = psycopg.connect(world.dsn, autocommit=True)
    try:
        session.execute("SELECT pggit.create_branch('agent/admin-work')")
        session.execute("SELECT pggit.checkout('agent/admin-work')")
        with pytest.raises(psycopg.Error) as refused:
            session.execute(sql.format(victim_schema=f'"{world.victim_schema}"').encode())
        assert refused.value.sqlstate == "PGG50", (case, str(refused.value))
        world.assert_untouched()
    finally:
        session.close()


def test_superuser_data_changes_on_a_branch_never_reach_main(world: World) -> None:
    session = psycopg.connect(world.dsn, autocommit=True)
    try:
        session.execute("SELECT pggit.create_branch('agent/admin-work', copy_data => true)")
        session.execute("SELECT pggit.checkout('agent/admin-work')")
        session.execute("ALTER TABLE users ADD COLUMN b int; DELETE FROM orders; UPDATE users SET email = 'x'")
        with session.cursor().copy("COPY users (email) FROM STDIN") as copy:
            copy.write_row(("copied@example.com",))
        session.execute("SELECT pggit.commit('b')")
        merged = session.execute("SELECT pggit.merge('agent/admin-work', 'main')").fetchone()
        assert merged is not None and merged[0]["result"] == "merged"
        assert merged[0]["statements"] == ["ALTER TABLE users ADD COLUMN b int"]
        assert world.rows() == world.rows_before
    finally:
        session.close()


def test_create_on_main_granted_to_public_is_still_refused(world: World) -> None:
    """An older database lets PUBLIC create in public: PostgreSQL would let the agent, the guard does not."""
    world.admin.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    with pytest.raises(psycopg.Error) as refused:
        world.attacker.execute("CREATE TABLE public.evil (x int)")
    assert refused.value.sqlstate == "PGG50"
    assert "checked out to branch 'agent/attacker'" in str(refused.value)
    world.attacker.execute("SELECT pggit.checkout('main')")  # on main, the agent is still an agent
    with pytest.raises(psycopg.Error) as refused:
        world.attacker.execute("CREATE TABLE public.evil (x int)")
    assert refused.value.sqlstate == "PGG50"
    assert "role attacker is an agent" in str(refused.value)
    world.admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    world.assert_untouched()


def test_custom_resolution_checks_on_the_cli(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from pggit_core.cli import main

    conflict_id = str(email_conflict(world))
    code = main(["resolve", "--conflict-id", conflict_id, "--resolution", "custom", "--sql",
                 "ALTER TABLE users ALTER COLUMN email TYPE text; DELETE FROM orders", "--dsn", world.dsn])
    err = capsys.readouterr().err
    assert code == 2 and "not a schema change" in err and "Traceback" not in err
    code = main(["resolve", "--conflict-id", conflict_id, "--resolution", "custom", "--sql", "DELETE FROM orders",
                 "--force", "--dsn", world.dsn, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0 and '"forced_by": "postgres"' in out
    failed = world.admin.execute("SELECT pggit.merge('agent/attacker', 'main')").fetchone()
    # a forced DELETE runs: that is what force means, and the conflict row says who forced it
    assert failed is not None and failed[0]["result"] == "merged"
    assert world.admin.execute("SELECT count(*) FROM public.orders").fetchone() == (0,)


def test_an_agent_resolves_only_its_own_conflicts(world: World) -> None:
    conflict_id = email_conflict(world, "victim")
    for sql in ("SELECT pggit.resolve_conflict(%s, 'ours')",
                "SELECT pggit._conflict_record(%s, 'theirs', NULL, NULL, false)",
                "SELECT pggit._conflict_record_proposal(%s, '{}')"):
        with pytest.raises(psycopg.Error) as refused:
            world.attacker.execute(sql, (conflict_id,))
        assert refused.value.sqlstate == "PGG51", sql
    assert world.admin.execute("SELECT resolved, proposal FROM pggit.conflicts WHERE id = %s",
                               (conflict_id,)).fetchone() == (False, None)
    world.victim.execute("SELECT pggit.resolve_conflict(%s, 'theirs')", (conflict_id,))  # its own: fine
