"""`sandbox audit ...` as an auditor drives it: checkpoints, keys, bundles, predictions, replay."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.test_cli import BLUEPRINT, sandbox


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "outcome": rng.integers(0, 2, n)})
    frame["decision"] = np.where(rng.random(n) < 0.8, frame["outcome"], 1 - frame["outcome"])
    path = tmp_path / "vendor.csv"
    frame.to_csv(path, index=False)
    return path


def test_evaluate_checkpoint_and_truncation(tmp_path: Path, predictions: Path) -> None:
    home = tmp_path / "home"
    args = ["--label", "outcome", "--prediction", "decision", "--sensitive", "sex"]
    first = sandbox(home, "audit", "evaluate", "--data", str(predictions), *args)
    assert first.returncode in (0, 3), first.stderr + first.stdout
    assert "Predictions-only audit" in first.stdout
    checkpoint = sandbox(home, "audit", "checkpoint", "--out", str(tmp_path / "held"))
    assert checkpoint.returncode == 0, checkpoint.stderr
    (held,) = (tmp_path / "held").iterdir()
    sandbox(home, "audit", "evaluate", "--data", str(predictions), *args)
    verified = sandbox(home, "audit", "verify", "--checkpoint", str(held))
    assert verified.returncode == 0, verified.stderr
    trail = home / "audit" / "trail.jsonl"
    trail.write_bytes(b"".join(trail.read_bytes().splitlines(keepends=True)[:1]))
    assert sandbox(home, "audit", "verify").returncode == 0  # a clean cut fools the chain...
    caught = sandbox(home, "audit", "verify", "--checkpoint", str(held))
    assert caught.returncode == 1  # ...but not the checkpoint held elsewhere
    assert "truncated" in caught.stderr


def test_rotate_and_export_keys(tmp_path: Path, predictions: Path) -> None:
    home = tmp_path / "home"
    args = ["--data", str(predictions), "--label", "outcome", "--prediction", "decision"]
    sandbox(home, "audit", "evaluate", *args, "--sensitive", "sex")
    rotated = sandbox(home, "audit", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    assert "key rotated" in rotated.stdout
    sandbox(home, "audit", "evaluate", *args, "--sensitive", "sex")
    assert sandbox(home, "audit", "verify").returncode == 0
    exported = sandbox(home, "audit", "export-keys", str(tmp_path / "pub"))
    assert exported.returncode == 0, exported.stderr
    assert len(list((tmp_path / "pub").glob("*.pub"))) == 2
    trail = home / "audit" / "trail.jsonl"
    pinned = sandbox(
        home, "audit", "verify", "--trail", str(trail), "--keys", str(tmp_path / "pub")
    )
    assert pinned.returncode == 0, pinned.stderr
    assert "trusted: pinned" in pinned.stdout and "no key was pinned" not in pinned.stderr


def test_evaluate_bad_column_exits_2(tmp_path: Path, predictions: Path) -> None:
    result = sandbox(
        tmp_path / "home",
        "audit",
        "evaluate",
        "--data",
        str(predictions),
        "--label",
        "nope",
        "--prediction",
        "decision",
        "--sensitive",
        "sex",
    )
    assert result.returncode == 2
    assert "--label: column 'nope'" in result.stderr


@pytest.mark.docker
def test_export_verify_bundle_and_replay(tmp_path: Path, runner_image: str) -> None:
    home = tmp_path / "home"
    run = sandbox(home, "run", str(BLUEPRINT))
    assert run.returncode == 0, run.stderr + run.stdout
    (run_dir,) = (home / "runs").iterdir()
    bundle = tmp_path / "bundle.tar.gz"
    exported = sandbox(home, "audit", "export", run_dir.name, "--out", str(bundle))
    assert exported.returncode == 0, exported.stderr

    clean = tmp_path / "auditor"
    clean.mkdir()
    copy = Path(shutil.copy(bundle, clean / "bundle.tar.gz"))
    verified = sandbox(clean / "empty-home", "audit", "verify-bundle", str(copy))
    assert verified.returncode == 0, verified.stderr + verified.stdout
    assert "bundle verified" in verified.stdout

    with tarfile.open(copy, "r:gz") as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive}  # type: ignore[union-attr]
    name = f"{run_dir.name}/reports/report.json"
    members[name] = members[name].replace(b"pass_with_warnings", b"pass", 1)
    tampered = clean / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    broken = sandbox(clean / "empty-home", "audit", "verify-bundle", str(tampered))
    assert broken.returncode == 1
    assert "reports/report.json" in broken.stderr

    replayed = sandbox(home, "audit", "replay", run_dir.name, "--pilot", str(BLUEPRINT))
    assert replayed.returncode == 0, replayed.stderr + replayed.stdout
    assert "reproduced" in replayed.stdout


def test_evaluate_refuses_degenerate_input_on_the_record(tmp_path: Path, predictions: Path) -> None:
    home = tmp_path / "home"
    one_row = tmp_path / "one-row.csv"
    pd.read_csv(predictions).iloc[:1].to_csv(one_row, index=False)
    args = ["--label", "outcome", "--prediction", "decision", "--sensitive", "sex"]
    result = sandbox(home, "audit", "evaluate", "--data", str(one_row), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "one-row.csv: 1 evaluation row; at least 20 are needed" in " ".join(
        result.stderr.split()
    )
    (run_dir,) = (home / "runs").iterdir()
    assert '"status": "failed"' in (run_dir / "run.json").read_text()
    assert sandbox(home, "audit", "verify").returncode == 0
