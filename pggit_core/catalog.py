"""The catalog reader: a branch's (or a commit's) schema as a Snapshot, read by pggit.snapshot in SQL."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pggit_core.snapshot import Snapshot
from pggit_core.store.commits import database_errors


def read_snapshot(conn: psycopg.Connection[Any], branch: str = "main") -> Snapshot:
    """The live schema of ``branch``."""
    with database_errors():
        row = conn.execute("SELECT pggit.snapshot(%s)", (branch,)).fetchone()
    assert row is not None
    return Snapshot.from_doc(row[0])


def read_ref(conn: psycopg.Connection[Any], ref: str) -> Snapshot:
    """The schema a ref names: a branch (live) or ``@<commit id>`` (the commit's stored snapshot)."""
    with database_errors():
        row = conn.execute("SELECT pggit._resolve_ref(%s)", (ref,)).fetchone()
    assert row is not None
    return Snapshot.from_doc(row[0])


def snapshot_hash(conn: psycopg.Connection[Any], snapshot: Snapshot) -> str:
    """The document's identity hash, `pggit.snapshot_hash(doc)`: the one definition is the database's."""
    row = conn.execute("SELECT pggit.snapshot_hash(%s)", (Jsonb(snapshot.to_doc()),)).fetchone()
    assert row is not None
    return str(row[0])
