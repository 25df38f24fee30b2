"""PgGitClient: the one typed Python face over pggit's SQL functions, on one connection (one session)."""

from __future__ import annotations

from typing import Any

import psycopg

from pggit_core import branching, diff
from pggit_core import merge as merging
from pggit_core.conflicts import MergeConflict
from pggit_core.diff import Diff
from pggit_core.merge import MergeResult
from pggit_core.names import MAIN
from pggit_core.store import commits
from pggit_core.store.branches import Branch
from pggit_core.store.commits import CapturedCommand, Commit
from pggit_core.store.durable import durable


class PgGitClient:
    """Branches, checkout, commits, log and diff over ``conn``.

    The connection is one PostgreSQL session: ``checkout`` changes that session's search_path, so the
    DDL you then run on ``conn`` lands on the branch. Every method is one pggit operation
    (``store.durable.operation``): all or nothing, and durable when it returns. On a connection that is not
    autocommit it commits the open transaction when it is done, including what you ran before it (the DDL
    you committed with ``commit``); inside your own ``with conn.transaction()`` block, that block decides.
    A failing method rolls back its own work only and leaves the connection usable. Each method maps
    pggit's SQLSTATEs to the classes of ``pggit_core.errors``.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    # Branches and diff (sql/branching.sql, sql/diff.sql).

    @durable
    def create_branch(self, name: str, from_branch: str = MAIN, copy_data: bool = False,
                      row_limit: int | None = None) -> Branch:
        """Create ``name`` as a real copy of ``from_branch``'s schemas (rows too with ``copy_data``, at
        most ``row_limit`` per table). All or nothing."""
        return branching.create_branch(self.conn, name, from_branch, copy_data=copy_data, row_limit=row_limit)

    @durable
    def delete_branch(self, name: str, force: bool = False) -> None:
        """Delete ``name`` and its schemas (``force`` for unmerged or uncommitted work)."""
        branching.delete_branch(self.conn, name, force=force)

    @durable
    def list_branches(self) -> list[Branch]:
        """Every live branch, main first."""
        return branching.list_branches(self.conn)

    @durable
    def diff(self, a: str, b: str) -> Diff:
        """What turns ``a`` into ``b`` (branch names or commits written ``@<id>``), in apply order."""
        return diff.diff(self.conn, a, b)

    # Checkout, commits, log (sql/capture.sql).

    @durable
    def checkout(self, name: str) -> str:
        """Put this session on branch ``name`` ('main' goes back); returns the search_path set."""
        return commits.checkout(self.conn, name)

    @durable
    def current_branch(self) -> str:
        """The branch this session is on ('main' when it never checked out)."""
        return commits.current_branch(self.conn)

    @durable
    def commit(self, message: str, author: str | None = None) -> Commit:
        """Commit the session's branch: its snapshot plus the DDL captured since the last commit."""
        return commits.commit(self.conn, message, author)

    @durable
    def log(self, branch: str | None = None, limit: int = 50) -> list[Commit]:
        """Commits of ``branch`` (default: the session's), newest first."""
        return commits.log(self.conn, branch, limit)

    @durable
    def uncommitted(self, branch: str | None = None) -> list[CapturedCommand]:
        """DDL captured on ``branch`` (default: the session's) that no commit holds yet."""
        return commits.uncommitted(self.conn, branch)

    # Merges, conflicts, resolutions (sql/merge3.sql, merge.sql, conflicts.sql; see pggit_core/merge.py).

    def merge(self, branch: str, target_branch: str = "main", auto_resolve: bool = False) -> MergeResult:
        """Merge ``branch`` into ``target_branch``; conflicts come back in the result (target unchanged),
        a failed apply raises MergeError (rolled back, recorded in the merge history). Not decorated:
        ``merge.merge`` is the operation, so the history row of a failed merge is committed before it raises."""
        return merging.merge(self.conn, branch, target_branch, auto_resolve=auto_resolve)

    @durable
    def conflicts(self, include_resolved: bool = False, source: str | None = None,
                  target: str | None = None) -> list[MergeConflict]:
        """Merge conflicts, oldest first (open ones unless ``include_resolved``)."""
        return merging.conflicts(self.conn, include_resolved=include_resolved, source=source, target=target)

    @durable
    def resolve_conflict(self, conflict_id: int, resolution: str, custom_sql: str | None = None,
                         notes: str | None = None, *, force: bool = False) -> MergeConflict:
        """Record a resolution ('ours', 'theirs' or 'custom' with ``custom_sql``: schema changes only, tried on a
        scratch branch; ``force`` (a merger) skips the checks and is recorded)."""
        return merging.resolve_conflict(self.conn, conflict_id, resolution, custom_sql, notes, force=force)
