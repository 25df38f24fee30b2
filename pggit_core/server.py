"""The embedded PostgreSQL server: find binaries, init, start or reuse, recover, stop (process I/O)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pggit_core.errors import ConfigError, ServerError

SERVER_USER_FALLBACK = "pggit"
DEFAULT_DATABASE = "pggit"
SUPERUSER = "postgres"
# Every connection to the embedded server authenticates with a password (SCRAM), over 127.0.0.1 only: an
# agent given its own role's DSN cannot become the superuser by editing the user name.
HBA = ("# pggit: the embedded server. Passwords (SCRAM) for every role, TCP on 127.0.0.1 only.\n"
       "host all all 127.0.0.1/32 scram-sha-256\n"
       "host all all ::1/128 scram-sha-256\n")
REPAIR_HBA = ("# pggit: a moment of repair (the superuser's password is being set)\n"
              "host all postgres 127.0.0.1/32 trust\n")


@dataclass(frozen=True)
class ServerInfo:
    """Where a running embedded server listens and what it runs from."""

    data_dir: str
    bin_dir: str
    port: int
    pid: int
    os_user: str | None
    database: str = DEFAULT_DATABASE
    password: str | None = None

    @property
    def dsn(self) -> str:
        return self.dsn_for(self.database)

    def dsn_for(self, database: str) -> str:
        secret = f":{self.password}" if self.password else ""
        return f"postgresql://{SUPERUSER}{secret}@127.0.0.1:{self.port}/{database}"


def find_bin_dir() -> Path:
    """Locate initdb/pg_ctl/postgres: $PGGIT_PG_BIN, pg_config, Debian's layout, then $PATH."""
    candidates: list[Path] = []
    env = os.environ.get("PGGIT_PG_BIN")
    if env:
        path = Path(env)
        if not (path / "pg_ctl").exists():
            raise ConfigError(
                f"PGGIT_PG_BIN={env} has no pg_ctl",
                hint="point PGGIT_PG_BIN at a PostgreSQL bin directory, or unset it",
            )
        return path
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True
        )
        candidates.extend(v / "bin" for v in versions)
    for tool in ("pg_ctl", "initdb"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).resolve().parent)
    for cand in candidates:
        if (cand / "pg_ctl").exists() and (cand / "initdb").exists() and (cand / "postgres").exists():
            return cand
    raise ServerError(
        "no PostgreSQL server binaries found (looked at $PGGIT_PG_BIN, pg_config, /usr/lib/postgresql, $PATH)",
        hint="run `bash scripts/setup.sh` (installs Debian's postgresql), or set PGGIT_DSN to an existing server",
    )


def _server_user() -> str | None:
    """The OS user the server runs as: None when not root, else an unprivileged account (created if needed)."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get("PGGIT_PG_OS_USER")
    for name in ([wanted] if wanted else []) + ["postgres", SERVER_USER_FALLBACK]:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER_FALLBACK],
        check=True,
        capture_output=True,
    )
    return SERVER_USER_FALLBACK


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


def _user_can_reach(user: str | None, path: Path) -> bool:
    if user is None:
        return True
    probe = subprocess.run(_as_user(user, ["test", "-x", str(path)]), capture_output=True)
    return probe.returncode == 0


def default_home() -> Path:
    """The project-local folder (.pggit) that holds the server's data and state."""
    return Path(os.environ.get("PGGIT_HOME", Path.cwd() / ".pggit")).absolute()


class EmbeddedServer:
    """A PostgreSQL server owned by pggit, with its data under ``home/pg``."""

    def __init__(self, home: Path | None = None, *, port: int | None = None, fast: bool = False) -> None:
        self.home = (home or default_home()).absolute()
        self.fixed_port = port
        self.fast = fast  # fsync off: for throwaway test data only

    # -- paths and state -------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def port_file(self) -> Path:
        """The port the server last listened on."""
        return self.home / "port"

    def _last_port(self) -> int | None:
        try:
            value = int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return value if 0 < value < 65536 else None

    @property
    def password_file(self) -> Path:
        """The superuser's password (readable by this OS user only)."""
        return self.home / "superuser.password"

    def _password(self) -> str:
        """The superuser's password, made on first use."""
        try:
            value = self.password_file.read_text().strip()
            if value:
                return value
        except FileNotFoundError:
            pass
        self.home.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(24)
        tmp = self.password_file.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.chmod(0o600)
        tmp.write_text(value + "\n")
        tmp.replace(self.password_file)
        return value

    def _data_dir(self, user: str | None) -> Path:
        """``home/pg``, or a mirror under /var/tmp when the server's OS user cannot reach ``home``."""
        local = self.home / "pg"
        if _user_can_reach(user, self.home.parent):
            return local
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path("/var/tmp/pggit") / digest / "pg"

    def read_state(self) -> ServerInfo | None:
        """The recorded server, or None. A truncated or garbled state file (a crash while writing it)
        counts as no state: the data folder's own postmaster.pid is what `start` recovers from."""
        try:
            raw = json.loads(self.state_file.read_text())
            return ServerInfo(**raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            self.state_file.unlink(missing_ok=True)
            return None

    def _write_state(self, info: ServerInfo) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.chmod(0o600)
        tmp.write_text(json.dumps(asdict(info), indent=2))
        tmp.replace(self.state_file)

    # -- lifecycle ---------------------------------------------------------------------------
    def status(self) -> ServerInfo | None:
        """The running server, or None. A recorded but dead server is reported as None."""
        info = self.read_state()
        if info is None:
            return None
        if _pid_alive(info.pid) and _accepts(info.port):
            if info.password is None and self.password_file.exists():
                info = ServerInfo(**{**asdict(info), "password": self._password()})
            return info
        return None

    def start(self) -> ServerInfo:
        """Start the server, or reuse it when it already runs. Recovers from a crash or a stale pid."""
        running = self.status()
        if running is not None:
            return running
        bin_dir = find_bin_dir()
        user = _server_user()
        data_dir = self._data_dir(user)
        self.home.mkdir(parents=True, exist_ok=True)
        self._reap(data_dir)
        password = self._password()
        self._ensure_initialized(bin_dir, data_dir, user, password)
        port = self._choose_port()
        pid = self._launch(bin_dir, data_dir, user, port)
        info = ServerInfo(str(data_dir), str(bin_dir), port, pid, user, password=password)
        self._ensure_password_auth(info)
        self._write_state(info)
        self.port_file.write_text(f"{port}\n")
        self._ensure_database(info)
        return info

    def stop(self) -> bool:
        """Stop the server if it runs; True when something was stopped."""
        info = self.read_state()
        if info is None:
            return False
        stopped = False
        if _pid_alive(info.pid):
            result = subprocess.run(
                _as_user(info.os_user, [str(Path(info.bin_dir) / "pg_ctl"), "stop", "-D", info.data_dir,
                                        "-m", "fast", "-w", "-t", "60"]),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0 and _pid_alive(info.pid):
                os.kill(info.pid, signal.SIGTERM)
                _wait_gone(info.pid, 30)
            stopped = True
        self.state_file.unlink(missing_ok=True)
        return stopped

    def destroy(self) -> None:
        """Stop the server and delete its data and log (and its home folder when nothing else is there)."""
        info = self.read_state()
        self.stop()
        data_dir = Path(info.data_dir) if info else self.home / "pg"
        shutil.rmtree(data_dir, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)
        self.password_file.unlink(missing_ok=True)
        self.port_file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # other things (a demo's files) may live in home: keep it then
            self.home.rmdir()

    # -- steps ------------------------------------------------------------------------------
    def _reap(self, data_dir: Path) -> None:
        """A server left running by a killed parent is stopped; a stale postmaster.pid is removed."""
        pidfile = data_dir / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError, OSError):
            pid = -1
        if pid > 0 and _pid_alive(pid) and _is_postgres(pid):
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, 30)
        pidfile.unlink(missing_ok=True)

    def _ensure_initialized(self, bin_dir: Path, data_dir: Path, user: str | None, password: str) -> None:
        if (data_dir / "PG_VERSION").exists():
            return
        if data_dir.exists() and any(data_dir.iterdir()):
            raise ServerError(
                f"{data_dir} is not empty but is not a PostgreSQL data folder (no PG_VERSION: corrupted?)",
                hint="move it away or run `pggit db reset` to delete it and start over",
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            shutil.chown(data_dir, user, user)
            data_dir.chmod(0o700)
            for parent in data_dir.parents:
                if parent == self.home.parent or str(parent) in ("/", "/var/tmp"):
                    break
                if parent.stat().st_uid == 0 and str(parent).startswith("/var/tmp/pggit"):
                    parent.chmod(0o755)
        # initdb reads the password from a file the server's OS user can read; it is removed right after
        with tempfile.NamedTemporaryFile("w", prefix="pggit-pw-", dir=data_dir.parent, delete=False) as pwfile:
            pwfile.write(password + "\n")
        pw_path = Path(pwfile.name)
        try:
            pw_path.chmod(0o600)
            if user is not None:
                shutil.chown(pw_path, user, user)
            argv = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=scram-sha-256",
                    f"--pwfile={pw_path}", "-E", "UTF8", "--locale=C.UTF-8"]
            if self.fast:
                argv.append("--no-sync")
            result = subprocess.run(_as_user(user, argv), capture_output=True, text=True)
        finally:
            pw_path.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(data_dir, ignore_errors=True)
            raise ServerError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}",
                              hint="check disk space and permissions of the data folder")
        _write_hba(data_dir, user, HBA)

    def _choose_port(self) -> int:
        if self.fixed_port is not None:
            if not _port_free(self.fixed_port):
                raise ServerError(f"port {self.fixed_port} on 127.0.0.1 is in use",
                                  hint="choose another with --port / PGGIT_PG_PORT, or stop what uses it")
            return self.fixed_port
        previous = self.read_state()
        if previous is not None and _port_free(previous.port):
            return previous.port
        # the port of the last run, so that the DSNs given out (agents' too) keep working after a stop
        last = self._last_port()
        if last is not None and _port_free(last):
            return last
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def _launch(self, bin_dir: Path, data_dir: Path, user: str | None, port: int) -> int:
        self.log_file.touch()
        if user is not None:
            shutil.chown(self.log_file, user, user)
        log_target = self.log_file if _user_can_reach(user, self.home) else data_dir / "startup.log"
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c max_connections=200"
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        argv = [str(bin_dir / "pg_ctl"), "start", "-D", str(data_dir), "-w", "-t", "60",
                "-l", str(log_target), "-o", options]
        result = subprocess.run(_as_user(user, argv), capture_output=True, text=True)
        if result.returncode != 0:
            tail = _tail(log_target)
            raise ServerError(f"PostgreSQL did not start on port {port}: {tail or result.stderr.strip()}",
                              hint=f"see {log_target}; `pggit db reset` starts over with fresh data")
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        return pid

    def _ensure_password_auth(self, info: ServerInfo) -> None:
        """Every role authenticates with a password. A data folder made before pggit did so (trust), or whose
        superuser password no longer matches the password file, is repaired: for a moment only the superuser
        may connect, without a password, from 127.0.0.1, while its password is set."""
        import psycopg
        from psycopg import sql

        hba = Path(info.data_dir) / "pg_hba.conf"
        if hba.exists() and hba.read_text() == HBA and _connects(info.dsn_for("postgres")) is None:
            return
        trusted = f"postgresql://{SUPERUSER}@127.0.0.1:{info.port}/postgres"
        _write_hba(Path(info.data_dir), info.os_user, REPAIR_HBA)
        try:
            self._reload(info, lambda: _connects(trusted) is None)
            with psycopg.connect(trusted, autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(info.password)))
        finally:
            _write_hba(Path(info.data_dir), info.os_user, HBA)
            self._reload(info, lambda: _connects(trusted) is not None)
        problem = _connects(info.dsn_for("postgres"))
        if problem is not None:
            raise ServerError(f"the embedded server does not accept its superuser's password: {problem}",
                              hint=f"see {self.log_file}; `pggit db reset` starts over with fresh data")

    def _reload(self, info: ServerInfo, applied: Callable[[], bool]) -> None:
        """Make the server re-read pg_hba.conf and wait until ``applied`` says it did (it does so asynchronously)."""
        result = subprocess.run(_as_user(info.os_user, [str(Path(info.bin_dir) / "pg_ctl"), "reload", "-D",
                                                        info.data_dir]), capture_output=True, text=True)
        if result.returncode != 0:
            raise ServerError(f"pg_ctl reload failed: {result.stderr.strip()}", hint=f"see {self.log_file}")
        deadline = time.monotonic() + 30
        while not applied():
            if time.monotonic() > deadline:
                raise ServerError("the embedded server did not apply its new pg_hba.conf within 30 s",
                                  hint=f"see {self.log_file}")
            time.sleep(0.02)

    def _ensure_database(self, info: ServerInfo) -> None:
        import psycopg

        with psycopg.connect(info.dsn_for("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (info.database,)).fetchone()
            if not exists:
                from psycopg import sql

                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(info.database)))


def _connects(dsn: str) -> str | None:
    """None when a connection with ``dsn`` succeeds, else why it failed."""
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def _write_hba(data_dir: Path, user: str | None, text: str) -> None:
    path = data_dir / "pg_hba.conf"
    path.write_text(text)
    path.chmod(0o600)
    if user is not None:
        shutil.chown(path, user, user)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres(pid: int) -> bool:
    try:
        return "postgres" in Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
