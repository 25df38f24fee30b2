"""The snapshot contract, checked on what PostgreSQL produced: every document a test database stored
(`pggit.snapshots.doc`) is validated against the checked-in JSON Schema (docs/snapshot.schema.json) and read by
the typed model, before the database is dropped. Documents already checked in this process (same hash) are not
checked again. With PGGIT_SNAPSHOT_CONTRACT=live, every live branch's `pggit.snapshot(b)` is checked too (about
0.25 s per database on a cold backend, so not by default)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from pggit_core.snapshot import Snapshot

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "snapshot.schema.json"
_SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
_checked: set[str] = set()


@dataclass
class Stats:
    """What the contract cost this process (reported in pytest's summary)."""

    databases: int = 0
    documents: int = 0
    seconds: float = 0.0
    query: float = 0.0
    validate: float = 0.0
    live: float = 0.0


STATS = Stats()

_STORED = """
SELECT 'stored ' || s.hash, s.hash, s.doc FROM pggit.snapshots s WHERE s.hash <> ALL(%(seen)s::text[])
"""
_LIVE = """
SELECT 'pggit.snapshot(' || quote_literal(l.name) || ')', l.hash, l.doc
  FROM (SELECT b.name, d.doc, pggit.snapshot_hash(d.doc) AS hash
          FROM pggit.branches b, LATERAL (SELECT pggit.snapshot(b.name) AS doc) d
         WHERE b.status <> 'deleted') l
 WHERE l.hash <> ALL(%(seen)s::text[])
   AND NOT EXISTS (SELECT 1 FROM pggit.snapshots s WHERE s.hash = l.hash)
"""


def _where(path: list[Any]) -> str:
    return ".".join(str(p) for p in path) or "(the object itself)"


def _kind_validators() -> tuple[Draft202012Validator, dict[str, Draft202012Validator]]:
    """The checked-in schema split at its discriminator: the document without its objects, and one validator
    per kind (what `oneOf` + `discriminator` mean, without trying every kind on every object)."""
    objects = _SCHEMA["properties"]["objects"]
    outer = {**_SCHEMA, "properties": {**_SCHEMA["properties"],
                                       "objects": {**objects, "additionalProperties": {"type": "object"}}}}
    by_kind = {kind: Draft202012Validator({"$ref": ref, "$defs": _SCHEMA["$defs"]})
               for kind, ref in objects["additionalProperties"]["discriminator"]["mapping"].items()}
    return Draft202012Validator(outer), by_kind


_OUTER, _BY_KIND = _kind_validators()


def problems(doc: Any) -> list[str]:
    """What is wrong with a document, each naming the object key and the field; empty when it conforms."""
    found = [f"document: field {_where(list(e.absolute_path))}: {e.message}" for e in _OUTER.iter_errors(doc)]
    objects = doc.get("objects") if isinstance(doc, dict) else None
    for key, obj in sorted(objects.items()) if isinstance(objects, dict) else ():
        kind = obj.get("kind") if isinstance(obj, dict) else None
        validator = _BY_KIND.get(kind) if isinstance(kind, str) else None
        if validator is None:
            found.append(f"object {key}: field kind: {kind!r} is not one of {sorted(_BY_KIND)}")
            continue
        found.extend(f"object {key}: field {_where(list(e.absolute_path))}: {e.message}"
                     for e in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]))
    if not found:
        try:
            Snapshot.from_doc(doc)
        except ValidationError as exc:
            found.extend(f"model: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return found


def check_database(dsn: str) -> None:
    """Validate the documents of one test database; AssertionError naming the document, key and field."""
    started = time.perf_counter()
    try:
        _check(dsn)
    finally:
        STATS.databases += 1
        STATS.seconds += time.perf_counter() - started


def _check(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True, options="-c lock_timeout=20s") as conn:
        row = conn.execute("SELECT to_regclass('pggit.snapshots') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return
        t0 = time.perf_counter()
        rows = conn.execute(_STORED, {"seen": sorted(_checked)}).fetchall()
        STATS.query += time.perf_counter() - t0
        if os.environ.get("PGGIT_SNAPSHOT_CONTRACT") == "live":
            t0 = time.perf_counter()
            rows += conn.execute(_LIVE, {"seen": sorted(_checked)}).fetchall()
            STATS.live += time.perf_counter() - t0
    failures: list[str] = []
    for label, digest, doc in rows:
        STATS.documents += 1
        t1 = time.perf_counter()
        found = problems(doc)
        STATS.validate += time.perf_counter() - t1
        if found:
            failures.append(f"{label} breaks the snapshot contract (docs/snapshot.schema.json):\n  "
                            + "\n  ".join(found))
        else:
            _checked.add(str(digest))
    assert not failures, "\n".join(failures)
