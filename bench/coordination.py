"""Coordination figures: register latency with 10,000 live intents (without and with branch creation, with
the dry run), and 32 agents registering overlapping intents at once (lost conflicts must be zero).

Usage: python bench/coordination.py [--dsn DSN] [--live 10000] [--samples 300] [--agents 32]
Without --dsn / $PGGIT_DSN it uses the embedded server. It creates (and drops) a scratch database."""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from support import scratch_database

from pggit_core import install
from pggit_core.connect import resolve_dsn
from pggit_core.coordination import IntentRegistry

TABLES = 1000  # tables intents talk about (they need not exist: intents describe a future state)


def _percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"p50 {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   max {ms[-1]:7.2f} ms   (n={len(ms)})"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _changes(rng: random.Random, i: int) -> tuple[list[str], list[str]]:
    tables = sorted({f"t{rng.randrange(TABLES)}" for _ in range(rng.choice((1, 1, 2)))})
    return [f"ALTER TABLE {t} ADD COLUMN c{i}_{n} int" for n, t in enumerate(tables)], tables


def fill(conn: psycopg.Connection[tuple[object, ...]], live: int, rng: random.Random) -> None:
    registry = IntentRegistry(conn, create_branches=False)
    start = time.perf_counter()
    for i in range(live):
        changes, tables = _changes(rng, i)
        registry.register(f"filler-{i}", "f", changes, tables)
    took = time.perf_counter() - start
    print(f"filled {live} live intents in {took:.1f} s ({took / live * 1000:.2f} ms each, footprint "
          f"{TABLES} tables, 1-2 tables per intent)")


def measure(conn: psycopg.Connection[tuple[object, ...]], samples: int, rng: random.Random) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS public.users (id serial PRIMARY KEY, email text)")
    for t in range(20):
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS public.{} (id int)").format(sql.Identifier(f"real{t}")))
    plain = IntentRegistry(conn, create_branches=False)
    times = []
    for i in range(samples):
        changes, tables = _changes(rng, 100000 + i)
        times.append(_timed(lambda c=changes, t=tables, i=i: plain.register(f"bench-{i}", "f", c, t)))
    print(f"register, no branch            : {_percentiles(times)}")
    times = []
    for i in range(samples):
        changes, tables = _changes(rng, 200000 + i)
        times.append(_timed(lambda c=changes, t=tables, i=i: plain.check(f"check-{i}", "f", c, t)))
    print(f"check (pre-flight), no branch  : {_percentiles(times)}")
    few = max(10, samples // 10)
    branched = IntentRegistry(conn, create_branches=True, dry_run=False)
    times = []
    for i in range(few):
        times.append(_timed(lambda i=i: branched.register(
            f"branch-{i}", "f", [f"ALTER TABLE real{i % 20} ADD COLUMN b{i} int"], [f"real{i % 20}"])))
    print(f"register + create_branch       : {_percentiles(times)}   (main has 21 tables)")
    dry = IntentRegistry(conn, create_branches=True, dry_run=True)
    times = []
    for i in range(few):
        times.append(_timed(lambda i=i: dry.register(
            f"dry-{i}", "f", [f"ALTER TABLE real{i % 20} ADD COLUMN d{i} int",
                              f"CREATE INDEX ON real{i % 20} (d{i})"], [f"real{i % 20}"])))
    print(f"register + branch + dry run    : {_percentiles(times)}")
    plan = conn.execute(
        """EXPLAIN SELECT DISTINCT intent_id FROM pggit.intent_objects WHERE live AND table_key = ANY(%s::text[])""",
        (["public.t1", "public.t2"],)).fetchall()
    scans = [str(r[0]).strip() for r in plan if "Scan" in str(r[0])]
    print("overlap lookup plan            : " + " / ".join(scans))


WORKER = r"""
import os, sys, time
import psycopg
from pggit_core.coordination import IntentRegistry
dsn, index, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = psycopg.connect(dsn, autocommit=True)
registry = IntentRegistry(conn, create_branches=False)
from pggit_core.footprint import build
build(["ALTER TABLE warm_up ADD COLUMN x int"])  # a long-lived agent has its parser warm
conn.execute("SELECT 1")
open(go + f".ready{index}", "w").close()
while not os.path.exists(go):
    time.sleep(0.0005)
start = time.perf_counter()
registry.register(f"race-{index}", "f", [f"ALTER TABLE hot ADD COLUMN c{index % 8} int",
                                        f"ALTER TABLE hot{index % 4} ADD COLUMN x{index} int"],
                  ["hot", f"hot{index % 4}"])
print(time.perf_counter() - start)
"""


def race(dsn: str, agents: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, dsn, str(i), str(go)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(agents)]
        # release every worker together once all have imported and connected
        deadline = time.monotonic() + 300
        while len(list(go.parent.glob(go.name + ".ready*"))) < len(procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        start = time.perf_counter()
        go.write_text("go")
        latencies = []
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise SystemExit(f"worker failed: {err}")
            latencies.append(float(out.strip()))
        wall = time.perf_counter() - start
    with psycopg.connect(dsn) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM pggit.intents WHERE agent_id LIKE 'race-%'").fetchall()]
        pairs = {frozenset((a, b)) for a, b in conn.execute(
            "SELECT intent_id, other_intent_id FROM pggit.intent_conflicts c JOIN pggit.intents i "
            "ON i.id = c.intent_id WHERE i.agent_id LIKE 'race-%' AND c.other_intent_id IS NOT NULL").fetchall()}
    lost = [p for p in itertools.combinations(ids, 2) if frozenset(p) not in pairs]
    print(f"{agents} agents at once (same hot table): wall {wall * 1000:.0f} ms, {_percentiles(latencies)}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        registry = IntentRegistry(conn, create_branches=False)
        start = time.perf_counter()
        for i in range(agents):
            registry.register(f"seq-{i}", "f", [f"ALTER TABLE seqhot ADD COLUMN c{i % 8} int",
                                                f"ALTER TABLE seqhot{i % 4} ADD COLUMN x{i} int"],
                              ["seqhot", f"seqhot{i % 4}"])
        chain = time.perf_counter() - start
    print(f"  the same {agents} registrations one after another from one process: {chain * 1000:.0f} ms "
          "(the floor of the serialized chain; the rest above is process scheduling on a shared machine)")
    print(f"  overlapping pairs {agents * (agents - 1) // 2}, pairs with a recorded conflict {len(pairs)}, "
          f"lost conflicts {len(lost)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--live", type=int, default=10000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--agents", type=int, default=32)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(figures are only meaningful on an otherwise idle machine)")
    admin = resolve_dsn(args.dsn)
    with scratch_database(admin, "pggit_bench_coordination") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            install.install(conn)
            rng = random.Random(7)
            fill(conn, args.live, rng)
            conn.execute("ANALYZE pggit.intent_objects")
            conn.execute("ANALYZE pggit.intents")
            measure(conn, args.samples, rng)
        race(dsn, args.agents)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
