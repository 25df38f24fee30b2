"""`pggit init`, `pggit status` and connection errors as a user sees them."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from pggit_core.cli import main


def test_init_and_status_json(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--dsn", empty_db]) == 0
    assert "Installed the pggit schema" in capsys.readouterr().out
    assert main(["init", "--dsn", empty_db]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["status", "--dsn", empty_db, "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["schema_version"] == status["package_schema_version"]
    assert status["branches"] == 1


def test_unreachable_dsn_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--dsn", "postgresql://postgres@127.0.0.1:1/nothing"])
    err = capsys.readouterr().err
    assert code == 3
    assert "cannot connect to" in err and "Connection refused" in err
    assert "hint:" in err and "server running" in err


def test_missing_database_is_explained(admin_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    params = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    params["dbname"] = "no_such_database_here"
    dsn = psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v is not None})
    assert main(["init", "--dsn", dsn]) == 3
    err = capsys.readouterr().err
    assert 'database "no_such_database_here" does not exist' in err
    assert "createdb" in err


def test_wrong_password_is_explained(admin_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        hba = conn.execute("SELECT current_setting('hba_file')").fetchone()
        assert hba is not None
        conn.execute("DROP ROLE IF EXISTS pggit_pw_user")
        conn.execute("CREATE ROLE pggit_pw_user LOGIN PASSWORD 'right'")
        path = str(hba[0])
        original = conn.execute("SELECT pg_read_file(%s)", (path,)).fetchone()
        assert original is not None
        rules = "host all pggit_pw_user 127.0.0.1/32 scram-sha-256\n" + str(original[0])
    _write_as_server(admin_dsn, path, rules)
    try:
        params = psycopg.conninfo.conninfo_to_dict(admin_dsn)
        params.update(user="pggit_pw_user", password="wrong")
        dsn = psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v is not None})
        assert main(["status", "--dsn", dsn]) == 3
        err = capsys.readouterr().err
        assert "password authentication failed" in err
        assert "password=wrong" not in err
        assert "check the user and password" in err
    finally:
        _write_as_server(admin_dsn, path, str(original[0]))


def _write_as_server(admin_dsn: str, path: str, text: str) -> None:
    """Rewrite pg_hba.conf through the server itself (it owns the file) and reload it."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE hba_text (line text)")
        with conn.cursor().copy("COPY hba_text FROM STDIN") as copy:
            for line in text.splitlines():
                copy.write_row((line.replace("\t", " "),))
        conn.execute(psycopg.sql.SQL("COPY hba_text TO {}").format(psycopg.sql.Literal(path)))
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)

