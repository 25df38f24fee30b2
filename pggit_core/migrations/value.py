"""The migration as a plain value: its up and down plans between two snapshots, hazards, losses and provenance."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from pggit_core.migrations.hazards import DataLoss, Hazard, Rename
from pggit_core.migrations.steps import PlanStep


class MigrationValue(BaseModel):
    """A generated migration as data (no text, no I/O): what `render`, `verify` and `files` read. The public
    `Migration` adds its file texts and the seed's `write_to_file` on top of it."""

    model_config = ConfigDict(frozen=True)

    version: str
    name: str
    branch: str | None
    parents: tuple[str, ...] = ()
    from_snapshot: str
    to_snapshot: str
    up_steps: tuple[PlanStep, ...]
    down_steps: tuple[PlanStep, ...]
    hazards: tuple[Hazard, ...] = ()
    down_hazards: tuple[Hazard, ...] = ()
    data_losses: tuple[DataLoss, ...] = ()
    commits: tuple[int, ...] = ()
    merges: tuple[str, ...] = ()
    schemas: tuple[str, ...] = ("public",)
    renames: tuple[Rename, ...] = ()
    notes: tuple[str, ...] = ()
    from_doc: dict[str, Any]
    to_doc: dict[str, Any]

    @property
    def reversible(self) -> bool:
        """False when the down migration cannot bring back everything the up migration destroys."""
        return not self.data_losses

    def summary(self) -> dict[str, Any]:
        """What `--format json` prints about a migration."""
        return {
            "version": self.version, "name": self.name, "branch": self.branch, "parents": list(self.parents),
            "from_snapshot": self.from_snapshot, "to_snapshot": self.to_snapshot,
            "statements": {"up": len(self.up_steps), "down": len(self.down_steps)},
            "hazards": [h.model_dump(mode="json") for h in self.hazards],
            "down_hazards": [h.model_dump(mode="json") for h in self.down_hazards],
            "reversible": self.reversible,
            "irreversible": [{"object_key": d.object_key, "reason": d.reason} for d in self.data_losses],
            "commits": list(self.commits), "merges": list(self.merges), "notes": list(self.notes),
        }
