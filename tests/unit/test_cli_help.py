"""Help pages: the cheap top-level listing shows what the full command tree shows, once."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

import sandbox.cli
from sandbox.cli import _top_level_listing, app, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _command_line(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fixed width, no settings read, and the test process's collector back as it was."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(sandbox.cli, "_private_files", lambda: None)
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _main(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `sandbox ARGV`."""
    monkeypatch.setattr(sys, "argv", ["sandbox", *argv])
    with pytest.raises(SystemExit) as stopped:
        main()
    out, err = capsys.readouterr()
    assert isinstance(stopped.value.code, int)
    return stopped.value.code, out, err


def _full_tree_help(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """The help the command tree typer builds in full shows for `sandbox ARGS --help`."""
    command = typer.main.get_command(app)
    # The program's name as `main` finds it: click reads it from sys.argv and from how Python
    # was started (`python -m pytest` names it differently from a `sandbox` script).
    monkeypatch.setattr(sys, "argv", ["sandbox", *args, "--help"])
    assert command.main([*args, "--help"], standalone_mode=False) == 0
    return capsys.readouterr().out


def test_the_top_level_listing_is_used_and_lists_every_command() -> None:
    listing = _top_level_listing()
    assert listing is not None  # no entry needed the full build
    full = typer.main.get_command(app)
    assert isinstance(full, typer.core.TyperGroup)
    assert list(listing.commands) == list(full.commands)
    assert all(not entry.params for entry in listing.commands.values())


@pytest.mark.parametrize("argv", [["--help"], []])
def test_top_level_help_is_what_the_full_command_tree_shows(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _full_tree_help([], monkeypatch, capsys)
    code, out, err = _main(argv, monkeypatch, capsys)
    assert (code, err) == (0, "")
    assert out == expected
    assert out.count("Usage: ") == 1 and "[OPTIONS] COMMAND" in out
    assert "audit" in out and "Run PILOT end to end" in out


@pytest.mark.parametrize("group", ["audit", "policy", "server"])
def test_a_command_group_alone_shows_its_help_once(
    group: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _full_tree_help([group], monkeypatch, capsys)
    code, out, err = _main([group], monkeypatch, capsys)
    assert (code, err) == (0, "")
    assert out == expected
    assert out.count("Usage: ") == 1 and f" {group} [OPTIONS] COMMAND" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
        (["audit", "nosuch"], "No such command 'nosuch'"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["audit", "evaluate"], "Missing option '--data'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str],
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _main(argv, monkeypatch, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("SANDBOX_TRACKING_SIDECAR_IDLE_S", "soon", "SANDBOX_TRACKING_SIDECAR_IDLE_S='soon'"),
        ("SANDBOX_TRACKING_SIDECAR_IDLE_S", "-1", "greater than or equal to 0"),
        ("SANDBOX_SHARED_READ", "perhaps", "SANDBOX_SHARED_READ='perhaps'"),
        ("SANDBOX_TRACKING_SIDECAR", "[red]x" * 40, "'[red]x"),  # markup shown, cut short
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_exit_2(
    variable: str,
    value: str,
    fragment: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SANDBOX_HOME", str(tmp_path))
    monkeypatch.setenv(variable, value)
    code, out, err = _main(["audit", "verify"], monkeypatch, capsys)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert "Traceback" not in err and len(err) < 400
