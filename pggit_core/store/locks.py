"""Reads and writes of pggit.table_locks: table locks with an owner and an expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pggit_core.errors import InvalidInput, NotFound, PgGitError, from_database_error
from pggit_core.intents import TableLock

Conn = psycopg.Connection[Any]


def _lock(row: dict[str, Any]) -> TableLock:
    return TableLock(row["table_name"], row["agent_id"], row["locked_at"], row["expires_at"], row["reason"])


def live(conn: Conn) -> list[TableLock]:
    """Locks that have not expired."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT table_name, agent_id, locked_at, expires_at, reason "
                           "FROM pggit.pggit_live_table_locks ORDER BY table_name").fetchall()
    return [_lock(r) for r in rows]


def acquire(conn: Conn, table_name: str, agent_id: str, ttl: timedelta | None = None,
            reason: str | None = None) -> tuple[TableLock, bool]:
    """Take the lock (an expired one is replaced). Returns the lock now held and whether we got it; when
    another agent holds it, the holder's lock comes back with False. Re-locking by the holder extends it."""
    if ttl is not None and ttl.total_seconds() <= 0:
        raise InvalidInput("a lock's time to live must be positive", hint="pass e.g. --ttl 30m")
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                """INSERT INTO pggit.table_locks AS l (table_name, agent_id, locked_at, expires_at, reason)
                   VALUES (%(t)s, %(a)s, now(), now() + %(ttl)s::interval, %(r)s)
                   ON CONFLICT (table_name) DO UPDATE
                      SET expires_at = EXCLUDED.expires_at, reason = coalesce(EXCLUDED.reason, l.reason)
                    WHERE l.agent_id = EXCLUDED.agent_id
                   RETURNING table_name, agent_id, locked_at, expires_at, reason""",
                {"t": table_name, "a": agent_id, "ttl": ttl, "r": reason}).fetchone()
            if row is not None:
                return _lock(row), True
            holder = cur.execute("SELECT table_name, agent_id, locked_at, expires_at, reason "
                                 "FROM pggit.table_locks WHERE table_name = %s", (table_name,)).fetchone()
    except psycopg.Error as exc:
        mapped = from_database_error(exc)
        raise (mapped if isinstance(mapped, PgGitError) else exc) from exc
    assert holder is not None
    return _lock(holder), False


def release(conn: Conn, table_name: str, agent_id: str) -> TableLock:
    """Release a lock held by ``agent_id``; NotFound when that agent holds no lock on the table."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("""DELETE FROM pggit.table_locks WHERE table_name = %s AND agent_id = %s
                             RETURNING table_name, agent_id, locked_at, expires_at, reason""",
                          (table_name, agent_id)).fetchone()
        if row is None:
            holder = cur.execute("SELECT agent_id FROM pggit.table_locks WHERE table_name = %s",
                                 (table_name,)).fetchone()
            held = f"; it is held by {holder['agent_id']}" if holder else ""
            raise NotFound(f"{agent_id} holds no lock on {table_name}{held}",
                           hint="list locks with `pggit coordinate locks`")
    return _lock(row)
