"""Plan steps as migrations see them: one ordered statement of `pggit._plan`, its object and its change."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ChangeKind(StrEnum):
    """What a plan step does to its object."""

    create = "create"
    drop = "drop"
    alter = "alter"
    rebuild = "rebuild"
    rename = "rename"
    other = "other"


_CHANGE_WORDS: dict[str, ChangeKind] = {
    "create": ChangeKind.create, "add": ChangeKind.create, "added": ChangeKind.create,
    "drop": ChangeKind.drop, "remove": ChangeKind.drop, "removed": ChangeKind.drop,
    "alter": ChangeKind.alter, "change": ChangeKind.alter, "changed": ChangeKind.alter,
    "replace": ChangeKind.alter, "recreate": ChangeKind.alter,
    "rebuilt": ChangeKind.rebuild, "rename": ChangeKind.rename, "renamed": ChangeKind.rename,
}

# Statement forms PostgreSQL refuses inside a transaction block (PreventInTransactionBlock callers that a
# schema plan can contain). Matched on the leading keywords of the statement, after whitespace folding.
_NO_TRANSACTION_HEADS: tuple[tuple[str, str], ...] = (
    ("CREATE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
    ("CREATE UNIQUE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
    ("DROP INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY cannot run inside a transaction block"),
    ("REINDEX", "REINDEX CONCURRENTLY / REINDEX DATABASE cannot run inside a transaction block"),
    ("VACUUM", "VACUUM cannot run inside a transaction block"),
    ("CREATE DATABASE", "CREATE DATABASE cannot run inside a transaction block"),
    ("DROP DATABASE", "DROP DATABASE cannot run inside a transaction block"),
    ("ALTER SYSTEM", "ALTER SYSTEM cannot run inside a transaction block"),
    ("CREATE TABLESPACE", "CREATE TABLESPACE cannot run inside a transaction block"),
    ("DROP TABLESPACE", "DROP TABLESPACE cannot run inside a transaction block"),
    ("CREATE SUBSCRIPTION", "CREATE SUBSCRIPTION with a slot cannot run inside a transaction block"),
    ("DROP SUBSCRIPTION", "DROP SUBSCRIPTION with a slot cannot run inside a transaction block"),
)


def _head(statement: str) -> str:
    return " ".join(statement.split()).upper()


class PlanStep(BaseModel):
    """One row of `pggit._plan(from, to)`: ordered, relative to search_path."""

    model_config = ConfigDict(frozen=True)

    ord: int
    object_key: str
    change: str
    fields: tuple[str, ...] = ()
    statement: str

    @property
    def kind(self) -> str:
        """The object kind from the key (`table` for `table:public.users`)."""
        return self.object_key.split(":", 1)[0]

    @property
    def object_name(self) -> str:
        """The key without its kind (`public.users`)."""
        return self.object_key.split(":", 1)[1] if ":" in self.object_key else self.object_key

    @property
    def change_kind(self) -> ChangeKind:
        return _CHANGE_WORDS.get(self.change.lower(), ChangeKind.other)

    @property
    def sql(self) -> str:
        """The statement with exactly one terminating semicolon."""
        text = self.statement.strip()
        while text.endswith(";"):
            text = text[:-1].rstrip()
        return text + ";"

    def no_transaction_reason(self) -> str | None:
        """Why this statement must run outside a transaction block, or None when it can run inside."""
        head = _head(self.statement)
        for prefix, reason in _NO_TRANSACTION_HEADS:
            if head.startswith(prefix + " ") or head == prefix:
                if prefix == "REINDEX" and "CONCURRENTLY" not in head and not head.startswith(
                        ("REINDEX DATABASE", "REINDEX SYSTEM")):
                    return None
                return reason
        return None
