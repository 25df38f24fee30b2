"""Branching timings: pggit.create_branch for 50 / 200 / 1000-table schemas (each table with a serial key,
a foreign key to the previous table, an index, and a view per 10 tables), snapshot time, and diff time
between two ~1000-object schemas; prints the figures.

Usage: python bench/branching.py [--sizes 50,200,1000] [--rounds 3]
Uses $PGGIT_DSN's server when set (it creates and drops scratch databases there), else starts an
embedded server under a temporary directory on /dev/shm (or the temp dir) and destroys it at the end.
Targets: create_branch under 1 s for 200 tables; diff of two ~1000-object snapshots under 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pggit_core import install
from pggit_core.server import EmbeddedServer

Conn = psycopg.Connection[tuple[Any, ...]]


@contextmanager
def admin_dsn() -> Iterator[str]:
    given = os.environ.get("PGGIT_DSN")
    if given:
        yield given
        return
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    server = EmbeddedServer(base / f"pggit-bench-branching-{os.getpid()}", fast=True)
    info = server.start()
    try:
        yield info.dsn_for("postgres")
    finally:
        server.destroy()


def dsn_for(admin: str, database: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(admin)
    params["dbname"] = database
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v is not None})


@contextmanager
def scratch_database(admin: str, name: str) -> Iterator[Conn]:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(dsn_for(admin, name), autocommit=True) as conn:
            install.install(conn)
            yield conn
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def build_schema(conn: Conn, tables: int) -> int:
    """`tables` tables t0001.. with a serial key, a FK to the previous table, an index; a view per 10."""
    statements: list[sql.Composed] = []
    for i in range(1, tables + 1):
        name = sql.Identifier(f"t{i:04d}")
        fk = sql.SQL("")
        if i > 1:
            fk = sql.SQL(", prev_id integer REFERENCES {} (id)").format(sql.Identifier(f"t{i - 1:04d}"))
        statements.append(sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, label text NOT NULL DEFAULT '', "
                                  "created_at timestamptz NOT NULL DEFAULT now(){})").format(name, fk))
        statements.append(sql.SQL("CREATE INDEX {} ON {} (label)").format(sql.Identifier(f"t{i:04d}_label_idx"), name))
        if i % 10 == 0:
            statements.append(sql.SQL("CREATE VIEW {} AS SELECT id, label FROM {} WHERE label <> ''").format(
                sql.Identifier(f"t{i:04d}_v"), name))
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
    row = conn.execute("SELECT count(*) FROM jsonb_object_keys(pggit.snapshot()->'objects')").fetchone()
    assert row is not None
    return int(row[0])


def timed(conn: Conn, query: str, params: tuple[Any, ...] = ()) -> float:
    started = time.perf_counter()
    conn.execute(query.encode(), params)
    return (time.perf_counter() - started) * 1000


def bench_size(admin: str, tables: int, rounds: int) -> dict[str, Any]:
    with scratch_database(admin, f"pggit_bench_branching_{tables}") as conn:
        objects = build_schema(conn, tables)
        conn.execute("SELECT pggit.commit('schema')")
        snapshot_ms = [timed(conn, "SELECT pggit.snapshot()") for _ in range(rounds)]
        create_ms = [timed(conn, "SELECT pggit.create_branch(%s)", (f"bench/b{r}",)) for r in range(rounds)]
        conn.execute("SELECT pggit.checkout('bench/b0')")
        conn.execute("ALTER TABLE t0001 ADD COLUMN extra integer")
        conn.execute("CREATE INDEX t0002_created_idx ON t0002 (created_at)")
        conn.execute("SELECT pggit.checkout('main')")
        a = conn.execute("SELECT pggit.snapshot('main')").fetchone()
        b = conn.execute("SELECT pggit.snapshot('bench/b0')").fetchone()
        assert a is not None and b is not None
        docs = (psycopg.types.json.Jsonb(a[0]), psycopg.types.json.Jsonb(b[0]))
        diff_docs_ms = [timed(conn, "SELECT count(*) FROM pggit._diff_docs(%s, %s)", docs) for _ in range(rounds)]
        diff_live_ms = [timed(conn, "SELECT count(*) FROM pggit.diff('main', 'bench/b0')") for _ in range(rounds)]
        data_ms = timed(conn, "SELECT pggit.create_branch('bench/data', copy_data => true)")
    return {
        "tables": tables,
        "objects": objects,
        "snapshot_ms": round(statistics.median(snapshot_ms), 1),
        "create_branch_ms": round(statistics.median(create_ms), 1),
        "create_branch_with_data_ms": round(data_ms, 1),
        "diff_snapshots_ms": round(statistics.median(diff_docs_ms), 1),
        "diff_live_branches_ms": round(statistics.median(diff_live_ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = []
    with admin_dsn() as admin:
        for size in (int(s) for s in args.sizes.split(",")):
            result = bench_size(admin, size, args.rounds)
            results.append(result)
            print(json.dumps(result))
    print()
    print(f"{'tables':>7} {'objects':>8} {'snapshot':>9} {'create_branch':>14} {'+data':>8} {'diff docs':>10} "
          f"{'diff live':>10}  (ms, median of {args.rounds})")
    for r in results:
        print(f"{r['tables']:>7} {r['objects']:>8} {r['snapshot_ms']:>9} {r['create_branch_ms']:>14} "
              f"{r['create_branch_with_data_ms']:>8} {r['diff_snapshots_ms']:>10} {r['diff_live_branches_ms']:>10}")


if __name__ == "__main__":
    main()
