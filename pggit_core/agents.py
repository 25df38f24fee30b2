"""Agent roles: add, list and remove them, and the connection string each agent uses (over pggit.add_agent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict

from pggit_core.errors import PermissionDenied
from pggit_core.store.commits import database_errors
from pggit_core.store.durable import operation

Conn = psycopg.Connection[Any]

ADMIN_HINT = ("adding and removing agents needs a superuser: pass the admin DSN (--dsn, or nothing for the embedded "
              "server)")


class AgentLogin(BaseModel):
    """An agent's role and the connection string it works with (its own password, the admin's host)."""

    model_config = ConfigDict(frozen=True)

    name: str
    dsn: str
    merger: bool
    created: bool
    password_changed: bool


class AgentInfo(BaseModel):
    """An agent of this database, as `pggit.list_agents()` shows it (no password)."""

    model_config = ConfigDict(frozen=True)

    name: str
    merger: bool
    live_branches: int
    created_by: str
    created_at: datetime


def dsn_for(admin_dsn: str, role: str, password: str) -> str:
    """The admin's DSN (host, port, database, options) with the agent's role and password instead, written as a
    URI (``postgresql://role:password@host:port/database?options``)."""
    params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(admin_dsn).items() if v is not None}
    params.pop("user", None)
    params.pop("password", None)
    host = params.pop("host", "")
    port = params.pop("port", "")
    database = params.pop("dbname", "")
    netloc = quote(host, safe="") if host and "/" not in host else ""
    if host and "/" in host:  # a unix socket directory goes in the query string
        params["host"] = host
    if port:
        netloc += f":{port}"
    query = f"?{urlencode(sorted(params.items()))}" if params else ""
    return f"postgresql://{quote(role, safe='')}:{quote(password, safe='')}@{netloc}/{quote(database, safe='')}{query}"


def _admin_call(conn: Conn, query: str, params: tuple[object, ...]) -> Any:
    try:
        with database_errors(), operation(conn):
            row = conn.execute(query, params).fetchone()
    except PermissionDenied as exc:
        raise PermissionDenied(f"{exc.message} (connected as {conn.info.user})", hint=ADMIN_HINT) from exc
    return None if row is None else row[0]


def add(conn: Conn, name: str, *, admin_dsn: str, merger: bool = False, new_password: bool = False) -> AgentLogin:
    """Create (idempotently) a non-superuser login role for the agent ``name``; ``conn`` is an admin's, made
    with ``admin_dsn``. The returned DSN is ``admin_dsn`` with the agent's role and password."""
    made: dict[str, Any] = _admin_call(conn, "SELECT pggit.add_agent(%s, merger => %s, new_password => %s)",
                                       (name, merger, new_password))
    return AgentLogin(name=str(made["name"]), dsn=dsn_for(admin_dsn, str(made["name"]), str(made["password"])),
                      merger=bool(made["merger"]), created=bool(made["created"]),
                      password_changed=bool(made["password_changed"]))


def remove(conn: Conn, name: str, *, force: bool = False) -> dict[str, Any]:
    """Drop the agent's role (its live branches too with ``force``) and end its sessions."""
    removed: dict[str, Any] = _admin_call(conn, "SELECT pggit.remove_agent(%s, force => %s)", (name, force))
    return removed


def list_agents(conn: Conn) -> list[AgentInfo]:
    """The agents of this database, by name."""
    with operation(conn), conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT name, merger, live_branches, created_by, created_at FROM pggit.list_agents()"
                           ).fetchall()
    return [AgentInfo.model_validate(r) for r in rows]


class SessionRole(BaseModel):
    """Who a connection works as: its role, and whether that role is a superuser."""

    model_config = ConfigDict(frozen=True)

    name: str
    superuser: bool


def session_role(conn: Conn) -> SessionRole:
    """The role ``conn`` works as (current_user)."""
    row = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    assert row is not None
    return SessionRole(name=str(row[0]), superuser=bool(row[1]))


def describe(login: AgentLogin) -> str:
    """One line for people."""
    verb = "Added" if login.created else "Kept"
    role = "a merger" if login.merger else "not a merger"
    password = "; it has a new password" if login.password_changed else ""
    return f"{verb} agent {login.name} (its own role, {role}{password}). Its connection string:"
