"""Plan steps: one ordered statement of `pggit._plan` (or a captured rename), its object and its change."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pggit_core.snapshot import ChangeKind, ObjectKey


class PlanStep(BaseModel):
    """One row of `pggit._plan(from, to)`: ordered, relative to search_path. `change` is what happens to the
    object, as `pggit.diff` says it (a captured rename changes its table)."""

    model_config = ConfigDict(frozen=True)

    ord: int
    object_key: str
    change: ChangeKind
    fields: tuple[str, ...] = ()
    statement: str
    # True when the statement cannot run inside a transaction block: the answer of the one definition,
    # `pggit._needs_own_transaction`, asked by the generator (which has the connection) for the final statements.
    own_transaction: bool = False

    @property
    def key(self) -> ObjectKey:
        return ObjectKey.parse(self.object_key)

    @property
    def kind(self) -> str:
        """The object kind from the key (`table` for `table:public.users`)."""
        return self.key.kind

    @property
    def schema_name(self) -> str:
        """The object's schema from the key (`public` for `table:public.users`)."""
        return self.key.schema

    @property
    def sql(self) -> str:
        """The statement with exactly one terminating semicolon."""
        text = self.statement.strip()
        while text.endswith(";"):
            text = text[:-1].rstrip()
        return text + ";"
