"""Golden migration cases (tests/cases/migrations/<case>/): before.sql on main, change.sql on a branch, then
the generated up/down files must equal expected.up.sql / expected.down.sql (regenerate with
PGGIT_REGEN_GOLDEN=1), applying up to a copy of `before` must give the `after` snapshot (re-diff empty),
and reverting with the down file must give `before` back. case.toml lists the expected hazard codes and
reversibility."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from migration_helpers import Conn, fixed_clock, main_doc, on_branch, plan_rows, run_script

from pggit_core.errors import MigrationError
from pggit_core.migrations import Migration, MigrationGenerator
from pggit_core.migrations import apply as migration_apply

CASES = Path(__file__).resolve().parents[2] / "cases" / "migrations"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.toml").is_file())
REGEN = os.environ.get("PGGIT_REGEN_GOLDEN") == "1"


def normalized(text: str, m: Migration) -> str:
    """The file text with the snapshot hashes (which change with the document format) and the commit ids
    (which depend on how many commits the engine makes) replaced by names."""
    for digest, label in ((m.from_snapshot, "<from_snapshot>"), (m.to_snapshot, "<to_snapshot>")):
        text = text.replace(digest, label).replace(digest[:12], label)
    return "\n".join("-- commits: <ids>" if line.startswith("-- commits: ") else line
                     for line in text.split("\n"))


def check_golden(path: Path, actual: str) -> None:
    if REGEN:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run with PGGIT_REGEN_GOLDEN=1 and review the file"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (PGGIT_REGEN_GOLDEN=1 to accept)"


@pytest.mark.parametrize("case", CASE_NAMES)
def test_migration_case(case: str, conn: Conn, target: Conn, tmp_path: Path) -> None:
    folder = CASES / case
    spec: dict[str, Any] = tomllib.loads((folder / "case.toml").read_text())
    before = (folder / "before.sql").read_text()
    run_script(conn, before)
    branch = f"case/{case.replace('_', '-')}"
    conn.execute("SELECT pggit.create_branch(%s)", (branch,))
    on_branch(conn, branch, (folder / "change.sql").read_text())
    after_doc = conn.execute("SELECT pggit.snapshot(%s)", (branch,)).fetchone()
    assert after_doc is not None

    migration = MigrationGenerator(conn, clock=fixed_clock).generate_from_branch(branch, name=case)

    check_golden(folder / "expected.up.sql", normalized(migration.up_sql, migration))
    check_golden(folder / "expected.down.sql", normalized(migration.down_sql, migration))
    assert sorted(h.code for h in migration.hazards) == sorted(spec["hazards"])
    assert migration.reversible is spec["reversible"]

    # deploy: a copy of `before`, then the written folder applied (pinned at both ends)
    run_script(target, before)
    target.execute("RESET search_path")
    out = tmp_path / "migrations"
    migration.write_to_file(out)
    report = migration_apply.apply(target, out)
    assert report.applied == (migration.version,)
    assert plan_rows(target, main_doc(target), after_doc[0]) == []  # re-diff is empty

    # down returns to `before` (its data aside: see the file's DATA LOSS notes), pinned at both ends
    if not spec["reversible"]:
        with pytest.raises(MigrationError, match="cannot be reverted without losing data"):
            migration_apply.revert(target, out)
    assert migration_apply.revert(target, out, accept_data_loss=not spec["reversible"]) == migration.version
    assert plan_rows(target, main_doc(target), migration.from_doc) == []
    assert migration_apply.applied_rows(target) == {}
