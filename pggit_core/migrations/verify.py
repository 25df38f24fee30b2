"""Sqitch verify scripts: queries that fail unless the objects a migration creates or changes are there."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from pggit_core.migrations.render import search_path_statement
from pggit_core.migrations.value import MigrationValue


def _ident_literal(name: str) -> sql.Composable:
    """A string literal holding the quoted identifier (for ::regclass / ::regtype casts)."""
    return sql.Literal(sql.Identifier(name).as_string(None))


def _check(key: str, obj: dict[str, Any]) -> sql.Composable | None:
    kind = obj.get("kind")
    name = str(obj.get("name", ""))
    if kind in ("table", "view", "matview"):
        raw = obj.get("columns") or {}
        cols = sorted(raw) if isinstance(raw, dict) else [str(c.get("name")) for c in raw]
        select = sql.SQL(", ").join(sql.Identifier(c) for c in cols) if cols else sql.SQL("1")
        return sql.SQL("SELECT {} FROM {} WHERE false;").format(select, sql.Identifier(name))
    if kind in ("index", "sequence"):
        return sql.SQL("SELECT {}::regclass;").format(_ident_literal(name))
    if kind in ("enum", "domain", "composite"):
        return sql.SQL("SELECT {}::regtype;").format(_ident_literal(name))
    if kind in ("function", "procedure"):
        signature = f"{sql.Identifier(name).as_string(None)}({obj.get('identity_args', '')})"
        return sql.SQL("SELECT {}::regprocedure;").format(sql.Literal(signature))
    catalog = {"constraint": ("pg_constraint", "conname", "conrelid"),
               "trigger": ("pg_trigger", "tgname", "tgrelid"),
               "policy": ("pg_policy", "polname", "polrelid")}.get(str(kind))
    if catalog is None or not obj.get("table"):
        return None
    table, name_col, rel_col = catalog
    return sql.SQL("SELECT 1 / count(*) FROM pg_catalog.{} WHERE {} = {} AND {} = {}::regclass;").format(
        sql.Identifier(table), sql.Identifier(name_col), sql.Literal(name), sql.Identifier(rel_col),
        _ident_literal(str(obj["table"])))


def verify_text(migration: MigrationValue) -> str:
    """A Sqitch verify script: BEGIN, one check per object the migration adds or changes, ROLLBACK."""
    before = migration.from_doc.get("objects", {})
    after = migration.to_doc.get("objects", {})
    lines = [f"-- Verify {migration.version}_{migration.name}: the objects it adds or changes exist.",
             "BEGIN;"]
    schema = None
    for key in sorted(after):
        if before.get(key) == after[key]:
            continue
        check = _check(key, after[key])
        if check is None:
            continue
        obj_schema = str(after[key].get("schema", "public"))
        if obj_schema != schema:
            schema = obj_schema
            lines.append(search_path_statement(schema, migration.schemas, local=True))
        lines.append(f"-- {key}")
        lines.append(check.as_string(None))
    lines.append("ROLLBACK;")
    return "\n".join(lines) + "\n"
