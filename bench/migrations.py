"""Migration generation figures: generate (plan, lint, render), write + pggit.sum, verify and pinned apply for a
branch that changes N of the tables of a T-table schema (with FKs, indexes and views). Prints the figures.

Usage: python bench/migrations.py [--tables 200] [--changed 100]
Uses $PGGIT_DSN's server when set (it creates and drops scratch databases there), else starts an embedded
server under a temporary directory on /dev/shm (or the temp dir) and destroys it at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from support import admin_dsn, scratch_database

from pggit_core import install
from pggit_core.migrations import MigrationGenerator
from pggit_core.migrations import apply as migration_apply
from pggit_core.migrations import files as migration_files


def schema(tables: int) -> list[sql.Composable]:
    out: list[sql.Composable] = []
    for i in range(tables):
        t = sql.Identifier(f"t{i}")
        parent = sql.Identifier(f"t{i - 1}")
        ref = sql.SQL(", parent_id integer REFERENCES {} (id)").format(parent) if i else sql.SQL("")
        out.append(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, name text NOT NULL, created_at timestamptz{})")
                   .format(t, ref))
        out.append(sql.SQL("CREATE INDEX {} ON {} (name)").format(sql.Identifier(f"t{i}_name_idx"), t))
        if i % 10 == 0:
            out.append(sql.SQL("CREATE VIEW {} AS SELECT id, name FROM {}").format(sql.Identifier(f"v{i}"), t))
    return out


def changes(count: int) -> list[sql.Composable]:
    out: list[sql.Composable] = []
    for i in range(count):
        t = sql.Identifier(f"t{i}")
        out.append(sql.SQL("ALTER TABLE {} ADD COLUMN {} text").format(t, sql.Identifier(f"note_{i}")))
        out.append(sql.SQL("CREATE INDEX {} ON {} (created_at)").format(sql.Identifier(f"t{i}_created_idx"), t))
    return out


def timed(label: str, start: float) -> float:
    now = time.perf_counter()
    print(f"  {label:<34} {1000 * (now - start):9.1f} ms")
    return now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--changed", type=int, default=100)
    args = parser.parse_args()
    with admin_dsn("migrations") as admin, \
            scratch_database(admin, f"pggit_bench_mig_src_{os.getpid()}") as src_dsn, \
            scratch_database(admin, f"pggit_bench_mig_dst_{os.getpid()}") as dst_dsn:
        run(src_dsn, dst_dsn, args.tables, args.changed)


def run(src_dsn: str, dst_dsn: str, tables: int, changed: int) -> None:
    with psycopg.connect(src_dsn, autocommit=True) as src, psycopg.connect(dst_dsn, autocommit=True) as dst:
        for conn in (src, dst):
            install.install(conn)
            for statement in schema(tables):
                conn.execute(statement)
        src.execute("SELECT pggit.create_branch('bench/work')")
        src.execute("SELECT pggit.checkout('bench/work')")
        for statement in changes(changed):
            src.execute(statement)
        src.execute("SELECT pggit.commit('bench work')")
        src.execute("SELECT pggit.checkout('main')")
        print(f"schema: {tables} tables (+ indexes, FKs, {tables // 10} views); branch changes {changed} tables "
              f"({2 * changed} statements)")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "migrations"
            start = time.perf_counter()
            migration = MigrationGenerator(src, concurrent_indexes=True).generate_from_branch("bench/work", "bench")
            start = timed(f"generate ({len(migration.up_steps)} up / {len(migration.down_steps)} down)", start)
            hazards = len(migration.hazards)
            migration.write_to_file(folder)
            start = timed("write + pggit.sum + record", start)
            migration_files.verify(folder)
            start = timed("verify", start)
            migration_apply.apply(dst, folder)
            timed(f"pinned apply (check, run, check; {hazards} hazards)", start)


if __name__ == "__main__":
    main()
