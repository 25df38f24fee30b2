"""Wall time of the flows: one agent lifecycle without the review wait (and the same steps without Prefect, so the
orchestration overhead shows), and a nightly merge of 20 completed intents. Prints figures; asserts nothing.

    python bench/flows.py [--runs 5] [--intents 20]

Runs its own throwaway PostgreSQL (on /dev/shm when possible) and a temporary Prefect server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support import embedded_admin_dsn, recreate_database  # noqa: E402

from pggit_core import install, service  # noqa: E402

BASE = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)"


def _fresh(admin: str, name: str) -> str:
    dsn = recreate_database(admin, name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        install.install(conn)
        conn.execute(BASE)
        conn.execute("SELECT pggit.commit('base', 'bench')")
    return dsn


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _direct_lifecycle(dsn: str, feature: str, out: str) -> None:
    """The lifecycle's service calls in order, without Prefect (the baseline)."""
    statements = [f"ALTER TABLE users ADD COLUMN {feature} TEXT"]
    service.require_installed(dsn)
    target = dsn
    reg = service.register_intent(target, "bench-direct", feature, statements, ["users"], "low")
    service.wait_for_gate(target, reg.intent.id, timeout_seconds=0)
    service.start_work(target, reg.intent.id)
    service.apply_changes(target, reg.intent.id, statements, "bench")
    service.preview_merge(target, reg.intent.id, auto_resolve=False)
    service.review_packet(target, reg.intent.id)
    service.merge_intent(target, reg.intent.id, auto_resolve=False)
    service.generate_migration(target, feature, out)
    service.finish_intent(target, reg.intent.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--intents", type=int, default=20)
    args = parser.parse_args()

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from flows.agent_lifecycle import agent_change_flow
    from flows.nightly_merge import nightly_merge

    with embedded_admin_dsn("flows") as admin:
        out = tempfile.mkdtemp(prefix="pggit-bench-migrations-")
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            started = time.perf_counter()
            with prefect_test_harness(server_startup_timeout=180):
                print(f"prefect test server start: {time.perf_counter() - started:.1f} s")
                dsn = _fresh(admin, "bench_lifecycle")
                agent_change_flow(agent_id="bench-warmup", feature_name="warmup",  # first run pays imports
                                  schema_changes=["ALTER TABLE users ADD COLUMN warmup TEXT"],
                                  tables_affected=["users"], require_review=False, dsn=dsn, migrations_dir=out)
                flow_times = [
                    _timed(lambda n=n: agent_change_flow(
                        agent_id="bench-flow", feature_name=f"f{n}",
                        schema_changes=[f"ALTER TABLE users ADD COLUMN f{n} TEXT"], tables_affected=["users"],
                        require_review=False, dsn=dsn, migrations_dir=out))
                    for n in range(args.runs)
                ]
                direct_times = [_timed(lambda n=n: _direct_lifecycle(dsn, f"d{n}", out)) for n in range(args.runs)]
                flow_p50, direct_p50 = statistics.median(flow_times), statistics.median(direct_times)
                print(f"lifecycle flow (no review wait), {args.runs} runs: median {flow_p50:.2f} s, "
                      f"min {min(flow_times):.2f} s, max {max(flow_times):.2f} s")
                print(f"same steps without Prefect: median {direct_p50:.2f} s")
                print(f"orchestration overhead per lifecycle run: {flow_p50 - direct_p50:.2f} s (target < 5 s)")

                dsn = _fresh(admin, "bench_nightly")
                for n in range(args.intents):
                    statements = [f"CREATE TABLE t{n} (id bigint PRIMARY KEY, user_id bigint REFERENCES users)"]
                    reg = service.register_intent(dsn, f"agent-{n}", f"table_{n}", statements, [f"t{n}", "users"],
                                                  "low")
                    service.acknowledge_conflicts(dsn, reg.intent.id, "bench: independent tables")
                    service.start_work(dsn, reg.intent.id)
                    service.apply_changes(dsn, reg.intent.id, statements, "bench")
                started = time.perf_counter()
                result = nightly_merge(dsn=dsn, migrations_dir=str(Path(out) / "nightly"),
                                       migration_name="bench_nightly")
                elapsed = time.perf_counter() - started
                merged = len(result.with_outcome("merged"))
                print(f"nightly merge of {args.intents} intents: {elapsed:.2f} s ({merged} merged, "
                      f"{elapsed / max(1, merged):.2f} s per intent), migration "
                      f"{', '.join(f for f in result.migration_files if f.endswith('.up.sql'))}")


if __name__ == "__main__":
    main()
