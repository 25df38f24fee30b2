"""Names the faces share: `MAIN`, the branch that is the tracked schemas themselves. Branch-name rules are
the engine's (`pggit._branch_name_problem` in sql/branching.sql); `pggit.create_branch` checks them first."""

from __future__ import annotations

MAIN = "main"
