"""Every blueprint in blueprints/: format, manifest, shipped data and their agreement.

Pilot code (generate.py, model.py) runs only inside the container, so these tests never import
or execute it: they check the committed files, their recorded SHA-256, and read the code as
text. `tests/integration/test_blueprints.py` runs each blueprint for real.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from sandbox.blueprints import REQUIRED_FILES, load_expectation
from sandbox.blueprints.checker import check_blueprint, generator_imports
from sandbox.data.checksums import read_checksums
from sandbox.manifest import PilotManifest, load_manifest
from sandbox.policies.selection import packs_for

BLUEPRINTS = Path(__file__).resolve().parents[2] / "blueprints"
FOLDERS = sorted(p for p in BLUEPRINTS.iterdir() if p.is_dir() and not p.name.startswith("."))
MAX_DATA_BYTES = 7_000_000
MIN_ROWS, MAX_ROWS = 5_000, 200_000
MIN_QUESTIONS, MAX_QUESTIONS = 300, 20_000

pytestmark = pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])


def _manifest(folder: Path) -> PilotManifest:
    return load_manifest(folder)


def _frames(folder: Path, manifest: PilotManifest) -> list[pd.DataFrame]:
    return [
        pd.read_json(folder / s.path, lines=True)
        if s.resolved_format == "jsonl"
        else pd.read_csv(folder / s.path, low_memory=False)
        for s in manifest.data.sources
    ]


def _is_assistant(manifest: PilotManifest) -> bool:
    return manifest.task.type == "assistant"


def test_has_every_file_of_the_format(folder: Path) -> None:
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    assert not missing, f"{folder.name} lacks {missing} (see docs/blueprints.md)"


def test_passes_the_static_checks(folder: Path, tmp_path: Path) -> None:
    steps = check_blueprint(folder, services=None, workdir=tmp_path, generator=False)
    failed = {s.name: s.detail for s in steps if s.ok is False}
    assert not failed, f"`sandbox blueprint check {folder}` fails: {failed}"


def test_features_exclude_sensitive_pii_and_proxies(folder: Path) -> None:
    data = _manifest(folder).data
    features = set(data.features)
    assert data.sensitive, "a blueprint audits at least one sensitive attribute"
    assert features.isdisjoint(data.sensitive)
    assert features.isdisjoint(data.pii)
    assert features.isdisjoint(data.proxies)
    assert data.label not in features


def test_governance_is_filled_in(folder: Path) -> None:
    governance = _manifest(folder).governance
    assert governance.human_oversight.strip()
    assert governance.data_retention.strip()
    assert governance.transparency, "governance.transparency fields for the ATRS record"
    answered = governance.impact_assessment.model_dump(exclude_defaults=True)
    assert answered, "the impact-assessment answers are given, not left to their defaults"


def test_shipped_data_are_listed_sized_and_declared(folder: Path) -> None:
    manifest = _manifest(folder)
    sums = read_checksums(folder) or {}
    total = 0
    for source in manifest.data.sources:
        assert source.path.startswith("data/"), "shipped data live under data/"
        assert source.path.removeprefix("data/") in sums
        total += (folder / source.path).stat().st_size
    assert total < MAX_DATA_BYTES
    declared = {
        manifest.data.label,
        *manifest.data.features,
        *manifest.data.sensitive,
        *manifest.data.pii,
        *manifest.data.proxies,
    }
    frames = _frames(folder, manifest)
    columns = set().union(*(set(f.columns) for f in frames))
    assert declared - {manifest.data.label} <= columns
    rows = sum(len(f) for f in frames)
    if _is_assistant(manifest):  # questions written per language, not rows of a register
        assert MIN_QUESTIONS <= rows <= MAX_QUESTIONS, f"{rows} questions: hundreds per language"
    else:
        assert MIN_ROWS <= rows <= MAX_ROWS, f"{rows} rows: tens of thousands, as the format says"


def test_data_are_as_messy_as_real_municipal_data(folder: Path) -> None:
    manifest = _manifest(folder)
    frames = _frames(folder, manifest)
    if _is_assistant(manifest):
        questions = pd.concat(frames)
        assert questions["question"].nunique() >= 0.9 * len(questions), "questions paraphrased"
        assert questions["must_decline"].any(), "some questions must be declined"
        assert questions["language"].nunique() >= 3, "at least three languages"
        return
    blanks = sum(
        int(f[[c for c in manifest.data.features if c in f]].isna().sum().sum()) for f in frames
    )
    assert blanks > 0, "some feature values are missing, as on real intake forms"


def test_model_and_generator_are_what_the_harness_and_checker_run(folder: Path) -> None:
    """Read the code as text (never import it)."""
    manifest = _manifest(folder)
    if manifest.model.entrypoint is not None and manifest.model.artifact is None:
        module, _, factory = manifest.model.entrypoint.partition(":")
        tree = ast.parse((folder / module).read_text(encoding="utf-8"))
        assert factory in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    source = (folder / "generate.py").read_text(encoding="utf-8")
    assert generator_imports(source, local={p.stem for p in folder.glob("*.py")}) == []
    assert "--out" in source and "--seed" in source


def test_expected_findings_name_rules_the_pilot_applies(folder: Path) -> None:
    manifest = _manifest(folder)
    expected = load_expectation(folder / "expected.yaml")
    rules = {rule.id for pack in packs_for(manifest, folder) for rule in pack.rules}
    unknown = [f.rule for f in expected.findings if f.rule not in rules]
    assert not unknown, f"expected.yaml names rules no applied pack has: {unknown}"
    assert any(f.outcome == "failed" for f in expected.findings), (
        "the blueprint test confirms the documented disparity is found (a failed rule)"
    )
