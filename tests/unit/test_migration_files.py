"""Migration files without a database: up/down text, formats, the pggit.sum checksum, verify, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pggit_core.errors import AlreadyExists, InvalidInput, InvalidName, MigrationError
from pggit_core.migrations import Migration
from pggit_core.migrations import files as migration_files
from pggit_core.migrations.files import FormatStyle, scan, verify
from pggit_core.migrations.generator import validate_name
from pggit_core.migrations.hazards import data_losses, lint
from pggit_core.migrations.render import read_header, split_sections
from pggit_core.migrations.steps import PlanStep

USERS_BEFORE = {"kind": "table", "schema": "public", "name": "users", "deps": [],
                "columns": {"id": {"type": "integer", "not_null": True, "default": None},
                            "legacy": {"type": "character varying(20)", "not_null": False, "default": None}}}
USERS_AFTER = {"kind": "table", "schema": "public", "name": "users", "deps": [],
               "columns": {"id": {"type": "integer", "not_null": True, "default": None},
                           "email": {"type": "text", "not_null": False, "default": None}}}
INDEX = {"kind": "index", "schema": "public", "name": "users_email_idx", "table": "users", "deps": [],
         "definition": "CREATE INDEX users_email_idx ON users USING btree (email)"}
BEFORE = {"format": 1, "objects": {"table:public.users": USERS_BEFORE}}
AFTER = {"format": 1, "objects": {"table:public.users": USERS_AFTER, "index:public.users_email_idx": INDEX}}


def doc_for(digest: str) -> dict[str, Any]:
    """The document a (fake) snapshot hash stands for: the same hash always gives the same document."""
    if digest == "a" * 64:
        return BEFORE
    if digest == "b" * 64:
        return AFTER
    extra = {"kind": "table", "schema": "public", "name": f"t_{digest[0]}", "deps": [], "columns": {}}
    return {"format": 1, "objects": {**AFTER["objects"], f"table:public.t_{digest[0]}": extra}}


def steps(*rows: tuple[str, str, str]) -> tuple[PlanStep, ...]:
    def fields(statement: str) -> tuple[str, ...]:
        words = statement.split()
        return (f"columns.{words[5]}",) if words[3:5] in (["ADD", "COLUMN"], ["DROP", "COLUMN"]) else ()
    # the generator asks pggit._needs_own_transaction; here the one such statement is known
    return tuple(PlanStep(ord=i, object_key=k, change=c, fields=fields(s), statement=s,
                          own_transaction="CONCURRENTLY" in s)
                 for i, (k, c, s) in enumerate(rows, 1))


def make(version: str = "20261124101530", name: str = "auth_feature", from_hash: str = "a" * 64,
         to_hash: str = "b" * 64, concurrently: bool = True, **extra: Any) -> Migration:
    create_index = ("CREATE INDEX CONCURRENTLY users_email_idx ON users USING btree (email)" if concurrently
                    else "CREATE INDEX users_email_idx ON users USING btree (email)")
    up = steps(("table:public.users", "changed", "ALTER TABLE users ADD COLUMN email text"),
               ("table:public.users", "changed", "ALTER TABLE users DROP COLUMN legacy"),
               ("index:public.users_email_idx", "added", create_index))
    down = steps(("index:public.users_email_idx", "removed", "DROP INDEX users_email_idx"),
                 ("table:public.users", "changed", "ALTER TABLE users ADD COLUMN legacy character varying(20)"),
                 ("table:public.users", "changed", "ALTER TABLE users DROP COLUMN email"))
    return Migration(version=version, name=name, branch="main", from_snapshot=from_hash, to_snapshot=to_hash,
                     up_steps=up, down_steps=down, hazards=lint(up, BEFORE, AFTER),
                     down_hazards=lint(down, AFTER, BEFORE), data_losses=data_losses(BEFORE, AFTER),
                     from_doc=doc_for(from_hash), to_doc=doc_for(to_hash), **extra)


def test_up_file_is_a_transaction_plus_what_cannot_run_in_one() -> None:
    m = make()
    text = m.up_sql
    head = read_header(text)
    assert head is not None and head.direction == "up" and head.version == m.version
    assert (head.name, head.from_snapshot, head.to_snapshot, head.parents) == ("auth_feature", "a" * 64, "b" * 64, ())
    assert "-- hazards: 1 (1 error, 0 warnings)" in text and "PGH102 error" in text
    assert text.index("BEGIN;") < text.index("DROP COLUMN legacy") < text.index("COMMIT;") < text.index(
        "CREATE INDEX CONCURRENTLY")
    assert "-- pggit: outside the transaction: CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in text
    # the hazard is repeated as a comment at its statement
    assert ("-- PGH102 error: drops column public.users.legacy and its data\n"
            "ALTER TABLE users DROP COLUMN legacy;") in text
    sections = split_sections(text)
    assert sections.transaction.startswith("SET LOCAL check_function_bodies = off;")
    assert "DROP COLUMN legacy;" in sections.transaction and "CONCURRENTLY" not in sections.transaction
    assert sections.outside == ('SET search_path = "public";',
                                "CREATE INDEX CONCURRENTLY users_email_idx ON users USING btree (email);")


def test_down_file_says_what_it_cannot_restore() -> None:
    m = make()
    text = m.down_sql
    assert read_header(text) is not None and not m.reversible
    assert "-- reversible: no, 1 part cannot be undone:" in text
    marker = "-- DATA LOSS (irreversible): column public.users.legacy is re-added empty"
    assert marker in text
    assert text.index(marker) < text.index("ALTER TABLE users ADD COLUMN legacy character varying(20);")
    assert "CONCURRENTLY" not in text


def test_plain_write_then_verify_then_chain(tmp_path: Path) -> None:
    folder = tmp_path / "db" / "migrations"
    first = make()
    paths = first.write_to_file(folder)
    names = sorted(p.relative_to(folder).as_posix() for p in paths)
    assert names == ["20261124101530_auth_feature.down.sql", "20261124101530_auth_feature.up.sql", "pggit.sum",
                     f"snapshots/{'a' * 64}.json", f"snapshots/{'b' * 64}.json"]
    assert verify(folder).ok
    assert (folder / "20261124101530_auth_feature.up.sql").read_text() == first.up_sql
    second = make(version="20261124101531", name="next_step", from_hash="b" * 64, to_hash="c" * 64)
    second.write_to_file(folder)
    found = scan(folder)
    assert [f.version for f in found] == ["20261124101530", "20261124101531"]
    assert found[1].header.parents == ("20261124101530",)
    assert verify(folder).ok
    sum_lines = (folder / "pggit.sum").read_text().splitlines()
    assert sum_lines[0].startswith("h1:") and len(sum_lines) == 8


def test_existing_version_and_diverged_chain_are_refused(tmp_path: Path) -> None:
    make().write_to_file(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(AlreadyExists, match="already has a migration with version 20261124101530"):
        make(from_hash="b" * 64, to_hash="c" * 64).write_to_file(tmp_path)
    with pytest.raises(MigrationError, match="starts at aaaaaaaaaaaa"):
        make(version="20261124101599", to_hash="d" * 64).write_to_file(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_parallel_migrations_collide_in_the_sum_file(tmp_path: Path) -> None:
    base = tmp_path / "base"
    make().write_to_file(base)
    left, right = tmp_path / "left", tmp_path / "right"
    for copy in (left, right):
        for path in base.rglob("*"):
            target = copy / path.relative_to(base)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    make(version="20261124101600", name="left_work", from_hash="b" * 64, to_hash="c" * 64).write_to_file(left)
    make(version="20261124101601", name="right_work", from_hash="b" * 64, to_hash="d" * 64).write_to_file(right)
    first_left = (left / "pggit.sum").read_text().splitlines()[0]
    first_right = (right / "pggit.sum").read_text().splitlines()[0]
    assert first_left != first_right  # both edit line 1 of pggit.sum: git reports a conflict
    # a naive union of both folders fails verify
    for path in right.rglob("*right_work*"):
        (left / path.name).write_bytes(path.read_bytes())
    check = verify(left)
    assert not check.ok and "20261124101601_right_work.up.sql" in check.untracked


def test_verify_names_modified_missing_and_unlisted_files(tmp_path: Path) -> None:
    make().write_to_file(tmp_path)
    (tmp_path / "20261124101530_auth_feature.up.sql").write_text("DROP TABLE users;\n")
    (tmp_path / "20261124101530_auth_feature.down.sql").unlink()
    (tmp_path / "extra.sql").write_text("SELECT 1;\n")
    check = verify(tmp_path)
    assert check.tampered == ("20261124101530_auth_feature.up.sql",)
    assert check.missing == ("20261124101530_auth_feature.down.sql",)
    assert check.untracked == ("extra.sql",)
    with pytest.raises(MigrationError, match="modified: 20261124101530_auth_feature.up.sql"):
        make(version="20261124101531", from_hash="b" * 64, to_hash="c" * 64).write_to_file(tmp_path)
    migration_files.rehash(tmp_path)
    assert verify(tmp_path).ok


def test_flyway_and_sqitch_layouts(tmp_path: Path) -> None:
    fly = tmp_path / "flyway"
    make().write_to_file(fly, "flyway")
    assert (fly / "V20261124101530__auth_feature.sql").read_text().startswith("-- pggit-migration: 1")
    assert "-- direction: down" in (fly / "U20261124101530__auth_feature.sql").read_text()
    sq = tmp_path / "sqitch"
    make().write_to_file(sq, FormatStyle.sqitch)
    make(version="20261124101531", name="more", from_hash="b" * 64, to_hash="c" * 64).write_to_file(sq, "sqitch")
    plan = (sq / "sqitch.plan").read_text().splitlines()
    assert plan[:2] == ["%syntax-version=1.0.0", "%project=pggit"]
    assert plan[3].startswith("20261124101530_auth_feature 2026-11-24T10:15:30Z ")
    assert plan[4].startswith("20261124101531_more [20261124101530_auth_feature] 2026-11-24T10:15:31Z ")
    verify_sql = (sq / "verify" / "20261124101530_auth_feature.sql").read_text()
    assert 'SELECT "email", "id" FROM "users" WHERE false;' in verify_sql
    assert "SELECT '\"users_email_idx\"'::regclass;" in verify_sql and verify_sql.rstrip().endswith("ROLLBACK;")
    assert (sq / "deploy" / "20261124101530_auth_feature.sql").is_file()
    assert (sq / "revert" / "20261124101530_auth_feature.sql").is_file()
    assert verify(sq).ok
    with pytest.raises(InvalidInput, match="unknown format style"):
        make(version="20261124101532", from_hash="c" * 64).write_to_file(sq, "liquibase")


def test_unwritable_folder_writes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MigrationError, match="cannot create the migrations folder"):
        make().write_to_file(blocker / "migrations")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_failure_while_renaming_leaves_no_partial_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make().write_to_file(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    real_replace = os.replace
    calls = {"n": 0}

    def flaky(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(migration_files.os, "replace", flaky)
    with pytest.raises(MigrationError, match="No space left on device"):
        make(version="20261124101531", name="more", from_hash="b" * 64, to_hash="c" * 64).write_to_file(tmp_path)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize("bad", ["", "Auth", "1st", "auth-feature", "a b", "x" * 64, "drop;table"])
def test_invalid_names(bad: str) -> None:
    with pytest.raises(InvalidName, match="invalid migration name"):
        validate_name(bad)


def test_summary_is_json_ready() -> None:
    summary = make(concurrently=False).summary()
    assert summary["statements"] == {"up": 3, "down": 3}
    assert [h["code"] for h in summary["hazards"]] == ["PGH102", "PGH201"]
    assert summary["reversible"] is False and summary["irreversible"][0]["object_key"] == "table:public.users"


def test_two_writers_at_once_one_wins_and_the_folder_stays_consistent(tmp_path: Path) -> None:
    import threading

    make().write_to_file(tmp_path)
    rivals = [make(version=f"2026112410160{i}", name=f"rival_{i}", from_hash="b" * 64, to_hash=f"{'cd'[i]}" * 64)
              for i in range(2)]
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def write(m: Migration) -> None:
        barrier.wait()
        try:
            m.write_to_file(tmp_path)
        except MigrationError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(m,)) for m in rivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and ("starts at" in errors[0].message or "newer migration" in errors[0].message)
    assert len(scan(tmp_path)) == 2 and verify(tmp_path).ok


def test_renames_round_trip_through_the_header() -> None:
    from pggit_core.migrations.hazards import Rename

    renames = (Rename("column", "public", "email", "mail", "users"), Rename("table", "public", "users", "members"))
    head = read_header(make(renames=renames).up_sql)
    assert head is not None and head.renames == renames
