"""Fixtures for the flows: one Prefect test server per session (started once, up front), heartbeats off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """A temporary Prefect server for the whole session; the first API call happens here, on one thread."""
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        with prefect_test_harness(server_startup_timeout=180):
            with get_client(sync_client=True) as client:
                client.hello()
            yield


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    return tmp_path / "migrations"


def wait_for_paused_run(flow_run_id_of: Callable[[], UUID | None], timeout: float = 60.0) -> FlowRun:
    """Poll the server until the flow run whose id ``flow_run_id_of`` returns is paused."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run_id = flow_run_id_of()
            if run_id is not None:
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_paused():
                    return run
            time.sleep(0.2)
    raise AssertionError(f"no paused flow run within {timeout} s")


class Background:
    """Run a callable on another thread and collect its result or exception."""

    def __init__(self, target: Callable[[], Any]) -> None:
        self._target = target
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.result = self._target()
        except BaseException as exc:  # reported to the test by join()
            self.error = exc

    def start(self) -> Background:
        self._thread.start()
        return self

    def join(self, timeout: float = 120.0) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"background call still running after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result
