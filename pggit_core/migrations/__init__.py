"""Migrations from committed work, one module per stage: steps -> renames, type_changes, hazards -> value ->
render, verify -> files -> migration -> generator; apply deploys a folder. Public: the generator and its value."""

from __future__ import annotations

from pggit_core.migrations.generator import MigrationGenerator, NothingToGenerate
from pggit_core.migrations.migration import Migration

__all__ = ["Migration", "MigrationGenerator", "NothingToGenerate"]
