"""MigrationGenerator on a real database: the seed's pipeline, ranges, recording, bad input, pinned apply."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from migration_helpers import Conn, main_doc, on_branch, plan_rows, run_script
from psycopg import sql

from pggit_core.client import PgGitClient
from pggit_core.errors import AlreadyExists, InvalidInput, MigrationError, NotFound
from pggit_core.migrations import MigrationGenerator, NothingToGenerate
from pggit_core.migrations import apply as migration_apply
from pggit_core.migrations import files as migration_files

ARCHITECTURE = [
    "CREATE TABLE users (id UUID PRIMARY KEY, email TEXT UNIQUE)",
    "CREATE TABLE sessions (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
    "CREATE TABLE oauth_tokens (id UUID PRIMARY KEY, user_id UUID REFERENCES users)",
]


def seed_agents(conn: Conn) -> PgGitClient:
    """The seed's coordinate_agents(), steps 4-6: Claude's schema, then the local LLM's indexes, merged in order."""
    client = PgGitClient(conn)
    conn.execute("SELECT pggit.create_branch('agent/claude-architecture')")
    client.checkout("agent/claude-architecture")
    for ddl in ARCHITECTURE:
        conn.execute(ddl.encode())
    client.commit("Implement auth schema")
    client.checkout("main")
    assert client.merge("agent/claude-architecture", target_branch="main").result == "merged"
    conn.execute("SELECT pggit.create_branch('agent/local-llm-indexes')")  # after the architecture landed
    client.checkout("agent/local-llm-indexes")
    conn.execute("CREATE INDEX idx_users_email ON users(email)")
    conn.execute("CREATE INDEX idx_sessions_user ON sessions(user_id)")
    client.commit("Add performance indexes")
    client.checkout("main")
    assert client.merge("agent/local-llm-indexes", target_branch="main").result == "merged"
    return client


def test_seed_pipeline_generate_from_branch(conn: Conn, target: Conn, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client = seed_agents(conn)
    monkeypatch.chdir(tmp_path)

    # 7. Generate production migration (as written in the seed)
    generator = MigrationGenerator(client)
    migration = generator.generate_from_branch("main", name="auth_feature")
    migration.write_to_file(Path("db/migrations/"))
    print(f"✅ Generated migration: {migration.version}_{migration.name}")

    assert re.fullmatch(r"\d{14}", migration.version) and migration.name == "auth_feature"
    folder = tmp_path / "db" / "migrations"
    up = (folder / f"{migration.version}_auth_feature.up.sql").read_text()
    tables = [up.index(f"CREATE TABLE {t} ") for t in ("users", "sessions", "oauth_tokens")]
    assert max(tables) < up.index("REFERENCES users")  # tables before foreign keys
    assert "CREATE INDEX idx_users_email" in up and "-- merged: agent/claude-architecture" in up
    assert "DROP TABLE" in (folder / f"{migration.version}_auth_feature.down.sql").read_text()
    assert migration_files.verify(folder).ok
    row = conn.execute("SELECT name, branch, from_snapshot, to_snapshot, checksum FROM pggit.migrations "
                       "WHERE version = %s", (migration.version,)).fetchone()
    assert row is not None and row[:4] == ("auth_feature", "main", migration.from_snapshot, migration.to_snapshot)
    assert str(row[4]).startswith("h1:")

    # nothing new on main since that migration: the next one is refused and writes nothing
    with pytest.raises(MigrationError, match="nothing to generate"):
        generator.generate_from_branch("main", name="again")

    # deploy to a fresh database: pinned at both ends, then a re-diff is empty
    report = migration_apply.apply(target, folder)
    assert report.applied == (migration.version,)
    assert plan_rows(target, main_doc(target), main_doc(conn)) == []
    assert migration_apply.apply(target, folder).already == (migration.version,)

    # more work merged later: the next migration starts where the last one ended and chains to it
    conn.execute("SELECT pggit.create_branch('agent/claude-payments')")
    on_branch(conn, "agent/claude-payments", "ALTER TABLE users ADD COLUMN stripe_id TEXT")
    client.merge("agent/claude-payments", target_branch="main")
    second = generator.generate_from_branch("main", name="stripe")
    assert second.from_snapshot == migration.to_snapshot and second.parents == (migration.version,)
    assert [s.statement for s in second.up_steps] == ["ALTER TABLE users ADD COLUMN stripe_id text"]
    second.write_to_file(folder)
    assert migration_apply.apply(target, folder).applied == (second.version,)


def test_seed_pipeline_generate_from_commits(conn: Conn, tmp_path: Path) -> None:
    client = seed_agents(conn)
    generator = MigrationGenerator(client)
    migration = generator.generate_from_commits(commits=client.log("main", limit=10), name="agent_changes_20261124")
    paths = migration.write_to_file(tmp_path / "db" / "migrations")
    assert any(p.name == f"{migration.version}_agent_changes_20261124.up.sql" for p in paths)
    assert {s.object_key for s in migration.up_steps} >= {"table:public.users", "index:public.idx_users_email"}
    # the same commits again: already covered by the migration just recorded
    with pytest.raises(MigrationError, match="already in migration"):
        generator.generate_from_commits(commits=client.log("main", limit=10), name="again")
    # only the newest commit (the index merge): a smaller range
    conn.execute("DELETE FROM pggit.migrations")
    newest = client.log("main", limit=1)
    only_indexes = generator.generate_from_commits(commits=newest, name="indexes_only")
    assert {s.kind for s in only_indexes.up_steps} == {"index"}


def test_branch_range_and_bad_input(conn: Conn, tmp_path: Path) -> None:
    run_script(conn, "CREATE TABLE users (id integer PRIMARY KEY, email text)")
    conn.execute("SELECT pggit.create_branch('agent/a')")
    generator = MigrationGenerator(conn)
    with pytest.raises(NothingToGenerate, match="nothing to generate: branch 'agent/a' has no schema change"):
        generator.generate_from_branch("agent/a", name="empty")
    first = on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN nickname text")
    second = on_branch(conn, "agent/a", "CREATE INDEX users_nick ON users (nickname)")
    conn.execute("SELECT pggit.checkout('agent/a')")
    conn.execute("ALTER TABLE users ADD COLUMN not_committed text")
    conn.execute("SELECT pggit.checkout('main')")
    migration = generator.generate_from_branch("agent/a", name="nick")
    assert migration.commits == (first, second)
    assert "-- note: 1 DDL command(s) on agent/a are not committed and not in this migration" in migration.up_sql
    assert "not_committed" not in migration.up_sql.split("COMMIT;")[0].split("BEGIN;")[1]
    assert [h.code for h in migration.hazards] == ["PGH201"]
    with pytest.raises(NotFound, match="branch 'agent/nope' does not exist"):
        generator.generate_from_branch("agent/nope", name="x")
    with pytest.raises(NotFound, match="commit 99999 does not exist"):
        generator.generate_from_commits([99999], name="x")
    with pytest.raises(InvalidInput, match="not one contiguous history"):
        generator.generate_from_commits([first - 1, second], name="x")
    with pytest.raises(MigrationError, match="no commits were given"):
        generator.generate_from_commits([], name="x")
    with pytest.raises(Exception, match="invalid migration name"):
        generator.generate_from_branch("agent/a", name="Bad Name")

    # an output folder that already has the version: clear error, nothing written, nothing recorded
    out = tmp_path / "m"
    migration.write_to_file(out)
    listing = sorted(p.name for p in out.rglob("*"))
    clash = migration.model_copy(update={"name": "other"})
    with pytest.raises(AlreadyExists, match=f"already has a migration with version {migration.version}"):
        clash.write_to_file(out)
    assert sorted(p.name for p in out.rglob("*")) == listing
    count = conn.execute("SELECT count(*) FROM pggit.migrations").fetchone()
    assert count == (1,)


def test_versions_are_unique_within_a_second(conn: Conn) -> None:
    run_script(conn, "CREATE TABLE t (id integer)")
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "ALTER TABLE t ADD COLUMN x integer")
    from migration_helpers import fixed_clock
    generator = MigrationGenerator(conn, clock=fixed_clock)
    versions = [generator.generate_from_branch("agent/a", name=f"m{i}").version for i in range(3)]
    assert versions == ["20261124120000", "20261124120000_01", "20261124120000_02"]
    assert versions == sorted(versions)


def test_apply_refuses_a_different_schema_naming_objects(conn: Conn, target: Conn, tmp_path: Path) -> None:
    run_script(conn, "CREATE TABLE users (id integer PRIMARY KEY, email text)")
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN nickname text")
    migration = MigrationGenerator(conn).generate_from_branch("agent/a", name="nick")
    migration.write_to_file(tmp_path)
    run_script(target, "CREATE TABLE users (id integer PRIMARY KEY, email varchar(20)); CREATE TABLE extra (x int)")
    target.execute("RESET search_path")
    before = main_doc(target)
    with pytest.raises(MigrationError) as caught:
        migration_apply.apply(target, tmp_path)
    message = caught.value.message
    assert "refusing to apply" in message
    assert "table:public.extra (in the database, not expected)" in message
    assert "table:public.users (differs: columns.email.type)" in message
    assert plan_rows(target, main_doc(target), before) == []  # nothing ran
    assert migration_apply.applied_rows(target) == {}
    with pytest.raises(MigrationError, match="cannot apply"):
        migration_apply.apply(target, tmp_path, dry_run=True)


def test_apply_refuses_a_tampered_folder_and_concurrent_indexes_run_outside(conn: Conn, target: Conn,
                                                                            tmp_path: Path) -> None:
    schema = "CREATE TABLE users (id integer PRIMARY KEY, email text)"
    run_script(conn, schema)
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "CREATE INDEX users_email_idx ON users (email)")
    migration = MigrationGenerator(conn, concurrent_indexes=True).generate_from_branch("agent/a", name="idx")
    assert migration.hazards == ()
    assert "CREATE INDEX CONCURRENTLY users_email_idx" in migration.up_sql.split("COMMIT;")[-1]
    migration.write_to_file(tmp_path)
    run_script(target, schema)
    target.execute("RESET search_path")
    up = tmp_path / f"{migration.version}_idx.up.sql"
    original = up.read_text()
    up.write_text(original.replace("users_email_idx", "users_mail_idx"))
    with pytest.raises(MigrationError, match=f"modified: {up.name}"):
        migration_apply.apply(target, tmp_path)
    up.write_text(original)
    assert migration_apply.apply(target, tmp_path, dry_run=True).pending == (migration.version,)
    assert migration_apply.apply(target, tmp_path).applied == (migration.version,)
    valid = target.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass")
    assert valid.fetchone() == (True,)


def test_a_rename_merged_into_main_stays_a_rename(conn: Conn, target: Conn, tmp_path: Path) -> None:
    base = "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL); CREATE INDEX users_email ON users (email)"
    run_script(conn, base)
    conn.execute("SELECT pggit.create_branch('agent/rename')")
    on_branch(conn, "agent/rename", "ALTER TABLE users RENAME COLUMN email TO email_address")
    client = PgGitClient(conn)
    assert client.merge("agent/rename", target_branch="main").result == "merged"
    migration = MigrationGenerator(client).generate_from_branch("main", name="rename_email")
    statements = [s.statement for s in migration.up_steps]
    assert statements == ['ALTER TABLE "users" RENAME COLUMN "email" TO "email_address"']
    assert [h.code for h in migration.hazards] == ["PGH301"] and migration.reversible
    assert [s.statement for s in migration.down_steps] == [
        'ALTER TABLE "users" RENAME COLUMN "email_address" TO "email"']
    migration.write_to_file(tmp_path)
    run_script(target, base)
    target.execute("INSERT INTO users VALUES (1, 'a@example.org')")
    target.execute("RESET search_path")
    migration_apply.apply(target, tmp_path)
    assert target.execute("SELECT email_address FROM users").fetchall() == [("a@example.org",)]


@pytest.mark.parametrize("style", ["plain", "flyway", "sqitch"])
def test_every_layout_applies_and_reverts(style: str, conn: Conn, target: Conn, tmp_path: Path) -> None:
    base = "CREATE TABLE users (id integer PRIMARY KEY, email text)"
    run_script(conn, base)
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users)")
    on_branch(conn, "agent/a", "CREATE VIEW user_posts AS SELECT u.email, p.id FROM users u JOIN posts p ON "
                               "p.user_id = u.id")
    migration = MigrationGenerator(conn).generate_from_branch("agent/a", name="posts")
    migration.write_to_file(tmp_path, style)
    run_script(target, base)
    target.execute("RESET search_path")
    assert migration_apply.apply(target, tmp_path).applied == (migration.version,)
    if style == "sqitch":
        verify_sql = (tmp_path / "verify" / f"{migration.version}_posts.sql").read_text()
        target.execute(verify_sql.encode())  # the verify script passes on the deployed schema
        target.execute("RESET search_path")
    assert migration_apply.revert(target, tmp_path) == migration.version
    assert target.execute("SELECT to_regclass('public.posts')").fetchone() == (None,)
    if style == "sqitch":
        with pytest.raises(psycopg.errors.UndefinedTable):
            target.execute(verify_sql.encode())  # and fails once the migration is reverted


def test_two_tracked_schemas_with_a_cross_schema_reference(conn: Conn, target: Conn, tmp_path: Path) -> None:
    base = ("CREATE SCHEMA app; CREATE TABLE public.users (id integer PRIMARY KEY); "
            "CREATE TABLE app.accounts (id integer PRIMARY KEY, user_id integer REFERENCES public.users)")
    for db in (conn, target):
        run_script(db, base)
        db.execute("UPDATE pggit.settings SET value = '[\"public\", \"app\"]' WHERE key = 'tracked_schemas'")
        db.execute("INSERT INTO pggit.branch_schemas SELECT id, 'app', 'app' FROM pggit.branches WHERE name = 'main'")
    conn.execute("SELECT pggit.create_branch('agent/ledger')")
    row = conn.execute("SELECT physical_schema FROM pggit.branch_schemas s JOIN pggit.branches b ON b.id = s.branch_id "
                       "WHERE b.name = 'agent/ledger' AND s.tracked_schema = 'app'").fetchone()
    assert row is not None
    app = sql.Identifier(str(row[0])).as_string(None)  # the branch's copy of `app`
    on_branch(conn, "agent/ledger", f"CREATE TABLE {app}.ledger (id integer PRIMARY KEY, user_id integer REFERENCES "
                                    f"users, account_id integer REFERENCES {app}.accounts)")
    migration = MigrationGenerator(conn).generate_from_branch("agent/ledger", name="ledger")
    assert 'SET LOCAL search_path = "app", "public";' in migration.up_sql
    migration.write_to_file(tmp_path)
    target.execute("RESET search_path")
    assert migration_apply.apply(target, tmp_path).applied == (migration.version,)
    fks = target.execute("SELECT confrelid::regclass::text FROM pg_constraint WHERE conrelid = 'app.ledger'::regclass "
                         "AND contype = 'f' ORDER BY 1").fetchall()
    assert sorted(f[0] for f in fks) == ["app.accounts", "users"]


def test_files_run_as_plain_psql_scripts(conn: Conn, target_dsn: str, target: Conn, tmp_path: Path) -> None:
    """A deploy tool that knows nothing of pggit runs the files as they are (psql -f, ON_ERROR_STOP)."""
    import subprocess

    base = "CREATE TABLE users (id integer PRIMARY KEY, email text)"
    run_script(conn, base)
    conn.execute("SELECT pggit.create_branch('agent/a')")
    on_branch(conn, "agent/a", "ALTER TABLE users ADD COLUMN plan text DEFAULT 'free' NOT NULL; "
                               "CREATE INDEX users_plan_idx ON users (plan)")
    migration = MigrationGenerator(conn, concurrent_indexes=True).generate_from_branch("agent/a", name="plans")
    paths = migration.write_to_file(tmp_path)
    run_script(target, base)
    target.execute("INSERT INTO users VALUES (1, 'a@example.org')")
    for suffix, expected in ((".up.sql", migration.to_doc), (".down.sql", migration.from_doc)):
        script = next(p for p in paths if p.name.endswith(suffix))
        done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target_dsn, "-f", str(script)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert plan_rows(target, main_doc(target), expected) == []
    assert target.execute("SELECT id FROM users").fetchall() == [(1,)]
