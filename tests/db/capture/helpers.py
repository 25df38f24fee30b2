"""Helpers of the capture tests (plain functions over a connection)."""

from __future__ import annotations

import psycopg
from psycopg import sql

Conn = psycopg.Connection[tuple[object, ...]]


def make_branch(conn: Conn, name: str) -> None:
    """A branch of main's `users` table, made by hand until pggit.create_branch lands."""
    schema = "pggit_b_" + name.replace("/", "_").replace("-", "_")
    with conn.transaction():
        conn.execute("SELECT set_config('pggit.internal', 'on', true)")
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE TABLE {}.users (LIKE public.users INCLUDING ALL)").format(sql.Identifier(schema)))
        conn.execute("INSERT INTO pggit.branches (name, parent_id) VALUES (%s, 1)", (name,))
        conn.execute("INSERT INTO pggit.branch_schemas SELECT id, 'public', %s FROM pggit.branches WHERE name = %s",
                     (schema, name))


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
