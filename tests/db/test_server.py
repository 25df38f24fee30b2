"""The embedded server's lifecycle: start, reuse, stop, recovery from a killed server, bad states."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pggit_core.errors import ServerError
from pggit_core.server import EmbeddedServer


@pytest.fixture
def home() -> Iterator[Path]:
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    path = Path(tempfile.mkdtemp(prefix="pggit-life-", dir=base))
    path.chmod(0o755)
    yield path / ".pggit"
    EmbeddedServer(path / ".pggit").destroy()
    shutil.rmtree(path, ignore_errors=True)


def _query(dsn: str) -> object:
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        return row[0] if row else None


def test_start_reuse_stop(home: Path) -> None:
    server = EmbeddedServer(home, fast=True)
    first = server.start()
    assert _query(first.dsn) == "pggit"
    again = EmbeddedServer(home, fast=True).start()
    assert (again.pid, again.port) == (first.pid, first.port)
    assert server.status() == first
    assert server.stop() is True
    assert server.status() is None
    assert server.stop() is False
    # data stays: a restart finds the same database
    restarted = server.start()
    assert _query(restarted.dsn) == "pggit"


def test_recovers_from_killed_server(home: Path) -> None:
    server = EmbeddedServer(home, fast=True)
    first = server.start()
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.status() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.status() is None
    assert (Path(first.data_dir) / "postmaster.pid").exists()  # stale pid file left by the crash
    second = server.start()
    assert second.pid != first.pid
    assert _query(second.dsn) == "pggit"


def test_reaps_server_whose_state_file_was_lost(home: Path) -> None:
    server = EmbeddedServer(home, fast=True)
    first = server.start()
    server.state_file.unlink()  # e.g. a killed parent that never wrote or lost its state
    second = server.start()
    assert _query(second.dsn) == "pggit"
    assert not _alive(first.pid) or first.pid == second.pid


def test_corrupted_data_folder_is_explained(home: Path) -> None:
    server = EmbeddedServer(home, fast=True)
    data = home / "pg"
    data.mkdir(parents=True)
    (data / "junk").write_text("not a cluster")
    with pytest.raises(ServerError, match="not a PostgreSQL data folder") as info:
        server.start()
    assert info.value.hint and "pggit db reset" in info.value.hint


def test_port_in_use_is_explained(home: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(ServerError, match=f"port {port} on 127.0.0.1 is in use"):
            EmbeddedServer(home, port=port, fast=True).start()


def test_garbled_state_file_is_recovered(home: Path) -> None:
    server = EmbeddedServer(home, fast=True)
    server.start()
    server.state_file.write_text("{not json")  # a crash while writing it
    info = server.start()
    assert _query(info.dsn) == "pggit"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_db_commands(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`pggit db start|status|url|stop|reset` as the README lists them (data under $PGGIT_HOME)."""
    import json

    from pggit_core.cli import main

    monkeypatch.setenv("PGGIT_HOME", str(home))
    assert main(["db", "status"]) == 1
    assert "not running" in capsys.readouterr().out
    assert main(["db", "start", "--format", "json"]) == 0
    started = json.loads(capsys.readouterr().out)
    assert started["reused"] is False and _query(started["dsn"]) == "pggit"
    assert main(["db", "start", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["reused"] is True
    assert main(["db", "url"]) == 0
    assert capsys.readouterr().out.strip() == started["dsn"]
    assert main(["db", "status"]) == 0
    assert f"127.0.0.1:{started['port']}" in capsys.readouterr().out
    assert main(["db", "stop"]) == 0
    assert main(["db", "url"]) == 3
    assert "not running" in capsys.readouterr().err
    assert main(["db", "reset"]) == 3  # refuses without --yes
    assert "--yes" in capsys.readouterr().err
    assert (home / "pg" / "PG_VERSION").exists()
    assert main(["db", "reset", "--yes"]) == 0
    assert not (home / "pg").exists()


def test_every_role_needs_its_password(home: Path) -> None:
    """The embedded server authenticates every role with a password: an agent that puts the superuser's name in
    its own DSN is not let in; a data folder from before passwords (trust) is repaired on start."""
    from pggit_core import agents, install

    server = EmbeddedServer(home, fast=True)
    info = server.start()
    with psycopg.connect(info.dsn, autocommit=True) as conn:
        install.install(conn)
        login = agents.add(conn, "curious", admin_dsn=info.dsn)
    assert _query(login.dsn) == "pggit"
    for forged in (login.dsn.replace("curious:", "postgres:"), f"postgresql://postgres@127.0.0.1:{info.port}/pggit"):
        with pytest.raises(psycopg.OperationalError, match="password authentication failed|no password"):
            psycopg.connect(forged, connect_timeout=5).close()
    # an old data folder: trust for everyone, no superuser password
    (Path(info.data_dir) / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    server.stop()
    again = server.start()
    assert _query(again.dsn) == "pggit"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{again.port}/pggit", connect_timeout=5).close()
    assert (home / "superuser.password").stat().st_mode & 0o077 == 0
