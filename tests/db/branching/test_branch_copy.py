"""create_branch makes an exact, isolated copy: every object kind, data on request, sequences continue."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from pggit_core import branching, catalog
from pggit_core.snapshot import Snapshot
from tests.db.branching.helpers import Conn, snapshot

KINDS = {"table", "view", "matview", "sequence", "index", "constraint", "trigger", "policy", "function",
         "procedure", "enum", "domain", "composite"}


def test_kitchen_sink_snapshot_has_every_kind(kitchen: Conn) -> None:
    doc = snapshot(kitchen)
    assert {o["kind"] for o in doc["objects"].values()} == KINDS
    objects = doc["objects"]
    users = objects["table:public.users"]
    assert users["columns"]["id"]["identity"] == "always"
    assert users["columns"]["email_norm"]["generated"] == "normalize_email(email::text)"
    assert users["columns"]["name"]["collation"] == '"C"'
    assert users["columns"]["email"]["comment"] == "login"
    assert "pggit_test_reader:INSERT*" in users["grants"]
    assert users["columns"]["id"]["grants"] == ["PUBLIC:SELECT"]
    assert users["columns"]["name"]["grants"] == ["PUBLIC:UPDATE"]
    assert objects["sequence:public.orders_id_seq"]["owned_by"] == "orders.id"
    assert objects["enum:public.mood"]["values"] == ["sad", "ok", "happy"]
    assert objects["function:public.secret_count()"]["grants"] == []
    assert objects["table:public.events_2026"]["partition_of"] == "events"
    assert objects["table:public.events"]["partition_key"] == "RANGE (happened_at)"
    assert objects["table:public.orders"]["rls_forced"] is True
    assert objects["trigger:public.orders.orders_big"]["enabled"] == "D"
    assert "constraint:public.users.users_pkey" in objects["constraint:public.orders.orders_user_id_fkey"]["deps"]
    assert "view:public.active_users" in objects["view:public.big_orders"]["deps"]
    # definitions are branch-relative: no schema qualification of our own objects
    assert objects["constraint:public.orders.orders_user_id_fkey"]["definition"].endswith(
        "REFERENCES users(id) ON DELETE CASCADE")


def test_snapshot_hash_is_sha256_of_the_jsonb_text_and_the_model_round_trips(kitchen: Conn) -> None:
    row = kitchen.execute("SELECT d::text, pggit.snapshot_hash(d) FROM pggit.snapshot() AS d").fetchone()
    assert row is not None and row[1] == hashlib.sha256(row[0].encode("utf-8")).hexdigest()
    snap = catalog.read_snapshot(kitchen)
    assert catalog.snapshot_hash(kitchen, snap) == row[1]
    assert Snapshot.from_doc(snap.to_doc()) == snap
    assert snap.to_doc() == snapshot(kitchen)


def test_create_branch_is_an_exact_copy(kitchen: Conn) -> None:
    branch = branching.create_branch(kitchen, "agent/claude-auth-oauth2")
    assert branch.schemas == ("pggit_b_agent_claude_auth_oauth2",)
    assert branch.parent == "main"
    assert snapshot(kitchen, "agent/claude-auth-oauth2") == snapshot(kitchen)
    # the branch's objects point at the branch's own objects
    fk_target = kitchen.execute(
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'orders_user_id_fkey' "
        "AND connamespace = 'pggit_b_agent_claude_auth_oauth2'::regnamespace").fetchone()
    assert fk_target == ("pggit_b_agent_claude_auth_oauth2.users",)
    default = kitchen.execute(
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef "
        "WHERE adrelid = 'pggit_b_agent_claude_auth_oauth2.orders'::regclass AND adnum = 1").fetchone()
    assert default == ("nextval('pggit_b_agent_claude_auth_oauth2.orders_id_seq'::regclass)",)
    # no data without copy_data
    assert kitchen.execute("SELECT count(*) FROM pggit_b_agent_claude_auth_oauth2.users").fetchone() == (0,)


def test_branch_of_a_branch_and_commit_ref(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/a")
    branching.create_branch(kitchen, "agent/a-child", "agent/a")
    assert snapshot(kitchen, "agent/a-child") == snapshot(kitchen)
    base = kitchen.execute("SELECT base_commit_id FROM pggit.branches WHERE name = 'agent/a-child'").fetchone()
    assert base is not None and base[0] is not None
    assert catalog.read_ref(kitchen, f"@{base[0]}").to_doc() == snapshot(kitchen, "agent/a")


def test_copy_data_all_rows_and_sequences_continue(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/data", copy_data=True)
    s = "pggit_b_agent_data"
    for table in ("users", "orders", "order_items"):
        main_rows = kitchen.execute(f"SELECT count(*) FROM public.{table}").fetchone()  # noqa: S608
        branch_rows = kitchen.execute(f"SELECT count(*) FROM {s}.{table}").fetchone()  # noqa: S608
        assert main_rows == branch_rows
    assert kitchen.execute(f"SELECT feeling::text FROM {s}.users WHERE id = 1").fetchone() == ("happy",)  # noqa: S608
    # generated columns are recomputed, identity and serial sequences continue from main's values
    assert kitchen.execute(f"SELECT email_norm FROM {s}.users WHERE id = 1").fetchone() == ("a@x.io",)  # noqa: S608
    new_user = kitchen.execute(
        f"INSERT INTO {s}.users (email, name) VALUES ('c@x.io', 'cy') RETURNING id").fetchone()  # noqa: S608
    assert new_user == (3,)
    assert kitchen.execute(f"SELECT nextval('{s}.orders_id_seq')").fetchone() == (4,)
    assert kitchen.execute(f"SELECT nextval('{s}.invoice_no')").fetchone() == kitchen.execute(
        "SELECT nextval('public.invoice_no')").fetchone()
    # the materialized view was refreshed with the copied rows
    assert kitchen.execute(f"SELECT count(*) FROM {s}.order_totals").fetchone() == (2,)  # noqa: S608
    # the branch's rows are its own
    kitchen.execute(f"DELETE FROM {s}.order_items")  # noqa: S608
    assert kitchen.execute("SELECT count(*) FROM public.order_items").fetchone() == (3,)


def test_row_limit_keeps_foreign_keys_consistent(kitchen: Conn) -> None:
    kitchen.execute("INSERT INTO users (email, name) "
                    "SELECT 'u' || g || '@x.io', 'u' || g FROM generate_series(1, 20) g")
    kitchen.execute("INSERT INTO orders (user_id, total) SELECT id, 1 FROM users")
    branching.create_branch(kitchen, "agent/sample", copy_data=True, row_limit=5)
    s = "pggit_b_agent_sample"
    counts = {t: kitchen.execute(f"SELECT count(*) FROM {s}.{t}").fetchone() for t in ("users", "orders")}  # noqa: S608
    assert counts["users"] == (5,)
    assert counts["orders"] is not None and counts["orders"][0] <= 5
    orphans = kitchen.execute(
        f"SELECT count(*) FROM {s}.orders o WHERE NOT EXISTS (SELECT 1 FROM {s}.users u WHERE u.id = o.user_id)"  # noqa: S608
    ).fetchone()
    assert orphans == (0,)
    assert snapshot(kitchen, "agent/sample") == snapshot(kitchen)


def test_not_valid_constraint_with_violating_rows_is_copied(kitchen: Conn) -> None:
    kitchen.execute("INSERT INTO order_items VALUES (3, 1, 'x', 0)")
    kitchen.execute("ALTER TABLE order_items ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID")
    branching.create_branch(kitchen, "agent/nv", copy_data=True)
    assert snapshot(kitchen, "agent/nv") == snapshot(kitchen)
    assert kitchen.execute("SELECT count(*) FROM pggit_b_agent_nv.order_items").fetchone() == (4,)


def test_branch_sessions_are_isolated(kitchen: Conn, connect: object) -> None:
    branching.create_branch(kitchen, "agent/one")
    branching.create_branch(kitchen, "agent/two")
    assert callable(connect)
    one, two = connect(), connect()
    one.execute("SELECT pggit.checkout('agent/one')")
    two.execute("SELECT pggit.checkout('agent/two')")
    one.execute("ALTER TABLE users ADD COLUMN only_on_one text")
    assert two.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                       "AND table_name = 'users' AND column_name = 'only_on_one'").fetchone() == (0,)
    assert "only_on_one" in snapshot(kitchen, "agent/one")["objects"]["table:public.users"]["columns"]
    assert "only_on_one" not in snapshot(kitchen)["objects"]["table:public.users"]["columns"]


def test_tracked_schemas_beyond_public(conn: Conn) -> None:
    conn.execute("CREATE SCHEMA billing")
    conn.execute("CREATE TABLE billing.invoices (id int PRIMARY KEY, note text)")
    conn.execute("CREATE TABLE public.customers (id int PRIMARY KEY)")
    conn.execute("UPDATE pggit.settings SET value = '[\"public\", \"billing\"]' WHERE key = 'tracked_schemas'")
    conn.execute("INSERT INTO pggit.branch_schemas VALUES (1, 'billing', 'billing')")
    branch = branching.create_branch(conn, "agent/multi")
    assert branch.schemas == ("pggit_b_agent_multi", "pggit_b_agent_multi__billing")
    doc = snapshot(conn, "agent/multi")
    assert doc == snapshot(conn)
    assert "table:billing.invoices" in doc["objects"]
    assert conn.execute("SELECT to_regclass('pggit_b_agent_multi__billing.invoices') IS NOT NULL").fetchone() == (True,)


def test_long_and_colliding_names_get_unique_schemas(conn: Conn) -> None:
    long_name = "agent/" + "x" * 90
    a = branching.create_branch(conn, long_name)
    b = branching.create_branch(conn, "agent/a.b")
    c = branching.create_branch(conn, "agent/a_b")
    assert len(a.schemas[0].encode()) <= 63
    assert len({a.schemas[0], b.schemas[0], c.schemas[0]}) == 3


def test_delete_then_recreate_same_name(kitchen: Conn) -> None:
    branching.create_branch(kitchen, "agent/again")
    branching.delete_branch(kitchen, "agent/again")
    assert kitchen.execute("SELECT to_regnamespace('pggit_b_agent_again')").fetchone() == (None,)
    assert [b.name for b in branching.list_branches(kitchen)] == ["main"]
    branching.create_branch(kitchen, "agent/again")
    assert snapshot(kitchen, "agent/again") == snapshot(kitchen)


def test_psql_face(kitchen: Conn) -> None:
    row = kitchen.execute("SELECT pggit.create_branch('agent/psql')").fetchone()
    assert row is not None and isinstance(row[0], int)
    rows = kitchen.execute("SELECT name, parent, status, schemas FROM pggit.list_branches()").fetchall()
    assert rows == [("main", None, "active", ["public"]),
                    ("agent/psql", "main", "active", ["pggit_b_agent_psql"])]
    with pytest.raises(psycopg.Error) as info:
        kitchen.execute("SELECT pggit.create_branch('Agent X')")
    assert info.value.sqlstate == "PGG30"
