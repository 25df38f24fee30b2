"""Cost of validating an LLM proposal (parse, scratch branch from the target, run, two snapshots, three-way)
as the target schema grows; prints the median time of `proposal_check.check` per schema size.

Usage: python bench/llm_validation.py [--sizes 10,100,300] [--rounds N]
Uses $PGGIT_DSN's server when set (it creates and drops scratch databases there), else starts an embedded
server under a temporary directory on /dev/shm (or the temp dir) and destroys it at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg
from psycopg import sql
from support import admin_dsn, scratch_database

from pggit_core import install, proposal_check, resolution


def conflict(conn: psycopg.Connection[tuple[object, ...]], tables: int) -> int:
    """main with `tables` extra tables plus users; two branches add different columns to users."""
    conn.execute("CREATE TABLE users (id integer PRIMARY KEY, email text)")
    for n in range(tables):
        conn.execute(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, v text, w integer)").format(
            sql.Identifier(f"t_{n}")))
    conn.execute("SELECT pggit.commit('base')")
    for branch, column in (("agent/a", "a_col text"), ("agent/b", "b_col jsonb")):
        conn.execute("SELECT pggit.create_branch(%s, 'main')", (branch,))
        conn.execute("SELECT pggit.checkout(%s)", (branch,))
        conn.execute(("ALTER TABLE users ADD COLUMN " + column).encode())
        conn.execute("SELECT pggit.commit('work')")
        conn.execute("SELECT pggit.checkout('main')")
    conn.execute("SELECT pggit.merge('agent/a', 'main')")
    row = conn.execute("SELECT pggit.merge('agent/b', 'main')").fetchone()
    assert row is not None
    result = row[0]
    assert isinstance(result, dict) and result["result"] == "conflicts", result
    return int(result["conflicts"][0]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300", help="comma-separated numbers of extra tables")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    with admin_dsn("llm") as admin:
        print(f"{'tables':>7} {'check median ms':>16} {'min ms':>8} {'max ms':>8}")
        for size in sizes:
            with scratch_database(admin, f"pggit_bench_llm_{os.getpid()}_{size}") as dsn:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    install.install(conn)
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conflict_id = conflict(conn, size)
                    context, _ = resolution.load_context(conn, conflict_id)
                    times: list[float] = []
                    for _ in range(args.rounds):
                        start = time.perf_counter()
                        result = proposal_check.check(conn, context, ["ALTER TABLE users ADD COLUMN b_col jsonb"])
                        times.append((time.perf_counter() - start) * 1000)
                        assert result.ok, result.problems
                    print(f"{size + 1:>7} {statistics.median(times):>16.1f} {min(times):>8.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()
