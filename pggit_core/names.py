"""Branch names: the rules of sql/branching.sql checked client-side, and the one identifier-quoting helper."""

from __future__ import annotations

import re

from psycopg import sql

from pggit_core.errors import InvalidName

MAX_BRANCH_NAME = 100
MAIN = "main"
_ALLOWED = re.compile(r"[a-z0-9._/-]*")
_HINT = "use a name like agent/claude-auth-oauth2 (lowercase letters, digits, . _ - /)"


def branch_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new branch, or None when it can (same wording as the SQL check)."""
    if not name:
        return "it is empty"
    if len(name) > MAX_BRANCH_NAME:
        return f"it is longer than {MAX_BRANCH_NAME} characters"
    if name == MAIN:
        return "`main` is the tracked schemas themselves"
    if not ("a" <= name[0] <= "z" or "0" <= name[0] <= "9"):
        return "it must start with a lowercase letter or a digit"
    if not _ALLOWED.fullmatch(name):
        return "only lowercase letters, digits and . _ - / are allowed"
    if "//" in name:
        return "it contains `//`"
    if name.endswith("/"):
        return "it ends with `/`"
    if ".." in name:
        return "it contains `..`"
    return None


def validate_branch_name(name: str) -> str:
    """Return ``name`` if it can name a new branch; raise InvalidName saying what is wrong otherwise."""
    problem = branch_name_problem(name)
    if problem is not None:
        raise InvalidName(f"invalid branch name {name!r}: {problem}", hint=_HINT)
    return name


def ident(*parts: str) -> sql.Identifier:
    """A quoted, optionally qualified identifier (``ident('pggit_b_x', 'users')``): never format names."""
    return sql.Identifier(*parts)
