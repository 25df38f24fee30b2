"""Helpers of the capture tests (plain functions over a connection)."""

from __future__ import annotations

import psycopg

Conn = psycopg.Connection[tuple[object, ...]]


def make_branch(conn: Conn, name: str) -> None:
    conn.execute("SELECT pggit.create_branch(%s)", (name,))


def columns(conn: Conn, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position", (schema, table)).fetchall()
    return [str(r[0]) for r in rows]


def physical_schema(conn: Conn, branch: str) -> str:
    row = conn.execute(
        "SELECT bs.physical_schema FROM pggit.branch_schemas bs JOIN pggit.branches b ON b.id = bs.branch_id "
        "WHERE b.name = %s AND b.status <> 'deleted' AND bs.tracked_schema = 'public'", (branch,)).fetchone()
    assert row is not None
    return str(row[0])


def log_count(conn: Conn) -> int:
    row = conn.execute("SELECT count(*) FROM pggit.ddl_log").fetchone()
    assert row is not None
    return int(str(row[0]))
