"""Capture overhead: the same DDL with and without pggit installed; prints the added time per statement.

Usage: python bench/capture.py [--rounds N]
Uses $PGGIT_DSN's server when set (it creates and drops two scratch databases there), else starts an
embedded server under a temporary directory on /dev/shm (or the temp dir) and destroys it at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict

import psycopg
from support import admin_dsn, scratch_database

from pggit_core import install

# One round: a table's life, five DDL commands (the {n} makes every round's names new).
ROUND = [
    ("create table", "CREATE TABLE bench_{n} (id serial PRIMARY KEY, v text NOT NULL)"),
    ("add column", "ALTER TABLE bench_{n} ADD COLUMN w integer"),
    ("create index", "CREATE INDEX bench_{n}_w_idx ON bench_{n} (w)"),
    ("comment", "COMMENT ON TABLE bench_{n} IS 'round {n}'"),
    ("drop table", "DROP TABLE bench_{n}"),
]


def run_rounds(conn: psycopg.Connection[tuple[object, ...]], rounds: int, offset: int) -> dict[str, list[float]]:
    """Seconds per statement, by statement kind."""
    times: dict[str, list[float]] = defaultdict(list)
    for n in range(offset, offset + rounds):
        for kind, template in ROUND:
            statement = template.format(n=n)
            start = time.perf_counter()
            conn.execute(statement.encode())
            times[kind].append(time.perf_counter() - start)
    return times


def measure(dsn: str, rounds: int, checkout: str | None) -> dict[str, list[float]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if checkout is not None:
            conn.execute("SELECT pggit.checkout(%s)", (checkout,))
        run_rounds(conn, max(rounds // 10, 5), 1_000_000)  # warm up caches and plans
        return run_rounds(conn, rounds, 0)


SERVER_LOOP = """DO $bench$
BEGIN
    FOR i IN 1..{n} LOOP
        EXECUTE format('ALTER TABLE bench_loop ADD COLUMN c%s integer', i);
        EXECUTE format('ALTER TABLE bench_loop DROP COLUMN c%s', i);
    END LOOP;
END
$bench$"""


def server_side(dsn: str, n: int) -> float:
    """Seconds per DDL command run inside one DO block (no client round trips; every command fires capture)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        # A new table each time: dropped columns still count towards PostgreSQL's 1600-column limit.
        conn.execute("DROP TABLE IF EXISTS bench_loop")
        conn.execute("CREATE TABLE bench_loop (id integer)")
        conn.execute(SERVER_LOOP.format(n=10).encode())
        start = time.perf_counter()
        conn.execute(SERVER_LOOP.format(n=n).encode())
        return (time.perf_counter() - start) / (2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="table lives per run (5 DDL each)")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per database")
    args = parser.parse_args()

    with admin_dsn("capture") as admin, \
            scratch_database(admin, "pggit_bench_plain") as plain, \
            scratch_database(admin, "pggit_bench_pggit") as tracked:
        with psycopg.connect(tracked, autocommit=True) as conn:
            install.install(conn)
            have_branches = conn.execute(
                "SELECT to_regproc('pggit.create_branch') IS NOT NULL").fetchone()
            if have_branches and have_branches[0]:
                conn.execute("SELECT pggit.create_branch('bench/branch')")
        branch = "bench/branch" if have_branches and have_branches[0] else None

        runs: dict[str, dict[str, list[float]]] = {"without pggit": defaultdict(list),
                                                   "pggit, on main": defaultdict(list)}
        if branch:
            runs["pggit, on a branch"] = defaultdict(list)
        for _ in range(args.repeat):  # alternate, so drift hits every configuration alike
            for label, dsn, target in (("without pggit", plain, None), ("pggit, on main", tracked, None),
                                       ("pggit, on a branch", tracked, branch)):
                if label not in runs:
                    continue
                for kind, values in measure(dsn, args.rounds, target).items():
                    runs[label][kind].extend(values)
        loops: dict[str, list[float]] = {"without pggit": [], "pggit, on main": []}
        for _ in range(args.repeat):
            loops["without pggit"].append(server_side(plain, 500))
            loops["pggit, on main"].append(server_side(tracked, 500))
        with psycopg.connect(tracked, autocommit=True) as conn:
            logged = conn.execute("SELECT count(*) FROM pggit.ddl_log").fetchone()

    statements = args.rounds * len(ROUND) * args.repeat
    print(f"capture overhead: {statements} DDL statements per configuration "
          f"({args.rounds} rounds x {len(ROUND)} kinds x {args.repeat} runs), autocommit, one connection")
    print(f"ddl_log rows written: {logged[0] if logged else '?'}")
    print(f"{'statement':<14}" + "".join(f"{label:>22}" for label in runs) + f"{'added (median)':>22}")
    for kind, _ in ROUND:
        medians = {label: statistics.median(values[kind]) * 1000 for label, values in runs.items()}
        added = max(m - medians["without pggit"] for label, m in medians.items() if label != "without pggit")
        print(f"{kind:<14}" + "".join(f"{medians[label]:>19.3f} ms" for label in runs) + f"{added:>19.3f} ms")
    every = {label: [v for kind, _ in ROUND for v in values[kind]] for label, values in runs.items()}
    plain_mean = statistics.fmean(every["without pggit"]) * 1000
    for label, values in every.items():
        if label == "without pggit":
            continue
        mean = statistics.fmean(values) * 1000
        print(f"mean per statement, {label}: {mean:.3f} ms vs {plain_mean:.3f} ms without pggit "
              f"-> {mean - plain_mean:+.3f} ms added (target < 1 ms), {mean / plain_mean:.2f}x the floor")
    plain_loop = min(loops["without pggit"]) * 1000
    tracked_loop = min(loops["pggit, on main"]) * 1000
    print(f"server side (1000 ALTER TABLE in one DO block, best of {args.repeat}): {tracked_loop:.3f} ms vs "
          f"{plain_loop:.3f} ms per command -> {tracked_loop - plain_loop:+.3f} ms added by capture, "
          f"{tracked_loop / plain_loop:.2f}x the floor")
    print(f"load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs); other work on the machine inflates every figure")


if __name__ == "__main__":
    main()
