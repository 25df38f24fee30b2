"""Usage errors of the CLI are click's few lines and exit code 2, never a Python traceback."""

from __future__ import annotations

import pytest

from pggit_core.cli import main


@pytest.mark.parametrize("argv", [
    ["coordinate", "register", "--agent-id", "x"],
    ["coordinate", "status", "--intent-id", "abc"],
    ["coordinate", "register", "--no-such-option"],
    ["db", "destroy"],
    ["agent", "add"],
])
def test_usage_error_is_a_message_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Error:" in err and err.count("\n") <= 6
