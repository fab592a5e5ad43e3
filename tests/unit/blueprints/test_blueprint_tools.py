"""The blueprint tooling without Docker: README sections, expected.yaml, SHA256SUMS, the
catalog, `blueprint init` copies, and the checker's steps against a fake runtime."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records
from sandbox.blueprints import (
    REQUIRED_SECTIONS,
    Expectation,
    compare,
    find_blueprint,
    list_blueprints,
    load_expectation,
)
from sandbox.blueprints.checker import check_blueprint, generator_imports
from sandbox.blueprints.copying import copy_blueprint
from sandbox.blueprints.readme import missing_sections, readme_sections
from sandbox.data.checksums import check_shipped_data, format_checksums, parse_checksums
from sandbox.errors import DataError, UserInputError
from sandbox.manifest import load_manifest
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import RunServices
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import make_frame, manifest_dict

ROOT = Path(__file__).resolve().parents[3]
CSV = make_frame(rows=300).to_csv(index=False, lineterminator="\n").encode()
GENERATOR = "import argparse\nimport numpy as np\nimport pandas as pd\n"


def _hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_blueprint(folder: Path, *, sections: tuple[str, ...] = REQUIRED_SECTIONS) -> Path:
    """A complete small blueprint folder (its data written here, never by its generator)."""
    (folder / "data").mkdir(parents=True)
    manifest = manifest_dict()
    manifest["data"]["sources"] = [{"path": "data/cases.csv"}]
    (folder / "pilot.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / "data" / "cases.csv").write_bytes(CSV)
    (folder / "data" / "SHA256SUMS").write_text(format_checksums({"cases.csv": _hex(CSV)}))
    body = "".join(f"## {name}\n\nText about {name.lower()}.\n\n" for name in sections)
    (folder / "README.md").write_text(f"# A test blueprint\n\n{body}")
    (folder / "model.py").write_text("def build_model(**params):\n    return None\n")
    (folder / "generate.py").write_text(GENERATOR)
    (folder / "expected.yaml").write_text(
        "verdict: pass_with_warnings\nfindings:\n"
        "  - rule: fairness.four-fifths\n    outcome: failed\n    mentions: group\n"
    )
    return folder


def report(status: str, **outcomes: tuple[str, str]) -> dict[str, object]:
    return {
        "verdict": {
            "status": status,
            "outcomes": [
                {"rule_id": rule, "outcome": outcome, "message": message}
                for rule, (outcome, message) in outcomes.items()
            ],
        }
    }


# --- README sections ---------------------------------------------------------------------


def test_sections_are_read_in_order_and_code_fences_are_skipped() -> None:
    text = "# T\n\n## One\n\na\n\n```\n## Not a heading\n```\n\n## Two\nb\n"
    assert list(readme_sections(text)) == ["One", "Two"]
    assert readme_sections(text)["Two"] == "b"


def test_missing_and_misordered_sections_are_found() -> None:
    assert missing_sections(list(REQUIRED_SECTIONS)) == ([], True)
    assert missing_sections(["Known risks", *REQUIRED_SECTIONS[:5]])[0] == [
        "What a city must change"
    ]
    reordered = [REQUIRED_SECTIONS[1], REQUIRED_SECTIONS[0], *REQUIRED_SECTIONS[2:]]
    assert missing_sections(reordered) == ([], False)
    extra = ["How to run it", *REQUIRED_SECTIONS[:3], "Columns", *REQUIRED_SECTIONS[3:]]
    assert missing_sections(extra) == ([], True)


# --- expected.yaml -----------------------------------------------------------------------


def test_expectation_holds_or_says_what_differs() -> None:
    expected = Expectation.model_validate(
        {"verdict": "fail", "findings": [{"rule": "r.a", "outcome": "failed", "mentions": "x"}]}
    )
    assert compare(expected, report("fail", **{"r.a": ("failed", "x is off")})) == []
    problems = compare(expected, report("pass", **{"r.a": ("passed", "fine")}))
    assert problems[0] == "verdict is 'pass', expected 'fail'"
    assert "outcome 'passed', expected 'failed'" in problems[1]
    assert (
        "does not mention 'x'" in compare(expected, report("fail", **{"r.a": ("failed", "y")}))[0]
    )
    assert "not among the run's rule outcomes" in compare(expected, report("fail"))[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("verdict: great\n", "verdict"),
        ("verdict: pass\nfindings:\n  - rule: a\n    outcome: broke\n", "findings[0].outcome"),
        ("verdict: pass\nextra: 1\n", "extra"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_a_malformed_expectation_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "expected.yaml").write_text(text)
    with pytest.raises(UserInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_expectation(tmp_path / "expected.yaml")


# --- SHA256SUMS --------------------------------------------------------------------------


def test_checksums_parse_the_sha256sum_format() -> None:
    digest = "a" * 64
    assert parse_checksums(f"{digest}  x.csv\n{digest} *y.csv\n", where="S") == {
        "x.csv": digest,
        "y.csv": digest,
    }
    for bad in (f"{digest} x.csv", "abc  x.csv", f"{digest}  ../x.csv", f"{digest}  /etc/x", ""):
        with pytest.raises(DataError):
            parse_checksums(bad, where="S")


def test_shipped_data_must_match_and_be_listed(tmp_path: Path) -> None:
    folder = write_blueprint(tmp_path / "bp")
    manifest = load_manifest(folder)
    assert check_shipped_data(folder, manifest) == {"cases.csv": _hex(CSV)}
    (folder / "data" / "cases.csv").write_bytes(CSV.replace(b"yes", b"no!", 1))
    with pytest.raises(DataError, match="cases.csv: its SHA-256 differs"):
        check_shipped_data(folder, manifest)
    (folder / "data" / "cases.csv").write_bytes(CSV)
    (folder / "data" / "SHA256SUMS").write_text(format_checksums({"other.csv": _hex(b"")}))
    with pytest.raises(DataError, match="other.csv: listed but not found.*data/cases.csv: read"):
        check_shipped_data(folder, manifest)
    (folder / "data" / "SHA256SUMS").unlink()
    assert check_shipped_data(folder, manifest) is None  # nothing promised, nothing checked


@pytest.fixture
def services(tmp_path: Path) -> RunServices:
    return RunServices(
        runtime=FakeRuntime(lambda spec: {}),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "trail.jsonl", Signer.load_or_create(tmp_path / "key.pem")),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def test_a_run_on_tampered_data_is_rejected_on_the_record(
    tmp_path: Path, services: RunServices
) -> None:
    folder = write_blueprint(tmp_path / "bp")
    (folder / "data" / "cases.csv").write_bytes(CSV + b"\n")
    with pytest.raises(DataError, match="SHA256SUMS"):
        run_pilot(folder, services)
    assert [r.kind for r in iter_records(services.trail.path)] == ["run.rejected"]


# --- the catalog and `blueprint init` ----------------------------------------------------


def test_the_catalog_finds_every_folder_of_blueprints() -> None:
    names = {b.name for b in list_blueprints()}
    on_disk = {p.name for p in (ROOT / "blueprints").iterdir() if (p / "pilot.yaml").is_file()}
    assert on_disk <= names
    assert "benefits-eligibility-screening" in names
    assert find_blueprint("benefits-eligibility-screening").name == "benefits-eligibility-screening"
    with pytest.raises(UserInputError, match="no blueprint named 'nope'"):
        find_blueprint("nope")


def test_init_copies_with_data_verified_and_a_start_note(tmp_path: Path) -> None:
    source = write_blueprint(tmp_path / "bp")
    copied = copy_blueprint(source, tmp_path / "mine")
    assert copied.verified == ("cases.csv",)
    readme = (tmp_path / "mine" / "README.md").read_text()
    assert readme.startswith("# A test blueprint\n\n## Start here: what to change first")
    assert list(readme_sections(readme))[1:] == list(REQUIRED_SECTIONS)
    with pytest.raises(UserInputError, match="not an empty folder"):
        copy_blueprint(source, tmp_path / "mine")
    (source / "data" / "cases.csv").write_bytes(b"changed")
    with pytest.raises(DataError):
        copy_blueprint(source, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_init_refuses_a_blueprint_holding_a_link(tmp_path: Path) -> None:
    source = write_blueprint(tmp_path / "bp")
    (source / "secrets").symlink_to("/etc/passwd")
    with pytest.raises(UserInputError, match="never links"):
        copy_blueprint(source, tmp_path / "mine")


# --- the checker -------------------------------------------------------------------------


def test_generator_imports_beyond_numpy_and_pandas_are_named() -> None:
    assert (
        generator_imports(GENERATOR + "import json\nfrom words import NAMES\n", local={"words"})
        == []
    )
    assert generator_imports("import requests\nfrom sklearn import x\n", local=set()) == [
        "requests",
        "sklearn",
    ]


def _check(
    folder: Path, services: RunServices, tmp_path: Path
) -> dict[str, tuple[bool | None, str]]:
    steps = check_blueprint(folder, services=services, workdir=tmp_path / "work", run=False)
    return {s.name: (s.ok, s.detail) for s in steps}


def test_the_checker_runs_the_generator_twice_in_a_container(
    tmp_path: Path, services: RunServices
) -> None:
    folder = write_blueprint(tmp_path / "bp")
    specs: list[ContainerSpec] = []

    def generator(spec: ContainerSpec) -> dict[str, bytes]:
        specs.append(spec)
        return {"cases.csv": CSV}

    services = RunServices(**{**services.__dict__, "runtime": FakeRuntime(generator)})
    steps = _check(folder, services, tmp_path)
    assert all(ok is not False for ok, _ in steps.values()), steps
    assert steps["generator"][0] is True and steps["run"][0] is None
    assert len(specs) == 2
    assert specs[0].command == ("python3", "/pilot/generate.py", "--out", "/output")
    assert specs[0].hardening.network == "none" and specs[0].hardening.read_only_root
    assert not (specs[0].pilot_dir / "data").exists()  # only the code crosses the wall


def test_the_checker_finds_a_generator_that_is_not_deterministic(
    tmp_path: Path, services: RunServices
) -> None:
    folder = write_blueprint(tmp_path / "bp")
    calls: list[int] = []

    def drifting(spec: ContainerSpec) -> dict[str, bytes]:
        calls.append(1)
        return {"cases.csv": CSV if len(calls) == 1 else CSV + b"x"}

    services = RunServices(**{**services.__dict__, "runtime": FakeRuntime(drifting)})
    ok, detail = _check(folder, services, tmp_path)["generator"]
    assert ok is False and "run 2" in detail and "cases.csv" in detail


def test_the_checker_names_every_flaw_of_a_broken_folder(
    tmp_path: Path, services: RunServices
) -> None:
    folder = write_blueprint(tmp_path / "bp", sections=REQUIRED_SECTIONS[:-1])
    (folder / "expected.yaml").write_text("verdict: maybe\n")
    (folder / "data" / "cases.csv").write_bytes(CSV + b"\n")
    (folder / "generate.py").write_text("import requests\n")
    steps = _check(folder, services, tmp_path)
    assert steps["manifest"][0] is True
    assert steps["readme"] == (False, "README.md lacks `## ` sections: What a city must change")
    assert steps["expected"][0] is False and "verdict" in steps["expected"][1]
    assert steps["data"][0] is False and "differs" in steps["data"][1]
    assert steps["generator"] == (False, "imports beyond numpy and pandas: requests")
