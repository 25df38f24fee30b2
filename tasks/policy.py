"""When a task retries: with backoff, and only on transient database errors (never on pggit errors)."""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

from pggit_core.service import is_transient

RETRIES = 3
RETRY_DELAYS = exponential_backoff(backoff_factor=0.5)(RETRIES)
RETRY_JITTER = 0.2


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry only when the failure is a transient database error."""
    try:
        state.result()
    except BaseException as exc:  # the state's stored exception, re-raised by Prefect
        return is_transient(exc)
    return False


TASK_OPTIONS: dict[str, Any] = {
    "retries": RETRIES,
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_jitter_factor": RETRY_JITTER,
    "retry_condition_fn": retry_on_transient,
    "persist_result": False,
}
