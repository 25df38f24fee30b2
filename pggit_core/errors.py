"""The one exception hierarchy: every error pggit raises, each with a stable code and a fix."""

from __future__ import annotations


class PgGitError(Exception):
    """Base of every pggit error. ``code`` is stable (documented); ``hint`` says how to fix it."""

    code = "PG000"
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "error": self.message, "hint": self.hint, **self.details}


class ConfigError(PgGitError):
    """A setting, flag or environment variable is wrong."""

    code = "PG001"
    exit_code = 2


class ServerError(PgGitError):
    """The embedded PostgreSQL server could not be found, started, reached or stopped."""

    code = "PG010"
    exit_code = 3


class ConnectionFailed(PgGitError):
    """A database could not be reached with the given DSN."""

    code = "PG011"
    exit_code = 3


class InstallError(PgGitError):
    """The pggit schema could not be installed or upgraded."""

    code = "PG020"
    exit_code = 4


class NotInstalled(InstallError):
    """The database has no pggit schema yet."""

    code = "PG021"


class InvalidName(PgGitError):
    """A branch, agent or object name is not acceptable."""

    code = "PG030"
    exit_code = 2


class NotFound(PgGitError):
    """A branch, commit, intent, conflict or migration does not exist."""

    code = "PG040"
    exit_code = 5


class AlreadyExists(PgGitError):
    """Something with that name or key exists already."""

    code = "PG041"
    exit_code = 5


class BranchError(PgGitError):
    """A branch operation was refused (deleting main, a checked-out branch, an unmerged branch...)."""

    code = "PG050"
    exit_code = 5


class PermissionDenied(PgGitError):
    """The role may not do this: PostgreSQL's privileges or pggit's own checks refuse it (an agent changing
    main or another agent's branch, merging into main, naming another author...)."""

    code = "PG051"
    exit_code = 9


class InvalidSQL(PgGitError):
    """A statement does not parse or does not run."""

    code = "PG060"
    exit_code = 2


class InvalidInput(PgGitError):
    """A value passed to pggit is out of range or malformed."""

    code = "PG061"
    exit_code = 2


class IllegalTransition(PgGitError):
    """An intent status change that the lifecycle does not allow."""

    code = "PG070"
    exit_code = 5


class ConflictsBlock(PgGitError):
    """Unresolved conflicts stop the operation (registration gate, merge)."""

    code = "PG080"
    exit_code = 10


class MergeError(PgGitError):
    """A merge could not be applied; the target is unchanged."""

    code = "PG090"
    exit_code = 6


class StalePlan(MergeError):
    """The target changed while a plan was computed; compute it again."""

    code = "PG091"


class DriftRefused(MergeError):
    """A branch has schema changes pggit did not capture and the setting on_drift is 'refuse'."""

    code = "PG092"


class MigrationError(PgGitError):
    """A migration could not be generated, written, verified or applied."""

    code = "PG100"
    exit_code = 7


class ResolverUnavailable(PgGitError):
    """No LLM resolver can be used (no API key, no network): fall back to human review."""

    code = "PG110"
    exit_code = 8


# SQLSTATEs raised by pggit's own SQL functions map to these classes (see sql/metadata.sql).
SQLSTATE_CLASSES: dict[str, type[PgGitError]] = {
    "PGG30": InvalidName,
    "PGG40": NotFound,
    "PGG41": AlreadyExists,
    "PGG50": BranchError,
    "PGG51": PermissionDenied,
    "PGG60": InvalidSQL,
    "PGG61": InvalidInput,
    "PGG70": IllegalTransition,
    "PGG80": ConflictsBlock,
    "PGG90": MergeError,
    "PGG91": StalePlan,
    "PGG92": DriftRefused,
}
INSUFFICIENT_PRIVILEGE = "42501"
PRIVILEGE_HINT = ("this role lacks the privilege; agents read main and change only their own branches (check out "
                  "your branch with pggit.checkout and use unqualified names), mergers change main")


def from_database_error(exc: BaseException) -> PgGitError | None:
    """Map an error raised by a pggit SQL function (its SQLSTATE) to our class, or None."""
    sqlstate = getattr(exc, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return None
    cls = SQLSTATE_CLASSES.get(sqlstate)
    if cls is None and sqlstate == INSUFFICIENT_PRIVILEGE:
        cls = PermissionDenied
    if cls is None:
        return None
    diag = getattr(exc, "diag", None)
    message = getattr(diag, "message_primary", None) or str(exc)
    hint = getattr(diag, "message_hint", None)
    if hint is None and sqlstate == INSUFFICIENT_PRIVILEGE:
        hint = PRIVILEGE_HINT
    return cls(message, hint=hint)


def database_refused(exc: BaseException) -> PgGitError:
    """A PostgreSQL error no pggit class names, as a PgGitError: its message and hint, and its SQLSTATE."""
    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc)).strip()
    sqlstate = getattr(exc, "sqlstate", None)
    return PgGitError(f"PostgreSQL refused it{f' [{sqlstate}]' if sqlstate else ''}: {message}",
                      hint=getattr(diag, "message_hint", None) or "see the message; nothing was changed")
