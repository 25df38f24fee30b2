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
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from support import Conn, admin_dsn, scratch_pggit


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


def backend_cpu_ms(conn: Conn) -> float | None:
    """CPU time the connection's server process has used (user + system), when its /proc entry is readable.
    On a busy machine this is closer to what an idle machine would show than wall time."""
    try:
        fields = Path(f"/proc/{conn.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def timed(conn: Conn, query: str, params: tuple[Any, ...] = (), cpu: list[float] | None = None) -> float:
    """Wall milliseconds of one query; its server CPU milliseconds are appended to ``cpu``."""
    cpu_before = backend_cpu_ms(conn)
    started = time.perf_counter()
    conn.execute(query.encode(), params)
    wall = (time.perf_counter() - started) * 1000
    cpu_after = backend_cpu_ms(conn)
    if cpu is not None and cpu_before is not None and cpu_after is not None:
        cpu.append(cpu_after - cpu_before)
    return wall


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def bench_size(admin: str, tables: int, rounds: int) -> dict[str, Any]:
    with scratch_pggit(admin, f"pggit_bench_branching_{tables}") as conn:
        objects = build_schema(conn, tables)
        conn.execute("SELECT pggit.commit('schema')")
        cpu: dict[str, list[float]] = {k: [] for k in ("snapshot", "create", "diff_docs", "diff_live")}
        snapshot_ms = [timed(conn, "SELECT pggit.snapshot()", cpu=cpu["snapshot"]) for _ in range(rounds)]
        create_ms = [timed(conn, "SELECT pggit.create_branch(%s)", (f"bench/b{r}",), cpu=cpu["create"])
                     for r in range(rounds)]
        conn.execute("SELECT pggit.checkout('bench/b0')")
        conn.execute("ALTER TABLE t0001 ADD COLUMN extra integer")
        conn.execute("CREATE INDEX t0002_created_idx ON t0002 (created_at)")
        conn.execute("SELECT pggit.checkout('main')")
        a = conn.execute("SELECT pggit.snapshot('main')").fetchone()
        b = conn.execute("SELECT pggit.snapshot('bench/b0')").fetchone()
        assert a is not None and b is not None
        docs = (psycopg.types.json.Jsonb(a[0]), psycopg.types.json.Jsonb(b[0]))
        diff_docs_ms = [timed(conn, "SELECT count(*) FROM pggit._diff_docs(%s, %s)", docs, cpu=cpu["diff_docs"])
                        for _ in range(rounds)]
        diff_live_ms = [timed(conn, "SELECT count(*) FROM pggit.diff('main', 'bench/b0')", cpu=cpu["diff_live"])
                        for _ in range(rounds)]
        data_ms = timed(conn, "SELECT pggit.create_branch('bench/data', copy_data => true)")
    return {
        "tables": tables,
        "objects": objects,
        "snapshot_ms": median(snapshot_ms),
        "create_branch_ms": median(create_ms),
        "create_branch_with_data_ms": round(data_ms, 1),
        "diff_snapshots_ms": median(diff_docs_ms),
        "diff_live_branches_ms": median(diff_live_ms),
        "cpu_ms": {k: median(v) for k, v in cpu.items()},
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = []
    with admin_dsn("branching") as admin:
        for size in (int(s) for s in args.sizes.split(",")):
            result = bench_size(admin, size, args.rounds)
            results.append(result)
            print(json.dumps(result))
    print()
    print(f"{'tables':>7} {'objects':>8} {'snapshot':>9} {'create_branch':>14} {'+data':>8} {'diff docs':>10} "
          f"{'diff live':>10}  (wall ms, median of {args.rounds}; server CPU ms in brackets)")
    for r in results:
        c = r["cpu_ms"]
        print(f"{r['tables']:>7} {r['objects']:>8} {r['snapshot_ms']:>9} {r['create_branch_ms']:>14} "
              f"{r['create_branch_with_data_ms']:>8} {r['diff_snapshots_ms']:>10} {r['diff_live_branches_ms']:>10}"
              f"   [{c['snapshot']} / {c['create']} / {c['diff_docs']} / {c['diff_live']}]"
              f"  load {r['load_average']:.1f}")


if __name__ == "__main__":
    main()
