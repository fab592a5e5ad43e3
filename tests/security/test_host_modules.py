"""A pilot's Python files never run on the host, even in the folder a command starts in.

Users run `sandbox` from inside a pilot's folder. `python -m` puts the working folder first on
the module path, so each helper process the command starts (the tracking sidecar, the shared
one that outlives the command, the PDF's) would import a pilot's `mlflow.py`, `json.py` or
`sandbox/` from there in place of the real module. Every helper is started with `-P`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.host_python import module_command

_IMPOSTORS = ("mlflow", "json", "pickle", "fpdf", "pandas", "sqlalchemy")


def _hostile_folder(folder: Path) -> Path:
    """A folder whose modules, if imported, leave a marker file behind."""
    folder.mkdir()
    marker = folder / "ran"
    code = f"import pathlib\npathlib.Path({str(marker)!r}).write_text(__name__)\n"
    for name in _IMPOSTORS:
        (folder / f"{name}.py").write_text(code)
    (folder / "sandbox").mkdir()
    (folder / "sandbox" / "__init__.py").write_text(code)
    return marker


def test_a_helper_never_imports_from_the_working_folder(tmp_path: Path) -> None:
    marker = _hostile_folder(tmp_path / "pilot")
    run = {"cwd": tmp_path / "pilot", "input": "{}", "capture_output": True, "text": True}
    result = subprocess.run(module_command("json.tool"), check=True, **run)
    assert result.stdout.strip() == "{}" and not marker.exists()
    subprocess.run([sys.executable, "-m", "json.tool"], check=False, **run)
    assert marker.exists()  # the attack, without -P


@pytest.mark.parametrize("idle_s", ["0", "5"], ids=["own sidecar", "shared sidecar"])
def test_a_command_started_in_a_hostile_folder_runs_none_of_it(tmp_path: Path, idle_s: str) -> None:
    folder = tmp_path / "pilot"
    marker = _hostile_folder(folder)
    data = folder / "predictions.csv"
    rows = [
        f"{s},{g},{y},{y if i % 5 else 1 - y}"
        for i, (s, g, y) in enumerate(
            (("f", "a", 1), ("m", "b", 0), ("f", "b", 1), ("m", "a", 0)) * 50
        )
    ]
    data.write_text("sex,race,y,p\n" + "\n".join(rows) + "\n")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "SANDBOX_HOME": str(tmp_path / "home"),
        "SANDBOX_TRACKING_SIDECAR": "true",
        "SANDBOX_TRACKING_SIDECAR_IDLE_S": idle_s,  # 0: a sidecar of the command's own
        "XDG_RUNTIME_DIR": str(runtime),  # the shared sidecar's socket, this test's alone
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = Path(sys.executable).with_name("sandbox")  # as a user runs it
    result = subprocess.run(
        [
            str(command),
            *("audit", "evaluate", "--data", data.name, "--label", "y"),
            *("--prediction", "p", "--sensitive", "sex,race"),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 3), result.stderr
    assert not marker.exists(), marker.read_text()
