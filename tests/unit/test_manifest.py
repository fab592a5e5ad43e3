from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.errors import ManifestError
from sandbox.manifest import load_manifest, manifest_json_schema
from tests.pilots import manifest_dict, write_pilot


def test_valid_manifest_loads(tmp_path: Path) -> None:
    manifest = load_manifest(write_pilot(tmp_path / "p"))
    assert manifest.pilot.name == "test-pilot"
    assert manifest.data.features == ("income", "household_size")
    assert manifest.data.sources[0].resolved_format == "csv"
    assert manifest.governance.policy_packs == ("baseline",)


def _error_for(tmp_path: Path, manifest: object) -> str:
    folder = tmp_path / "p"
    folder.mkdir(exist_ok=True)
    (folder / "pilot.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(ManifestError) as info:
        load_manifest(folder)
    return str(info.value)


def test_missing_field_names_file_field_and_fix(tmp_path: Path) -> None:
    m = manifest_dict()
    del m["data"]["label"]
    message = _error_for(tmp_path, m)
    assert "pilot.yaml: data.label: Field required (add this field)" in message


def test_misspelt_field_is_rejected_with_hint(tmp_path: Path) -> None:
    m = manifest_dict()
    m["data"]["sensitve"] = ["sex"]
    message = _error_for(tmp_path, m)
    assert "data.sensitve" in message and "check its spelling" in message


def test_list_index_in_field_path(tmp_path: Path) -> None:
    m = manifest_dict()
    m["data"]["features"] = ["income", "income"]
    assert "data.features: column 'income' is listed twice" in _error_for(tmp_path, m)


def test_label_cannot_be_feature(tmp_path: Path) -> None:
    m = manifest_dict()
    m["data"]["features"] = ["income", "eligible"]
    assert "cannot also be a model feature" in _error_for(tmp_path, m)


@pytest.mark.parametrize("path", ["../secret.csv", "/etc/passwd", "a/../../b.csv"])
def test_data_paths_stay_inside_the_pilot(tmp_path: Path, path: str) -> None:
    m = manifest_dict()
    m["data"]["sources"] = [{"path": path}]
    assert "data.sources[0].path" in _error_for(tmp_path, m)


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pilot.yaml").write_text("pilot: {}\npilot: {}\n")
    with pytest.raises(ManifestError, match="duplicate key 'pilot'"):
        load_manifest(folder)


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pilot.yaml").write_text("pilot:\n  name: [unclosed\n")
    with pytest.raises(ManifestError, match=r"invalid YAML \(line \d+"):
        load_manifest(folder)


def test_yaml_python_tags_are_not_executed(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pilot.yaml").write_text("pilot: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ManifestError, match="invalid YAML"):
        load_manifest(folder)


def test_missing_folder_and_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not a folder"):
        load_manifest(tmp_path / "nope")
    with pytest.raises(ManifestError, match="file not found"):
        load_manifest(tmp_path)


def test_json_schema_is_published() -> None:
    schema = manifest_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"pilot", "task", "data"} <= set(schema["required"])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    folder = tmp_path_factory.mktemp("p")
    (folder / "pilot.yaml").write_bytes(raw)
    with pytest.raises(ManifestError) as info:
        load_manifest(folder)
    assert "pilot.yaml" in str(info.value)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(section=st.sampled_from(["pilot", "task", "data", "model", "governance"]), value=yaml_values)
def test_random_sections_give_a_manifest_error(
    tmp_path_factory: pytest.TempPathFactory, section: str, value: object
) -> None:
    folder = tmp_path_factory.mktemp("p")
    m = manifest_dict()
    m[section] = value
    (folder / "pilot.yaml").write_text(yaml.safe_dump(m))
    try:
        load_manifest(folder)
    except ManifestError as exc:
        assert str(exc).startswith(str(folder / "pilot.yaml"))


def test_schema_describes_how_to_read_a_source() -> None:
    source = manifest_json_schema()["$defs"]["DataSource"]["properties"]
    for field in ("header", "columns", "missing", "encoding", "types"):
        assert source[field]["description"], field
    assert "date" in str(source["types"])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"header": False}, "header: false needs `columns`"),
        ({"columns": ["a"]}, "set header: false"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"types": {"zip": "text"}}, "data.sources[0].types.zip"),
        ({"path": "data.parquet", "encoding": "latin-1"}, "encoding: only for CSV files"),
        ({"header": False, "columns": ["a", "a"]}, "column 'a' is listed twice"),
    ],
)
def test_reading_options_are_validated(
    tmp_path: Path, source: dict[str, object], expected: str
) -> None:
    manifest = manifest_dict()
    manifest["data"]["sources"] = [{"path": "data.csv", **source}]
    message = _error_for(tmp_path, manifest)
    assert expected in message and "data.sources[0]" in message
