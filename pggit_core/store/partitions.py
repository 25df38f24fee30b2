"""Reads and writes of pggit.agent_partitions: tables and schemas owned by an agent type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from pggit_core.intents import Partition

Conn = psycopg.Connection[Any]


def define(conn: Conn, agent_type: str, tables: Sequence[str], schemas: Sequence[str]) -> Partition:
    """Create or replace an agent type's partition."""
    conn.execute("""INSERT INTO pggit.agent_partitions (agent_type, owned_tables, owned_schemas)
                    VALUES (%s, %s, %s)
                    ON CONFLICT (agent_type) DO UPDATE
                       SET owned_tables = EXCLUDED.owned_tables, owned_schemas = EXCLUDED.owned_schemas""",
                 (agent_type, list(tables), list(schemas)))
    return Partition(agent_type, tuple(tables), tuple(schemas))
