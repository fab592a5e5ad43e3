"""The manifest's `model` section: three kinds of model, one chosen, pickles refused by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.errors import ManifestError
from sandbox.manifest import load_manifest, manifest_json_schema
from sandbox.model_section import TRAINED_ELSEWHERE, ModelSection
from tests.pilots import manifest_dict, write_pilot


def _load(tmp_path: Path, model: dict[str, Any], *files: str) -> ModelSection:
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest_dict(model=model))
    for name in files:
        (pilot / name).parent.mkdir(parents=True, exist_ok=True)
        (pilot / name).write_bytes(b"model bytes")
    return load_manifest(pilot).model


def test_the_default_is_a_factory(tmp_path: Path) -> None:
    model = _load(tmp_path, {})
    assert model.kind == "factory" and model.harness_spec() == {"kind": "factory"}
    assert model.notes() == ()


def test_an_onnx_artifact_is_evaluation_only_and_says_so(tmp_path: Path) -> None:
    model = _load(tmp_path, {"artifact": "models/vendor.onnx"}, "models/vendor.onnx")
    assert model.kind == "artifact" and model.artifact_format == "onnx"
    assert model.harness_spec()["artifact"] == "models/vendor.onnx"
    assert model.notes() == (TRAINED_ELSEWHERE,)


def test_a_joblib_artifact_needs_allow_pickle_and_carries_a_warning(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"model: .*pickle.*ONNX or skops.*allow_pickle"):
        _load(tmp_path, {"artifact": "vendor.joblib"}, "vendor.joblib")
    model = _load(tmp_path, {"artifact": "vendor.joblib", "allow_pickle": True}, "vendor.joblib")
    assert any("pickle" in note for note in model.notes())


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"artifact": "a.onnx", "command": ["python3", "s.py"]}, "choose one kind"),
        ({"entrypoint": "model.py:build_model", "artifact": "a.onnx"}, "choose one kind"),
        ({"artifact": "a.pt"}, "use a .onnx, .skops or .joblib"),
        ({"artifact": "../a.onnx"}, "relative path"),
        ({"artifact": "a.onnx", "trusted_types": ["x.Y"]}, "only to a .skops"),
        ({"artifact": "a.skops", "trusted_types": ["not a type"]}, "dotted type name"),
        ({"allow_pickle": True}, "only to a .joblib"),
        ({"command": []}, "at least 1"),
        ({"command": "python3 score.py"}, "tuple"),
    ],
)
def test_bad_model_sections_name_the_fix(
    tmp_path: Path, model: dict[str, Any], message: str
) -> None:
    with pytest.raises(ManifestError, match=message):
        _load(tmp_path, model, "a.onnx", "a.skops")


def test_an_artifact_outside_the_pilot_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.onnx").write_bytes(b"x")
    pilot = write_pilot(tmp_path / "pilot", manifest=manifest_dict(model={"artifact": "m.onnx"}))
    (pilot / "m.onnx").symlink_to(tmp_path / "outside.onnx")
    with pytest.raises(ManifestError, match=r"model\.artifact"):
        load_manifest(pilot)


def test_a_command_is_an_argv_list(tmp_path: Path) -> None:
    model = _load(tmp_path, {"command": ["python3", "score.py", "--fast"]})
    assert model.kind == "command"
    assert model.harness_spec() == {"kind": "command", "command": ["python3", "score.py", "--fast"]}


def test_the_json_schema_describes_every_kind() -> None:
    fields = manifest_json_schema()["$defs"]["ModelSection"]["properties"]
    assert {"entrypoint", "artifact", "command", "trusted_types", "allow_pickle"} <= set(fields)


def test_the_cli_refuses_a_joblib_artifact_without_allow_pickle_with_exit_2(
    tmp_path: Path,
) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    manifest = manifest_dict(model={"artifact": "vendor.joblib"})
    (pilot / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (pilot / "vendor.joblib").write_bytes(b"never opened by the host")
    env = {**os.environ, "SANDBOX_HOME": str(tmp_path / "home"), "SANDBOX_IMAGE": "runner:unused"}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", str(pilot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "allow_pickle" in result.stderr and "ONNX or skops" in result.stderr
