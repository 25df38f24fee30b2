"""pggit.diff between branches and commits: exactly the changes made, SQL that converges, clear errors."""

from __future__ import annotations

import psycopg
import pytest

from pggit_core import branching, catalog, errors
from pggit_core.diff import ChangeKind, diff, diff_snapshots
from pggit_core.snapshot import Snapshot
from tests.db.branching.helpers import Conn, run_on, snapshot

CHANGES = """
ALTER TABLE users ADD COLUMN nickname text;
ALTER TABLE order_items ALTER COLUMN qty TYPE bigint;
CREATE INDEX users_nickname_idx ON users (nickname) WHERE nickname IS NOT NULL;
DROP VIEW big_orders;
ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$f$;
DROP POLICY orders_insert ON orders;
COMMENT ON TABLE users IS 'people, with nicknames';
"""


def _apply(conn: Conn, branch: str, statements: list[str]) -> None:
    conn.execute("SELECT pggit.checkout(%s)", (branch,))
    try:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement.encode())
    finally:
        conn.execute("SELECT pggit.checkout('main')")


def test_kitchen_sink_changes_are_exactly_what_diff_reports(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/work")
    assert diff(kitchen, "main", "agent/work").is_empty
    run_on(kitchen, "agent/work", CHANGES)
    d = diff(kitchen, "main", "agent/work")
    assert d.objects() == {
        "table:public.users": ChangeKind.CHANGED,
        "table:public.order_items": ChangeKind.CHANGED,
        "index:public.users_nickname_idx": ChangeKind.ADDED,
        "view:public.big_orders": ChangeKind.REMOVED,
        "enum:public.mood": ChangeKind.CHANGED,
        "function:public.touch_updated_at()": ChangeKind.CHANGED,
        "policy:public.orders.orders_insert": ChangeKind.REMOVED,
    }
    assert d.fields_of("table:public.users") == ("columns.nickname", "comment")
    assert d.fields_of("table:public.order_items") == ("columns.qty.type",)
    assert d.fields_of("function:public.touch_updated_at()") == ("body",)
    assert d.fields_of("enum:public.mood") == ("values",)
    # applying the SQL to main reaches the branch; the re-diff is empty (both ways)
    _apply(kitchen, "main", d.statements)
    assert diff(kitchen, "main", "agent/work").is_empty
    assert diff(kitchen, "agent/work", "main").is_empty


def test_reverse_diff_takes_the_branch_back(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/back")
    run_on(kitchen, "agent/back", CHANGES)
    back = diff(kitchen, "agent/back", "main")
    assert back.objects()["view:public.big_orders"] is ChangeKind.ADDED
    _apply(kitchen, "agent/back", back.statements)
    assert diff(kitchen, "agent/back", "main").is_empty
    assert catalog.read_snapshot(kitchen, "agent/back").same_schema(catalog.read_snapshot(kitchen))


def test_column_type_change_rebuilds_dependents(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/money")
    run_on(kitchen, "agent/money", """
        DROP VIEW big_orders; DROP MATERIALIZED VIEW order_totals;
        DROP TRIGGER orders_big ON orders; DROP POLICY orders_insert ON orders;
        ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);
        CREATE VIEW big_orders WITH (security_barrier = true) AS
            SELECT o.id, o.total, u.email FROM orders o JOIN active_users u ON u.id = o.user_id WHERE o.total > 100;
        CREATE MATERIALIZED VIEW order_totals AS SELECT user_id, sum(total) AS total FROM orders GROUP BY user_id;
        CREATE UNIQUE INDEX order_totals_user_idx ON order_totals (user_id);
        CREATE TRIGGER orders_big AFTER INSERT ON orders FOR EACH ROW WHEN (NEW.total > 1000)
            EXECUTE FUNCTION touch_updated_at();
        ALTER TABLE orders DISABLE TRIGGER orders_big;
        CREATE POLICY orders_insert ON orders AS RESTRICTIVE FOR INSERT WITH CHECK (total < 10000);
    """)
    d = diff(kitchen, "main", "agent/money")
    # the view's output column type follows the table's
    assert d.objects() == {"table:public.orders": ChangeKind.CHANGED, "view:public.big_orders": ChangeKind.CHANGED}
    assert d.fields_of("view:public.big_orders") == ("columns",)
    rebuilt = {c.object_key for c in d.changes if c.change is ChangeKind.REBUILT}
    assert {"matview:public.order_totals", "trigger:public.orders.orders_big",
            "policy:public.orders.orders_insert", "constraint:public.orders.orders_total_nonneg"} <= rebuilt
    _apply(kitchen, "main", d.statements)
    assert diff(kitchen, "main", "agent/money").is_empty


def test_commit_refs_use_stored_snapshots(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/c")
    base = kitchen.execute("SELECT base_commit_id FROM pggit.branches WHERE name = 'agent/c'").fetchone()
    assert base is not None
    run_on(kitchen, "agent/c", "ALTER TABLE users ADD COLUMN c1 int")
    kitchen.execute("SELECT pggit.checkout('agent/c')")
    first = kitchen.execute("SELECT pggit.commit('c1')").fetchone()
    kitchen.execute("ALTER TABLE users ADD COLUMN c2 int")
    kitchen.execute("SELECT pggit.checkout('main')")
    assert first is not None
    between = diff(kitchen, f"@{base[0]}", f"@{first[0]}")
    assert between.statements == ["ALTER TABLE users ADD COLUMN c1 integer"]
    live = diff(kitchen, f"@{first[0]}", "agent/c")
    assert live.statements == ["ALTER TABLE users ADD COLUMN c2 integer"]
    rows = kitchen.execute("SELECT object_type, object_name, change, fields FROM pggit.diff('main', 'agent/c')")
    assert rows.fetchall() == [("table", "public.users", "changed", ["columns.c1", "columns.c2"])] * 2


def test_diff_of_snapshot_values(kitchen: Conn) -> None:
    main = catalog.read_snapshot(kitchen)
    empty_to_main = diff_snapshots(kitchen, Snapshot.empty(), main)
    assert {c.change for c in empty_to_main.changes} == {ChangeKind.ADDED}
    assert set(empty_to_main.objects()) == set(main.objects)
    assert diff_snapshots(kitchen, main, main).is_empty
    assert snapshot(kitchen) == main.to_doc()


@pytest.mark.parametrize(("a", "b", "error", "code"), [
    ("main", "agent/none", errors.NotFound, "PGG40"),
    ("@999999", "main", errors.NotFound, "PGG40"),
    ("@abc", "main", errors.InvalidInput, "PGG61"),
    ("", "main", errors.InvalidInput, "PGG61"),
])
def test_diff_bad_refs(conn: Conn, a: str, b: str, error: type[errors.PgGitError], code: str) -> None:
    with pytest.raises(error):
        diff(conn, a, b)
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT * FROM pggit.diff(%s, %s)", (a, b))
    assert info.value.sqlstate == code
