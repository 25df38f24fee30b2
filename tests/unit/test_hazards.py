"""Migration lint over plan rows and documents built in code: codes, severities, data losses, renames."""

from __future__ import annotations

from typing import Any

import pytest

from pggit_core.diff import ChangeKind
from pggit_core.migrations.hazards import RULES, Rename, Severity, data_losses, lint
from pggit_core.migrations.renames import RenameOp, apply_renames, renames_in
from pggit_core.migrations.steps import PlanStep
from pggit_core.migrations.type_changes import TypeChange, classify


def col(type_: str, not_null: bool = False, default: str | None = None, identity: str | None = None) -> dict[str, Any]:
    return {"type": type_, "not_null": not_null, "default": default, "identity": identity, "generated": None,
            "collation": None, "comment": None}


def table(name: str, **columns: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"table:public.{name}", {"kind": "table", "schema": "public", "name": name, "columns": columns,
                                    "deps": []}


def doc(*objects: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"format": 1, "objects": dict(objects)}


def index(name: str, tbl: str, definition: str) -> tuple[str, dict[str, Any]]:
    return f"index:public.{name}", {"kind": "index", "schema": "public", "name": name, "table": tbl,
                                    "definition": definition, "deps": [f"table:public.{tbl}"]}


def constraint(name: str, tbl: str, ctype: str, definition: str) -> tuple[str, dict[str, Any]]:
    return f"constraint:public.{tbl}.{name}", {"kind": "constraint", "schema": "public", "name": name,
                                               "table": tbl, "type": ctype, "definition": definition}


def step(ord_: int, key: str, change: str, statement: str) -> PlanStep:
    return PlanStep(ord=ord_, object_key=key, change=change, fields=(), statement=statement)


USERS = table("users", id=col("integer", True), email=col("text"))


def codes(hazards: Any) -> list[str]:
    return [h.code for h in hazards]


@pytest.mark.parametrize(("old", "new", "effect"), [
    ("character varying(10)", "character varying(20)", TypeChange.widening),
    ("character varying(20)", "character varying(10)", TypeChange.narrowing),
    ("character varying(20)", "text", TypeChange.widening),
    ("text", "character varying(5)", TypeChange.narrowing),
    ("integer", "bigint", TypeChange.widening_rewrite),
    ("bigint", "integer", TypeChange.narrowing),
    ("numeric(10,2)", "numeric(12,2)", TypeChange.widening),
    ("numeric(10,2)", "numeric(10,0)", TypeChange.narrowing),
    ("numeric(10,2)", "numeric", TypeChange.widening),
    ("integer", "text", TypeChange.widening_rewrite),
    ("text", "integer", TypeChange.conversion),
    ("double precision", "real", TypeChange.narrowing),
    ("timestamp(6) without time zone", "timestamp(0) without time zone", TypeChange.narrowing),
    ("integer[]", "bigint[]", TypeChange.widening_rewrite),
    ("integer", "int4", TypeChange.same),
])
def test_type_change_classification(old: str, new: str, effect: TypeChange) -> None:
    assert classify(old, new) is effect


def test_every_rule_has_a_stable_code_severity_and_advice() -> None:
    assert set(RULES) == {"PGH101", "PGH102", "PGH103", "PGH104", "PGH105", "PGH201", "PGH202", "PGH203",
                          "PGH204", "PGH205", "PGH206", "PGH207", "PGH301", "PGH302", "PGH303", "PGH401"}
    for code, rule in RULES.items():
        assert rule.code == code and rule.advice and rule.title
        assert rule.severity in (Severity.error, Severity.warning)


def test_drop_table_and_column_are_errors() -> None:
    before = doc(USERS, table("legacy", id=col("integer")))
    after = doc(table("users", id=col("integer", True)))
    steps = [step(1, "table:public.users", "changed", "ALTER TABLE users DROP COLUMN email"),
             step(2, "table:public.legacy", "removed", "DROP TABLE legacy")]
    found = lint(steps, before, after)
    assert codes(found) == ["PGH102", "PGH101"]
    assert all(h.severity is Severity.error for h in found)
    assert found[0].column == "email" and found[0].ord == 1
    assert "users.email" in found[0].message and found[1].object_key == "table:public.legacy"


def test_narrowing_is_an_error_and_rewrite_a_warning() -> None:
    before = doc(table("t", a=col("character varying(50)"), b=col("integer"), c=col("character varying(5)")))
    after = doc(table("t", a=col("character varying(10)"), b=col("bigint"), c=col("text")))
    found = lint([step(1, "table:public.t", "changed", "ALTER TABLE t ALTER COLUMN a TYPE varchar(10)")],
                 before, after)
    assert [(h.code, h.column, h.severity) for h in found] == [
        ("PGH103", "a", Severity.error), ("PGH204", "b", Severity.warning)]


def test_not_null_column_rules() -> None:
    before = doc(USERS)
    after = doc(table("users", id=col("integer", True), email=col("text", True), plan=col("text", True),
                      tier=col("text", True, "'free'::text"), n=col("bigint", True, identity="always")),
                table("fresh", id=col("integer", True)))
    found = lint([step(1, "table:public.users", "changed", "ALTER TABLE users ...")], before, after)
    assert [(h.code, h.column) for h in found] == [("PGH202", "plan"), ("PGH203", "email")]


def test_indexes_and_constraints_on_existing_tables() -> None:
    before = doc(USERS)
    after = doc(USERS, table("orders", id=col("integer", True), user_id=col("integer")),
                index("users_email_idx", "users", "CREATE INDEX users_email_idx ON users USING btree (email)"),
                index("orders_user_idx", "orders", "CREATE INDEX orders_user_idx ON orders USING btree (user_id)"),
                constraint("users_email_check", "users", "c", "CHECK (email <> ''::text)"),
                constraint("users_email_key", "users", "u", "UNIQUE (email)"),
                constraint("users_org_fk", "users", "f", "FOREIGN KEY (id) REFERENCES orders(id)"),
                constraint("users_org2_fk", "users", "f", "FOREIGN KEY (id) REFERENCES orders(id) NOT VALID"),
                constraint("orders_user_fk", "orders", "f", "FOREIGN KEY (user_id) REFERENCES users(id)"))
    found = lint([], before, after)
    assert sorted((h.code, h.object_key) for h in found) == [
        ("PGH201", "index:public.users_email_idx"),
        ("PGH205", "constraint:public.users.users_org_fk"),
        ("PGH206", "constraint:public.users.users_email_check"),
        ("PGH207", "constraint:public.users.users_email_key"),
    ]
    concurrently = [step(1, "index:public.users_email_idx", "added",
                         "CREATE INDEX CONCURRENTLY users_email_idx ON users USING btree (email)")]
    assert "PGH201" not in codes(lint(concurrently, before, after))


def test_renames_lookalikes_enums_sequences_and_removed_functions() -> None:
    fn = ("function:public.f(integer)", {"kind": "function", "schema": "public", "name": "f"})
    seq = ("sequence:public.s", {"kind": "sequence", "schema": "public", "name": "s"})
    mood = ("enum:public.mood", {"kind": "enum", "schema": "public", "name": "mood", "values": ["a", "b"]})
    before = doc(USERS, fn, seq, mood, table("old_t", x=col("text")))
    after = doc(table("users", id=col("integer", True), mail=col("text")), table("new_t", x=col("text")),
                ("enum:public.mood", {**mood[1], "values": ["a"]}))
    found = lint([], before, after, [Rename("column", "public", "login", "handle", "accounts")])
    assert sorted(codes(found)) == ["PGH101", "PGH102", "PGH104", "PGH105", "PGH301", "PGH302", "PGH302",
                                    "PGH303"]
    rename = next(h for h in found if h.code == "PGH301")
    assert rename.object_key == "table:public.accounts" and "login" in rename.message


def test_security_definer_functions_are_flagged() -> None:
    """A function that runs as its owner: the role that applies the migration (the merge's, the deployer's)."""
    plain = {"kind": "function", "schema": "public", "name": "f", "security_definer": False}
    definer = {**plain, "security_definer": True}
    made = lint([], doc(), doc(("function:public.f()", definer)))
    assert codes(made) == ["PGH401"] and "SECURITY DEFINER" in made[0].message
    assert codes(lint([], doc(("function:public.f()", plain)), doc(("function:public.f()", definer)))) == ["PGH401"]
    assert codes(lint([], doc(("function:public.f()", definer)), doc(("function:public.f()", {**definer, "body": "x"}
                                                                       )))) == []
    assert codes(lint([], doc(), doc(("function:public.f()", plain)))) == []


def test_data_losses_name_what_down_cannot_restore() -> None:
    before = doc(table("users", id=col("integer", True), legacy=col("text", True), price=col("numeric(10,2)")),
                 table("gone", id=col("integer")))
    after = doc(table("users", id=col("integer", True), price=col("numeric(10,0)")))
    losses = data_losses(before, after)
    assert [loss.object_key for loss in losses] == ["table:public.gone", "table:public.users", "table:public.users"]
    assert "recreated empty" in losses[0].reason
    assert "legacy" in losses[1].reason and "NOT NULL" in losses[1].reason
    assert "price" in losses[2].reason
    # numeric(10,0) -> numeric(10,2) leaves 8 integer digits: that direction narrows too
    assert [loss.reason.split(" goes")[0] for loss in data_losses(after, before)] == ["column public.users.price"]
    assert data_losses(after, after) == ()


def test_plan_step_classification() -> None:
    # whether a statement runs alone is pggit._needs_own_transaction's answer (tests/db/migrations)
    assert not step(2, "index:public.i", "added", "CREATE INDEX i ON t (a)").own_transaction
    assert step(4, "table:public.t", "rebuilt", "x").change is ChangeKind.REBUILT
    assert step(5, "table:public.t", "changed", "ALTER TABLE t ADD c int;;").sql == "ALTER TABLE t ADD c int;"
    assert (step(6, "constraint:public.t.t_pkey", "added", "x").kind, step(6, "table:s.t", "added", "x").schema_name
            ) == ("constraint", "s")


def test_renames_from_captured_ddl_rewrite_the_plan_base() -> None:
    ops = renames_in(["ALTER TABLE users RENAME COLUMN email TO mail", "ALTER TABLE users RENAME TO members",
                      "CREATE TABLE x (id int)", "ALTER VIEW v RENAME TO w"])
    assert ops == [RenameOp("column", "public", "email", "mail", "users"),
                   RenameOp("table", "public", "users", "members", None),
                   RenameOp("view", "public", "v", "w", None)]
    seq = ("sequence:public.users_id_seq", {"kind": "sequence", "schema": "public", "name": "users_id_seq",
                                            "owned_by": "users.id"})
    idx = index("users_email_idx", "users", "CREATE INDEX users_email_idx ON users USING btree (email)")
    idx[1]["deps"] = ["column:public.users.email", "table:public.users"]
    pkey = constraint("users_pkey", "users", "p", "PRIMARY KEY (id)")
    base = doc(USERS, seq, idx, pkey)
    statements, renamed = apply_renames(base, ops)
    assert statements == [("table:public.users", 'ALTER TABLE "users" RENAME COLUMN "email" TO "mail"'),
                          ("table:public.members", 'ALTER TABLE "users" RENAME TO "members"')]
    objects = renamed["objects"]
    assert set(objects) == {"table:public.members", "sequence:public.users_id_seq", "index:public.users_email_idx",
                            "constraint:public.members.users_pkey"}
    assert set(objects["table:public.members"]["columns"]) == {"id", "mail"}
    assert objects["index:public.users_email_idx"]["deps"] == ["column:public.members.mail", "table:public.members"]
    assert objects["sequence:public.users_id_seq"]["owned_by"] == "members.id"
    assert base["objects"]["table:public.users"]["columns"].keys() == {"id", "email"}  # input untouched
    back, restored = apply_renames(renamed, [op.reversed() for op in reversed(ops)])
    assert [s for _k, s in back] == ['ALTER TABLE "members" RENAME TO "users"',
                                     'ALTER TABLE "users" RENAME COLUMN "mail" TO "email"']
    assert restored["objects"]["table:public.users"]["columns"] == base["objects"]["table:public.users"]["columns"]
