"""Resource abuse and hostile outputs.

Resource abusers run all at once, beside a benign pilot: each must end in a defined state
within its time limit plus a few seconds, and the benign pilot must still succeed.
Hostile outputs must be refused (rule `runtime.outputs-valid`) with nothing copied to the host.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.security.conftest import PILOTS, Attack, Lab

pytestmark = pytest.mark.docker

GRACE_S = 5.0  # the kill, the engine's bookkeeping, a busy 2-core machine

ABUSERS = {
    "fork-bomb": {"timed_out", "failed", "oom_killed"},  # pids or memory, whichever first
    "memory-bomb": {"oom_killed"},
    "cpu-spin": {"timed_out"},
    "sleep-forever": {"timed_out"},
    "ignore-sigterm": {"timed_out"},
}


def _timeout_of(name: str) -> float:
    manifest = yaml.safe_load((PILOTS / name / "pilot.yaml").read_text())
    return float(manifest["resources"]["timeout_s"])


@pytest.fixture(scope="module")
def abuse(lab: Lab) -> dict[str, Attack]:
    """Every abuser and one benign pilot, all running at the same time."""
    names = [*ABUSERS, "benign"]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = {name: pool.submit(lab.attack, name) for name in names}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", sorted(ABUSERS))
def test_resource_abuse_ends_in_a_defined_state_in_time(
    abuse: dict[str, Attack], name: str
) -> None:
    attack = abuse[name]
    assert attack.state in ABUSERS[name], attack.container
    assert attack.outcome.verdict.status == "fail"
    assert "runtime.container-succeeded" in attack.failed_rules
    assert attack.container["duration_s"] <= _timeout_of(name) + GRACE_S
    assert attack.outcome.run_dir.joinpath("output").is_dir()
    assert list(attack.outcome.run_dir.joinpath("output").iterdir()) == []


def test_benign_pilot_beside_the_abusers_succeeds(abuse: dict[str, Attack]) -> None:
    benign = abuse["benign"]
    assert benign.state == "succeeded", benign.container
    assert benign.outcome.verdict.exit_ok
    assert benign.outcome.exit_code == 0


def test_filling_tmp_and_shm_stops_at_the_caps(lab: Lab) -> None:
    attack = lab.attack("fill-tmp")
    assert attack.state == "succeeded", attack.container
    probe = attack.probe()
    mib = 1024 * 1024
    for folder in ("/tmp", "/dev/shm"):
        assert probe[folder]["bytes"]["stopped"] == "No space left on device"
        assert probe[folder]["bytes"]["bytes"] <= 64 * mib
        assert probe[folder]["inodes"]["stopped"] == "No space left on device"
        assert probe[folder]["inodes"]["files"] <= 4096


def test_filling_output_ends_the_run_without_copying_anything(lab: Lab) -> None:
    attack = lab.attack("fill-output")
    assert attack.state in {"failed", "oom_killed"}, attack.container
    assert attack.outcome.verdict.status == "fail"
    assert list((attack.outcome.run_dir / "output").iterdir()) == []


def test_zombies_and_a_lingering_daemon_are_reaped_and_removed(lab: Lab) -> None:
    attack = lab.attack("zombies")
    assert attack.state == "succeeded", attack.container
    assert attack.container["duration_s"] <= _timeout_of("zombies")
    # the daemon was frozen, then killed with the container: nothing of it runs on


def test_killing_the_containers_init_fails_the_run(lab: Lab) -> None:
    attack = lab.attack("kill-init")
    assert attack.state == "failed", attack.container
    assert list((attack.outcome.run_dir / "output").iterdir()) == []


HOSTILE_OUTPUTS = {
    "output-symlink": "symbolic link",
    "output-hardlink": "hard link",
    "output-device": "fifo",
    "output-bad-names": "control character",
    "malformed-predictions": "predictions.csv",
    "oversized-predictions": "unexpected columns",
    "wrong-row-ids": "row ids differ",
    "nan-scores": "finite number",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_OUTPUTS))
def test_hostile_outputs_are_refused(lab: Lab, name: str) -> None:
    attack = lab.attack(name)
    assert attack.state == "succeeded" or attack.state == "outputs_rejected", attack.container
    assert attack.outcome.verdict.status == "fail"
    assert "runtime.outputs-valid" in attack.failed_rules
    [rejected] = [
        o for o in attack.outcome.verdict.failures if o.rule_id == "runtime.outputs-valid"
    ]
    assert HOSTILE_OUTPUTS[name] in rejected.message, rejected.message
    assert attack.outcome.report.evaluation is None
    if attack.state == "outputs_rejected":  # refused while copying: nothing reached the host
        assert list((attack.outcome.run_dir / "output").iterdir()) == []
    _no_links_or_specials(attack.outcome.run_dir)


def test_huge_sparse_file_is_stopped_by_the_file_size_limit(lab: Lab) -> None:
    attack = lab.attack("huge-sparse-file")
    assert attack.state == "failed", attack.container
    assert "File too large" in attack.container["stderr_tail"]
    assert list((attack.outcome.run_dir / "output").iterdir()) == []


def test_millions_of_files_hit_the_inode_cap(lab: Lab) -> None:
    attack = lab.attack("many-files")
    assert attack.state == "failed", attack.container
    assert "No space left on device" in attack.container["stderr_tail"]
    assert attack.container["duration_s"] < 20


def test_pickle_and_import_payloads_are_never_loaded(lab: Lab, tmp_path: Path) -> None:
    import sys

    marker = Path("/tmp") / f"sandbox-pwned-{tmp_path.name}"
    attack = lab.attack("pickle-payload", marker=str(marker))
    assert attack.state == "succeeded", attack.container
    output = attack.outcome.run_dir / "output"
    assert (output / "model" / "model.joblib").is_file()  # kept, hashed, never loaded
    finished = attack.outcome.verdict  # the run went through evaluation and reports
    assert finished.status in {"pass", "pass_with_warnings", "fail"}
    assert not marker.exists()
    assert not any(str(output) in str(getattr(m, "__file__", "")) for m in sys.modules.values())


def _no_links_or_specials(run_dir: Path) -> None:
    for path in run_dir.rglob("*"):
        assert not path.is_symlink(), path
        assert path.is_dir() or path.is_file(), path
        if path.is_file():
            assert path.stat().st_nlink == 1, path
