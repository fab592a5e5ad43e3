"""The console entry point: exit codes as before, a collector tuned for a short-lived command."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from sandbox.cli import main


@pytest.fixture
def collector() -> Iterator[None]:
    """Give the test process its collector back as it was (main() is the process's own)."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["sandbox", "--help"], 0),
        (["sandbox", "nosuch", "--help"], 2),  # a usage error, with its one line on stderr
    ],
)
def test_main_exits_with_the_command_s_code_and_freezes_what_is_left(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    collector: None,
    argv: list[str],
    code: int,
) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == code
    assert gc.get_threshold()[0] == 10_000  # fewer passes over the command's imports
    assert gc.get_freeze_count() > 0  # teardown skips the collector's passes
    out, err = capsys.readouterr()
    if code == 0:
        assert "audit" in out
    else:
        assert err.startswith("error: ") and "No such command 'nosuch'" in err
