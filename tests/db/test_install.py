"""pggit init: installs once, is a no-op the second time, upgrades older databases, never half-installs."""

from __future__ import annotations

import psycopg
import pytest

from pggit_core import install
from pggit_core.errors import InstallError


def test_install_then_noop(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        first = install.install(conn)
        assert first.changed and first.previous_version is None
        assert first.version == install.package_version()
        second = install.install(conn)
        assert not second.changed and second.previous_version == first.version
        history = conn.execute("SELECT count(*) FROM pggit.schema_history").fetchone()
        assert history == (1,)


def test_nothing_outside_pggit_schema(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        install.install(conn)
        outside = conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname NOT IN ('pggit', 'pg_catalog', 'information_schema', 'pg_toast')"""
        ).fetchall()
        assert outside == []
        funcs = conn.execute(
            """SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname NOT IN ('pggit', 'pg_catalog', 'information_schema')"""
        ).fetchall()
        assert funcs == []


def test_no_public_write_grants(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        install.install(conn)
        grants = conn.execute(
            """SELECT table_name, privilege_type FROM information_schema.role_table_grants
               WHERE table_schema = 'pggit' AND grantee = 'PUBLIC'"""
        ).fetchall()
        assert grants == []
        create = conn.execute("SELECT has_schema_privilege('public', 'pggit', 'CREATE')").fetchone()
        assert create == (False,)


def test_upgrade_from_older_version_restores_current_shape(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        install.install(conn)
        # An older database: an earlier version lacked this view and a column.
        conn.execute("DROP VIEW pggit.pggit_merge_history CASCADE")
        conn.execute("ALTER TABLE pggit.intents DROP COLUMN flow_run_id CASCADE")
        conn.execute("UPDATE pggit.schema_version SET version = 0")
        result = install.install(conn)
        assert result.changed and result.previous_version == 0
        assert conn.execute("SELECT to_regclass('pggit.pggit_merge_history') IS NOT NULL").fetchone() == (True,)
        cols = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema='pggit' AND table_name='intents' "
            "AND column_name='flow_run_id'"
        ).fetchone()
        assert cols == (1,)


def test_newer_database_is_refused(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        install.install(conn)
        conn.execute("UPDATE pggit.schema_version SET version = 999")
        with pytest.raises(InstallError, match="newer than this package"):
            install.install(conn)


def test_failed_install_leaves_nothing(empty_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = install.sql_dir()
    broken = tmp_path / "sql"
    broken.mkdir()
    for f in src.iterdir():
        (broken / f.name).write_text(f.read_text())
    version, files = install.manifest()
    (broken / files[-1]).write_text("CREATE TABLE pggit.oops (;")
    monkeypatch.setattr(install, "sql_dir", lambda: broken)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        with pytest.raises(InstallError, match="nothing was installed"):
            install.install(conn)
        assert conn.execute("SELECT to_regnamespace('pggit')").fetchone() == (None,)


def test_changed_sql_files_refresh_a_database_of_the_same_version(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        install.install(conn)
        conn.execute("UPDATE pggit.schema_version SET checksum = 'from-an-older-checkout'")
        conn.execute("DROP VIEW pggit.pggit_table_locks")
        result = install.install(conn)
        assert result.changed and result.previous_version == result.version
        assert conn.execute("SELECT to_regclass('pggit.pggit_table_locks') IS NOT NULL").fetchone() == (True,)
        assert install.install(conn).changed is False


def test_non_superuser_is_told_what_init_needs(admin_dsn: str, empty_db: str) -> None:
    from pggit_core.connect import with_database

    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS pggit_plain_user")
        admin.execute("CREATE ROLE pggit_plain_user LOGIN PASSWORD 'plain-user-password'")
        name = psycopg.conninfo.conninfo_to_dict(empty_db)["dbname"]
        admin.execute(psycopg.sql.SQL("ALTER DATABASE {} OWNER TO pggit_plain_user").format(
            psycopg.sql.Identifier(str(name))))
    params = psycopg.conninfo.conninfo_to_dict(with_database(admin_dsn, str(name)))
    params["user"] = "pggit_plain_user"
    params["password"] = "plain-user-password"
    dsn = psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v is not None})
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            with pytest.raises(InstallError, match="failed") as info:
                install.install(conn)
            assert info.value.hint and "needs a superuser" in info.value.hint
            assert conn.execute("SELECT to_regnamespace('pggit')").fetchone() == (None,)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(
                psycopg.sql.Identifier(str(name))))
            admin.execute("DROP ROLE pggit_plain_user")


def test_upgrade_from_version_2_drops_the_functions_that_are_gone(empty_db: str) -> None:
    """Version 3 split merge.sql and render.sql by stage and renamed the engine's primitives: a version-2
    database loses the old names on upgrade (the new ones replace them)."""
    gone = ["_merge_get(jsonb, jsonb)", "_merge_set(jsonb, jsonb, jsonb)", "_merge_take(jsonb, jsonb, jsonb)",
            "_merge_strip(jsonb)", "_merge_same(jsonb, jsonb)", "_merge_changes(jsonb, jsonb)",
            "_merge_differences(jsonb, jsonb)", "_merge_key_kind(text)", "_merge_table_key(jsonb)",
            "_merge_is_fk(jsonb)", "_merge_dep_path(text)", "_merge_defined(jsonb, jsonb)",
            "_merge_exec(bigint, text, text)"]
    with psycopg.connect(empty_db, autocommit=True) as conn:
        install.install(conn)
        for signature in gone:  # what a version-2 database has
            conn.execute(f"CREATE FUNCTION pggit.{signature} RETURNS void LANGUAGE sql AS ''".encode())
        conn.execute("UPDATE pggit.schema_version SET version = 2")
        result = install.install(conn)
        assert result.changed and result.previous_version == 2
        for signature in gone:
            assert conn.execute("SELECT to_regprocedure(%s)", (f"pggit.{signature}",)).fetchone() == (None,)
        for signature in ["_path_get(jsonb, jsonb)", "_comparable(jsonb)", "_changes(jsonb, jsonb)",
                          "_try_statements(bigint, text, text[])", "_merge3(jsonb, jsonb, jsonb)"]:
            assert conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (f"pggit.{signature}",)).fetchone() == (True,)
