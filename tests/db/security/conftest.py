"""A small world for attacks: main with users (10 rows) and orders (100 rows), committed; two agent roles made
by pggit.add_agent, each connected as itself and checked out to a branch of its own; and an admin (the
superuser) who checks main's catalog and rows from a connection of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from pggit_core import agents

Conn = psycopg.Connection[tuple[Any, ...]]

MAIN = """
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total int);
INSERT INTO users (email, name) SELECT 'u' || g || '@example.com', 'user ' || g FROM generate_series(1, 10) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 10, g FROM generate_series(1, 100) g;
"""


@dataclass
class World:
    """Who is there, and what main looked like before anything was tried."""

    dsn: str
    admin: Conn
    attacker: Conn
    victim: Conn
    attacker_schema: str
    victim_schema: str
    main_before: dict[str, Any] = field(default_factory=dict)
    rows_before: tuple[Any, ...] = ()
    victim_before: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> tuple[Any, ...]:
        """main's rows as another connection sees them: counts, a digest of the emails, the order total."""
        row = self.admin.execute(
            "SELECT (SELECT count(*) FROM public.users), (SELECT md5(string_agg(email, ',' ORDER BY id)) FROM "
            "public.users), (SELECT count(*) FROM public.orders), (SELECT sum(total) FROM public.orders)").fetchone()
        assert row is not None
        return tuple(row)

    def snapshot(self, branch: str = "main") -> dict[str, Any]:
        row = self.admin.execute("SELECT pggit._comparable_doc(pggit.snapshot(%s))", (branch,)).fetchone()
        assert row is not None
        doc: dict[str, Any] = row[0]
        return doc

    def assert_untouched(self) -> None:
        """main's schema and rows, and the victim's branch, are what they were; the triggers are on; nobody
        became superuser; the attacker's connection still works."""
        assert self.rows() == self.rows_before
        assert self.snapshot() == self.main_before
        assert self.snapshot("agent/victim") == self.victim_before
        triggers = self.admin.execute("SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname LIKE "
                                      "'pggit%' ORDER BY 1").fetchall()
        assert triggers == [("pggit_capture_ddl", "A"), ("pggit_capture_drop", "A")]
        powers = self.admin.execute("SELECT rolname, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE "
                                    "rolname IN ('attacker', 'victim') ORDER BY 1").fetchall()
        assert powers == [("attacker", False, False, False), ("victim", False, False, False)]
        assert self.attacker.execute("SELECT 1").fetchone() == (1,)


def _login(admin: Conn, dsn: str, name: str) -> Conn:
    login = agents.add(admin, name, admin_dsn=dsn)
    conn = psycopg.connect(login.dsn, autocommit=True)
    return conn


@pytest.fixture
def world(db: str) -> Iterator[World]:
    admin = psycopg.connect(db, autocommit=True)
    admin.execute(MAIN)
    admin.execute("SELECT pggit.commit('users and orders')")
    attacker = _login(admin, db, "attacker")
    victim = _login(admin, db, "victim")
    for conn, branch in ((attacker, "agent/attacker"), (victim, "agent/victim")):
        conn.execute("SELECT pggit.create_branch(%s)", (branch,))
        conn.execute("SELECT pggit.checkout(%s)", (branch,))
    victim.execute("INSERT INTO users (email) VALUES ('victim@example.com')")
    victim.execute("ALTER TABLE users ADD COLUMN victim_work int")
    victim.execute("SELECT pggit.commit('victim work')")
    schemas = dict(admin.execute("SELECT name, schemas[1] FROM pggit.list_branches()").fetchall())
    found = World(dsn=db, admin=admin, attacker=attacker, victim=victim,
                  attacker_schema=str(schemas["agent/attacker"]), victim_schema=str(schemas["agent/victim"]))
    found.main_before = found.snapshot()
    found.rows_before = found.rows()
    found.victim_before = found.snapshot("agent/victim")
    try:
        yield found
    finally:
        for conn in (attacker, victim, admin):
            conn.close()
