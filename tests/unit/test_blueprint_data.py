"""The benefits-eligibility-screening blueprint: manifest, shipped data and their agreement.

Pilot code (generate.py, model.py) runs only inside the container, so these tests never import
or execute it: they check the committed CSV, its recorded SHA-256, and read model.py as text.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from sandbox.manifest import PilotManifest, load_manifest

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "benefits-eligibility-screening"
DATA = BLUEPRINT / "data" / "households.csv"
RACE_GROUPS = {
    "White",
    "Black",
    "Hispanic or Latino",
    "Asian",
    "American Indian or Alaska Native",
}


@pytest.fixture(scope="module")
def manifest() -> PilotManifest:
    return load_manifest(BLUEPRINT)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(DATA)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def test_manifest_validates(manifest: PilotManifest) -> None:
    assert manifest.pilot.name == "benefits-eligibility-screening"
    assert manifest.pilot.owner.contact.endswith("@example.gov")
    assert manifest.task.type == "binary_classification"
    assert manifest.model.entrypoint == "model.py:build_model"
    assert manifest.data.split.evaluation_fraction == pytest.approx(0.3)
    assert manifest.data.split.seed == 2026
    assert manifest.evaluation.min_group_size == 50
    assert manifest.evaluation.bootstrap == 500
    assert "baseline" in manifest.governance.policy_packs
    assert manifest.governance.human_oversight
    assert manifest.governance.data_retention
    assert manifest.governance.impact_assessment["automation"] == "decision_support"


def test_features_exclude_sensitive_pii_and_proxies(manifest: PilotManifest) -> None:
    features = set(manifest.data.features)
    assert {"race_ethnicity", "sex", "age_band"} <= set(manifest.data.sensitive)
    assert features.isdisjoint(manifest.data.sensitive)
    assert features.isdisjoint(manifest.data.pii)
    assert features.isdisjoint(manifest.data.proxies)
    assert manifest.data.label not in features


def test_only_one_data_source_the_shipped_csv(manifest: PilotManifest) -> None:
    assert [s.path for s in manifest.data.sources] == ["data/households.csv"]
    assert DATA.is_file()
    assert DATA.stat().st_size < 7_000_000


def test_csv_has_every_declared_column_and_nothing_undeclared(
    manifest: PilotManifest, frame: pd.DataFrame
) -> None:
    declared = [
        manifest.data.label,
        *manifest.data.features,
        *manifest.data.sensitive,
        *manifest.data.pii,
        *manifest.data.proxies,
    ]
    assert len(declared) == len(set(declared))
    assert set(frame.columns) == set(declared)
    assert len(frame) == 40_000


def test_label_is_binary_with_base_rate_in_range(
    manifest: PilotManifest, frame: pd.DataFrame
) -> None:
    label = frame[manifest.data.label]
    assert label.notna().all()
    assert set(label.unique()) == {0, 1}
    assert manifest.task.positive_label in set(label.unique())
    base_rate = float((label == manifest.task.positive_label).mean())
    assert 0.30 <= base_rate <= 0.45


def test_every_race_group_is_present_and_sizes_are_unequal(frame: pd.DataFrame) -> None:
    counts = frame["race_ethnicity"].value_counts()
    assert set(counts.index) == RACE_GROUPS
    assert 200 <= counts.min() <= 1_000, "one small group of a few hundred rows"
    assert counts.max() > 4 * counts.sort_values().iloc[1]
    assert set(frame["sex"].unique()) == {"female", "male"}
    assert frame["age_band"].nunique() == 6


def test_sensitive_and_label_columns_are_complete(
    manifest: PilotManifest, frame: pd.DataFrame
) -> None:
    for column in manifest.data.sensitive:
        assert frame[column].notna().all(), column


def test_missing_values_are_few_and_only_where_documented(
    manifest: PilotManifest, frame: pd.DataFrame
) -> None:
    share = frame[list(manifest.data.features)].isna().mean()
    with_gaps = set(share[share > 0].index)
    assert with_gaps == {"months_at_address", "employment_status"}
    assert (share[list(with_gaps)] > 0.01).all()
    assert (share[list(with_gaps)] < 0.08).all()


def test_feature_values_are_plausible(frame: pd.DataFrame) -> None:
    assert frame["household_id"].is_unique
    assert frame["monthly_income"].ge(0).all()
    assert frame["household_size"].between(1, 10).all()
    assert (frame["dependents"] < frame["household_size"]).all()
    assert frame["distance_to_office_km"].between(0, 30).all()
    assert frame["rent_burden_ratio"].between(0, 3).all()
    assert set(frame["has_disability_member"].unique()) == {0, 1}
    assert frame["neighbourhood"].nunique() == 12
    assert set(frame["service_district"].unique()) == {"Central", "North", "East", "South"}
    assert frame["phone"].dropna().str.match(r"^555-\d{3}-\d{4}$").all()
    assert frame["email"].dropna().str.match(r"^[a-z]+\d+@example\.(com|net|org)$").all()


def test_documented_disparity_is_present_in_the_labels(frame: pd.DataFrame) -> None:
    """Residential segregation plus zone-biased historical decisions: a moderate gap."""
    rates = frame.groupby("race_ethnicity")["eligible"].mean()
    gap = rates.max() - rates.min()
    assert 0.03 <= gap <= 0.15
    assert rates["Black"] < rates["White"]
    # the proxy really is one: the groups live in different places
    shares = pd.crosstab(frame["race_ethnicity"], frame["service_district"], normalize="index")
    assert shares.loc["Black", "East"] - shares.loc["White", "East"] > 0.2


def test_data_matches_recorded_sha256() -> None:
    """Generation is deterministic: the committed bytes are the ones the README names."""
    sums = (BLUEPRINT / "data" / "SHA256SUMS").read_text(encoding="utf-8").split()
    assert sums[1] == "households.csv"
    recorded = sums[0]
    assert re.fullmatch(r"[0-9a-f]{64}", recorded)
    assert _sha256(DATA) == recorded
    readme = (BLUEPRINT / "README.md").read_text(encoding="utf-8")
    assert recorded in readme
    assert "python generate.py --rows 40000 --seed 2026 --out data/households.csv" in readme


def _tuple_constant(tree: ast.Module, name: str) -> tuple[str, ...]:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Tuple)
        ):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError(f"model.py has no tuple constant {name}")


def test_model_columns_match_manifest_features(manifest: PilotManifest) -> None:
    """Read model.py as text (never import it): its column lists are the manifest's features."""
    tree = ast.parse((BLUEPRINT / "model.py").read_text(encoding="utf-8"))
    numeric = _tuple_constant(tree, "NUMERIC_FEATURES")
    categorical = _tuple_constant(tree, "CATEGORICAL_FEATURES")
    assert numeric + categorical == manifest.data.features
    factories = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert manifest.model.entrypoint.split(":")[1] in factories
