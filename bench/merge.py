"""Merge timings: pggit.merge of a branch with 10 / 100 statements into a 200-table main, and conflict
detection between two branches that each touch the same 100 objects; prints the figures.

Usage: python bench/merge.py [--tables 200] [--rounds 3]
Uses $PGGIT_DSN's server when set (it creates and drops scratch databases there), else starts an
embedded server under a temporary directory on /dev/shm (or the temp dir) and destroys it at the end.
Target: a 100-statement merge into 200 tables under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import psycopg
from psycopg import sql
from support import Conn, admin_dsn, scratch_database, scratch_pggit


def ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def schema_statements(tables: int) -> list[sql.Composed]:
    """`tables` tables chained by foreign keys, each with an index; a view on every tenth."""
    statements: list[sql.Composed] = []
    for i in range(tables):
        table, parent = ident(f"t{i:03d}"), ident(f"t{i - 1:03d}")
        ref = sql.SQL(", parent_id integer REFERENCES {} (id)").format(parent) if i else sql.SQL("")
        statements.append(sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, name text NOT NULL,"
                                  " created_at timestamptz NOT NULL DEFAULT now(){})").format(table, ref))
        statements.append(sql.SQL("CREATE INDEX {} ON {} (name)").format(ident(f"t{i:03d}_name_idx"), table))
        if i % 10 == 0:
            statements.append(sql.SQL("CREATE VIEW {} AS SELECT id, name FROM {}").format(ident(f"v{i:03d}"), table))
    return statements


def build_schema(conn: Conn, tables: int) -> None:
    with conn.transaction():
        for statement in schema_statements(tables):
            conn.execute(statement)
    conn.execute("SELECT pggit.commit('bench schema')")


def branch_statements(count: int, tables: int, tag: str) -> list[sql.Composed]:
    """`count` DDL statements spread over the schema: new columns, indexes and a few new tables."""
    out: list[sql.Composed] = []
    for i in range(count):
        table = ident(f"t{(i * 7) % tables:03d}")
        match i % 3:
            case 0:
                out.append(sql.SQL("ALTER TABLE {} ADD COLUMN {} integer").format(table, ident(f"{tag}_c{i}")))
            case 1:
                out.append(sql.SQL("CREATE INDEX {} ON {} (created_at)").format(ident(f"{tag}_i{i}"), table))
            case _:
                out.append(sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, note text)").format(ident(f"{tag}_n{i}")))
    return out


def on_branch(conn: Conn, branch: str, statements: list[sql.Composed]) -> None:
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    for statement in statements:
        conn.execute(statement)
    conn.execute("SELECT pggit.checkout('main')")


def timed(conn: Conn, query: str, params: tuple[Any, ...]) -> tuple[float, Any]:
    start = time.perf_counter()
    row = conn.execute(query.encode(), params).fetchone()  # constant queries with bound parameters
    return time.perf_counter() - start, None if row is None else row[0]


def floor(admin: str, tables: int, count: int, name: str) -> float:
    """The same statements applied to the same schema in one transaction, without pggit installed."""
    with scratch_database(admin, name) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        with conn.transaction():
            for statement in schema_statements(tables):
                conn.execute(statement)
        start = time.perf_counter()
        with conn.transaction():
            for statement in branch_statements(count, tables, "b"):
                conn.execute(statement)
        return time.perf_counter() - start


def bench_merge(admin: str, tables: int, count: int, rounds: int) -> None:
    times: list[float] = []
    floors: list[float] = []
    method = ""
    for r in range(rounds):
        with scratch_pggit(admin, f"pggit_bench_merge_{os.getpid()}_{count}_{r}") as conn:
            build_schema(conn, tables)
            conn.execute("SELECT pggit.create_branch('agent/bench')")
            on_branch(conn, "agent/bench", branch_statements(count, tables, "b"))
            seconds, result = timed(conn, "SELECT pggit.merge('agent/bench', 'main')", ())
            assert result["result"] == "merged", json.dumps(result)[:500]
            method = result["method"]
            times.append(seconds)
        floors.append(floor(admin, tables, count, f"pggit_bench_floor_{os.getpid()}_{count}_{r}"))
    merge_ms, floor_ms = statistics.median(times) * 1000, statistics.median(floors) * 1000
    print(f"merge, {count:>3} statements into {tables} tables: median {merge_ms:7.1f} ms,"
          f" min {min(times) * 1000:7.1f} ms over {rounds} round(s) (method {method}); the same statements"
          f" without pggit: {floor_ms:6.1f} ms -> {merge_ms / floor_ms:5.1f}x the floor")


def bench_conflicts(admin: str, tables: int, touched: int, rounds: int) -> None:
    detect: list[float] = []
    pure: list[float] = []
    found = 0
    for r in range(rounds):
        with scratch_pggit(admin, f"pggit_bench_conflicts_{os.getpid()}_{r}") as conn:
            build_schema(conn, tables)
            conn.execute("SELECT pggit.create_branch('agent/a')")
            conn.execute("SELECT pggit.create_branch('agent/b')")
            names = [ident(f"t{i:03d}") for i in range(touched)]
            on_branch(conn, "agent/a", [sql.SQL("ALTER TABLE {} ADD COLUMN score integer").format(t) for t in names])
            on_branch(conn, "agent/b", [sql.SQL("ALTER TABLE {} ADD COLUMN score bigint").format(t) for t in names])
            assert conn.execute("SELECT pggit.merge('agent/a')").fetchone() is not None
            seconds, result = timed(conn, "SELECT pggit.merge('agent/b', 'main')", ())
            assert result["result"] == "conflicts"
            found = len(result["conflicts"])
            detect.append(seconds)
            docs = conn.execute(
                "SELECT s.doc, pggit.snapshot('main'), pggit.snapshot('agent/b') FROM pggit.branches b"
                " JOIN pggit.commits c ON c.id = b.base_commit_id JOIN pggit.snapshots s ON s.hash = c.snapshot_hash"
                " WHERE b.name = 'agent/b'").fetchone()
            assert docs is not None
            seconds, _ = timed(conn, "SELECT pggit._merge3(%s::jsonb, %s::jsonb, %s::jsonb)",
                               tuple(json.dumps(d) for d in docs))
            pure.append(seconds)
    print(f"conflicts, two branches x {touched} objects on {tables} tables: {found} conflicts;"
          f" pggit.merge median {statistics.median(detect) * 1000:7.1f} ms,"
          f" _merge3 alone median {statistics.median(pure) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with admin_dsn("merge") as admin:
        for count in (10, 100):
            bench_merge(admin, args.tables, count, args.rounds)
        bench_conflicts(admin, args.tables, 100, args.rounds)


if __name__ == "__main__":
    main()
