"""Host-side attacks on governance: forged and weakened packs, paths out of the pilot folder,
and run files other local users could read.

The pack and path attacks run the real pipeline against in-memory edges: each must end in a
clear error (exit code 2), a `run.rejected` record and no container. The file-mode attacks run
a real pilot on the real engine and MLflow store, then look at every file under the home.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sandbox.audit.signing import Signer
from sandbox.audit.trail import AuditTrail, iter_records, verify_trail
from sandbox.errors import ManifestError, PolicyPackError, UserInputError
from sandbox.runs.pilot_run import run_pilot
from sandbox.runs.services import RunServices, build_services
from sandbox.runtime.base import ContainerSpec
from sandbox.runtime.fake import FakeRuntime
from sandbox.settings import Settings, prepare_home
from sandbox.tracking.memory import InMemoryTracker
from tests.pilots import manifest_dict, write_pilot

Launches = list[ContainerSpec]


@pytest.fixture
def launches() -> Launches:
    return []


@pytest.fixture
def services(tmp_path: Path, launches: Launches) -> RunServices:
    signer = Signer.load_or_create(tmp_path / "keys" / "key.pem")

    def handler(spec: ContainerSpec) -> dict[str, bytes]:
        launches.append(spec)
        score = pd.read_parquet(spec.input_dir / "score.parquet")
        out = pd.DataFrame(
            {"row_id": score["row_id"], "prediction": (score["income"] < 3000).astype(int)}
        )
        return {"predictions.csv": out.to_csv(index=False).encode()}

    return RunServices(
        runtime=FakeRuntime(handler),
        tracker=InMemoryTracker(),
        trail=AuditTrail(tmp_path / "audit" / "trail.jsonl", signer),
        image="runner:test",
        runs_dir=tmp_path / "runs",
        actor="tester@test",
        tracking_uri="memory://",
    )


def _refused(
    pilot: Path, services: RunServices, launches: Launches, error: type[UserInputError], match: str
) -> str:
    """The run is refused before anything starts, on the record; returns the message."""
    with pytest.raises(error, match=match) as info:
        run_pilot(pilot, services)
    assert info.value.exit_code == 2
    assert [r.kind for r in iter_records(services.trail.path)] == ["run.rejected"]
    assert verify_trail(services.trail.path, services.trail.signer.verifier()).ok
    assert launches == []
    assert not services.runs_dir.exists() or not any(services.runs_dir.iterdir())
    return str(info.value)


def _pilot(tmp_path: Path, packs: dict[str, Any], *, phase: str = "prototype", **data: Any) -> Path:
    """A pilot naming its own pack files (written under packs/), e-mails among its features."""
    m = manifest_dict()
    m["pilot"]["phase"] = phase
    m["data"].update(data)
    m["governance"] = {"policy_packs": [f"packs/{name}" for name in packs]}
    pilot = write_pilot(tmp_path / "pilot", manifest=m)
    (pilot / "packs").mkdir()
    for name, pack in packs.items():
        (pilot / "packs" / name).write_text(yaml.safe_dump(pack), encoding="utf-8")
    return pilot


def _extending(base: str, *rules: dict[str, Any], pack_id: str = "our-rules") -> dict[str, Any]:
    return {
        "id": pack_id,
        "version": "1.0.0",
        "description": "The pilot's own rules.",
        "extends": base,
        "rules": list(rules),
    }


INFO_ONLY = {
    "id": "baseline",
    "version": "9.9.9",
    "description": "Not the baseline.",
    "rules": [
        {
            "id": "placeholder",
            "type": "documentation_required",
            "title": "Nothing to see",
            "stage": "pre_run",
            "severity": "info",
            "rationale": "Replaces the baseline.",
            "params": {"fields": ["pilot.purpose"]},
        }
    ],
}


# -- class 1: a pilot can replace or weaken the mandatory packs -----------------------------


def test_a_pilot_pack_taking_the_baseline_id_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches
) -> None:
    # The original attack: residents' e-mails as a feature, the baseline replaced by one info rule.
    pilot = _pilot(tmp_path, {"baseline.yaml": INFO_ONLY}, features=["income", "email"])
    message = _refused(pilot, services, launches, PolicyPackError, "id of a built-in pack")
    assert "packs/baseline.yaml: id: 'baseline'" in message and "extends: baseline" in message


@pytest.mark.parametrize("pack_id", ["phase-mvp", "high-impact", "phase-prototype"])
def test_a_pilot_pack_taking_any_built_in_id_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches, pack_id: str
) -> None:
    pilot = _pilot(tmp_path, {"mine.yaml": {**INFO_ONLY, "id": pack_id}})
    _refused(pilot, services, launches, PolicyPackError, f"'{pack_id}' is the id of a built-in")


def test_a_pilot_pack_taking_a_city_pack_id_is_refused(
    tmp_path: Path,
    services: RunServices,
    launches: Launches,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _city_packs(tmp_path, monkeypatch)
    pilot = _pilot(tmp_path, {"mine.yaml": {**INFO_ONLY, "id": "testville"}})
    _refused(pilot, services, launches, PolicyPackError, "'testville' is the id of a city pack")


def test_city_packs_apply_to_every_pilot(
    tmp_path: Path, services: RunServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    _city_packs(tmp_path, monkeypatch)
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), services)  # it names no city pack
    assert outcome.verdict.status == "blocked"
    blocking = {o.rule_id for o in outcome.verdict.failures if o.severity == "block"}
    assert blocking == {"testville.image-allowlist"}


WEAKENINGS: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (base pack, override, the field the refusal names)
    "phase gate lowered to a warning": (
        "phase-mvp",
        {"id": "phase.documentation", "severity": "warn"},
        "severity: lowered from block to warn",
    ),
    "proxy gate lowered to info": (
        "baseline",
        {"id": "data.proxy-features", "severity": "info"},
        "severity: lowered from warn to info",
    ),
    "performance floor lowered": (
        "baseline",
        {"id": "performance.balanced-accuracy-floor", "params": {"threshold": 0.1}},
        "params.threshold: lowered (or removed) a floor",
    ),
    "fairness difference ceiling raised": (
        "baseline",
        {"id": "fairness.tpr-difference", "params": {"threshold": 0.9}},
        "params.threshold: raised (or removed) a ceiling",
    ),
    "four-fifths ratio lowered": (
        "baseline",
        {"id": "fairness.four-fifths", "params": {"min_ratio": 0.1}},
        "params.min_ratio",
    ),
    "PII patterns dropped": (
        "baseline",
        {"id": "data.no-pii-values", "params": {"patterns": ["national_id"]}},
        "params.patterns: dropped entries",
    ),
    "resource ceiling removed": (
        "baseline",
        {"id": "isolation.hardening", "params": {"max_timeout_s": None}},
        "params.max_timeout_s",
    ),
    "fairness groups narrowed": (
        "baseline",
        {"id": "fairness.tpr-difference", "params": {"attributes": ["sex"]}},
        "params.attributes: may not change",
    ),
    "rule removed by a change of type": (
        "baseline",
        {
            "id": "data.no-pii-values",
            "type": "documentation_required",
            "params": {"fields": ["pilot.purpose"]},
        },
        "type",
    ),
    "rule moved to another stage": (
        "baseline",
        {"id": "isolation.hardening", "stage": "runtime"},
        "stage: may not change",
    ),
    "rule skipped below an impact level": (
        "baseline",
        {"id": "data.proxy-features", "min_impact_level": "IV"},
        "min_impact_level: raised from every level to IV",
    ),
    "phase gate skipped from a higher level": (
        "phase-mvp",
        {"id": "phase.human-oversight", "min_impact_level": "IV"},
        "min_impact_level: raised from II to IV",
    ),
    "rule renamed to pass as another": (
        "baseline",
        {"id": "data.no-protected-features", "title": "Nothing to worry about"},
        "title: may not change",
    ),
}


@pytest.mark.parametrize("name", sorted(WEAKENINGS))
def test_weakening_an_inherited_rule_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches, name: str
) -> None:
    base, override, field = WEAKENINGS[name]
    phase = "mvp" if base == "phase-mvp" else "prototype"
    pilot = _pilot(tmp_path, {"ours.yaml": _extending(base, override)}, phase=phase)
    message = _refused(pilot, services, launches, PolicyPackError, "may only tighten")
    rule_id = override["id"]
    assert f"packs/ours.yaml: rules[0] ({rule_id}): " in message
    assert field in message


def test_weakening_through_a_chain_of_pilot_packs_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches
) -> None:
    tighter = _extending("baseline", {"id": "data.proxy-features", "severity": "block"})
    looser = _extending(
        "tighter.yaml", {"id": "data.proxy-features", "severity": "info"}, pack_id="looser"
    )
    pilot = _pilot(tmp_path, {"tighter.yaml": tighter, "looser.yaml": looser})
    (pilot / "pilot.yaml").write_text(
        (pilot / "pilot.yaml").read_text().replace("- packs/tighter.yaml\n", ""),
        encoding="utf-8",
    )
    _refused(pilot, services, launches, PolicyPackError, "severity: lowered from block to info")


def test_redefining_a_built_in_rule_without_extending_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches
) -> None:
    lookalike = {
        **INFO_ONLY,
        "id": "lookalike",
        "rules": [{**INFO_ONLY["rules"][0], "id": "data.no-pii-values"}],  # type: ignore[index]
    }
    pilot = _pilot(tmp_path, {"lookalike.yaml": lookalike})
    _refused(pilot, services, launches, PolicyPackError, "defined by both the baseline and")


def test_tightening_and_adding_rules_is_allowed_and_applied(
    tmp_path: Path, services: RunServices
) -> None:
    ours = _extending(
        "baseline",
        {"id": "fairness.four-fifths", "severity": "block", "params": {"min_ratio": 0.9}},
        {"id": "performance.balanced-accuracy-floor", "params": {"threshold": 0.99}},
        {"id": "data.proxy-features", "min_impact_level": None, "params": {"max_auc": 0.55}},
        {"id": "isolation.hardening", "params": {"max_memory_mb": 1024}},
        {
            "id": "ours.documentation",
            "type": "documentation_required",
            "title": "Our own documentation rule",
            "stage": "pre_run",
            "severity": "warn",
            "rationale": "The pilot adds a rule of its own.",
            "params": {"fields": ["pilot.purpose"]},
        },
    )
    outcome = run_pilot(_pilot(tmp_path, {"ours.yaml": ours}), services)
    rules = {o.rule_id: o for o in outcome.verdict.outcomes}
    assert rules["performance.balanced-accuracy-floor"].outcome == "failed"  # 0.99 is not met
    assert rules["fairness.four-fifths"].severity == "block"
    assert "ours.documentation" in rules
    assert outcome.verdict.status == "fail"


# -- class 2: paths that leave the pilot folder ---------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A host folder beside the pilot, with a pack and a data file a pilot must never reach."""
    folder = tmp_path / "host"
    folder.mkdir()
    (folder / "secret.yaml").write_text(yaml.safe_dump({**INFO_ONLY, "id": "secret"}))
    write_pilot(folder / "other")  # a data file and a model
    return folder


def _with_packs(tmp_path: Path, *packs: str) -> Path:
    m = manifest_dict(governance={"policy_packs": ["baseline", *packs]})
    return write_pilot(tmp_path / "pilot", manifest=m)


@pytest.mark.parametrize("kind", ["absolute", "parent"])
def test_pack_paths_out_of_the_folder_are_refused_alike(
    tmp_path: Path, services: RunServices, launches: Launches, outside: Path, kind: str
) -> None:
    messages = []
    for target in ("secret.yaml", "missing.yaml"):
        value = str(outside / target) if kind == "absolute" else f"../host/{target}"
        pilot = _with_packs(tmp_path, value)
        message = _refused(pilot, services, launches, ManifestError, "inside the pilot folder")
        messages.append(message.replace(value, "VALUE"))
        services.trail.path.unlink()
    assert messages[0] == messages[1]  # existing or not, the answer is the same
    assert not list((tmp_path / "runs").glob("*/policy-packs/*"))


def _link(pilot: Path, name: str, target: Path) -> None:
    (pilot / name).parent.mkdir(parents=True, exist_ok=True)
    if (pilot / name).exists() or (pilot / name).is_symlink():
        (pilot / name).unlink()
    os.symlink(target, pilot / name)


LINKED_FIELDS: dict[str, tuple[str, Callable[[dict[str, Any]], None], type[UserInputError]]] = {
    # name: (the link in the pilot folder, how the manifest names it, the error)
    "policy pack": (
        "packs/p.yaml",
        lambda m: m.update(governance={"policy_packs": ["packs/p.yaml"]}),
        ManifestError,
    ),
    "data source": (
        "data/linked.csv",
        lambda m: m["data"].update(sources=[{"path": "data/linked.csv"}]),
        ManifestError,
    ),
    "model entrypoint": (
        "code/model.py",
        lambda m: m["model"].update(entrypoint="code/model.py:build_model"),
        ManifestError,
    ),
    "code pattern under a linked folder": (
        "code",
        lambda m: m["model"].update(code=["code/*.py"]),
        ManifestError,
    ),
}


@pytest.mark.parametrize("name", sorted(LINKED_FIELDS))
def test_links_out_of_the_folder_are_refused_alike(
    tmp_path: Path, services: RunServices, launches: Launches, outside: Path, name: str
) -> None:
    link, edit, error = LINKED_FIELDS[name]
    m = manifest_dict()
    edit(m)
    pilot = write_pilot(tmp_path / "pilot", manifest=m)
    real = {"packs/p.yaml": "secret.yaml", "data/linked.csv": "other/data.csv"}
    real |= {"code/model.py": "other/model.py", "code": "other"}
    messages = []
    for target in (outside / real[link], outside / "does-not-exist"):
        _link(pilot, link, target)
        messages.append(_refused(pilot, services, launches, error, "no link that points outside"))
        services.trail.path.unlink()
    assert messages[0] == messages[1]


def test_a_relative_link_climbing_out_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches, outside: Path
) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "data.csv").unlink()
    os.symlink("../host/other/data.csv", pilot / "data.csv")
    _refused(pilot, services, launches, ManifestError, r"data.sources\[0\].path")


def test_a_pack_extending_a_file_outside_is_refused(
    tmp_path: Path, services: RunServices, launches: Launches, outside: Path
) -> None:
    for base in (str(outside / "secret.yaml"), "../../host/secret.yaml"):
        pilot = _pilot(tmp_path, {"ours.yaml": _extending(base)})
        _refused(pilot, services, launches, PolicyPackError, "extends: .* inside the pilot folder")
        services.trail.path.unlink()
        for path in sorted(pilot.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        pilot.rmdir()


def test_links_that_stay_inside_the_folder_are_followed(
    tmp_path: Path, services: RunServices
) -> None:
    pilot = write_pilot(tmp_path / "pilot")
    (pilot / "data").mkdir()
    (pilot / "data.csv").rename(pilot / "data" / "households.csv")
    os.symlink("data/households.csv", pilot / "data.csv")
    assert run_pilot(pilot, services).verdict.status in ("pass", "pass_with_warnings")


# -- class 7: files readable by other users -------------------------------------------------


def _open_to_others(home: Path, allowed: int) -> list[str]:
    """Every path under `home` (and home) with permission bits beyond `allowed`."""
    found = []
    for path in [home, *home.rglob("*")]:
        if path.is_symlink() or path.suffix == ".pub":  # public keys are meant to be read
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        limit = allowed if path.is_dir() else allowed & 0o666
        if mode & ~limit:
            found.append(f"{oct(mode)} {path.relative_to(home)}")
    return found


@pytest.fixture
def restore_umask() -> Any:
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.mark.docker
def test_nothing_a_real_run_writes_is_readable_by_others(
    tmp_path: Path, runner_image: str, restore_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.cli import _private_files

    os.umask(0o022)  # the usual login umask
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)  # a home an older version left open
    monkeypatch.setenv("SANDBOX_HOME", str(home))
    _private_files()  # what `sandbox run` does first
    services = build_services(Settings(home=home, image=runner_image))
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), services)
    assert outcome.report.runtime is not None
    assert outcome.report.runtime.container_state == "succeeded"
    assert (outcome.run_dir / "output" / "predictions.csv").is_file()
    assert (home / "mlflow").is_dir()
    assert _open_to_others(home, 0o700) == []


def test_the_home_is_closed_even_to_library_callers(
    tmp_path: Path, restore_umask: None, services: RunServices
) -> None:
    os.umask(0o022)  # a Python caller that never went through the command line
    home = tmp_path / "lib-home"
    home.mkdir(mode=0o755)
    prepare_home(Settings(home=home))
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), services)
    assert _open_to_others(outcome.run_dir, 0o700) == []


def test_shared_read_opens_runs_to_the_group_only(
    tmp_path: Path, services: RunServices, restore_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_SHARED_READ", "true")
    settings = Settings(home=tmp_path / "shared-home")
    prepare_home(settings)
    assert settings.umask == 0o027
    shared = RunServices(**{**services.__dict__, "shared_read": True})
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), shared)
    assert stat.S_IMODE(outcome.run_dir.stat().st_mode) == 0o750
    assert _open_to_others(outcome.run_dir, 0o750) == []
    assert stat.S_IMODE(settings.home.stat().st_mode) == 0o750


def test_a_run_folder_is_private_whatever_the_umask(
    tmp_path: Path, services: RunServices, restore_umask: None
) -> None:
    os.umask(0o000)
    outcome = run_pilot(write_pilot(tmp_path / "pilot"), services)
    assert _open_to_others(outcome.run_dir, 0o700) == []


def test_the_cli_sets_a_private_umask(restore_umask: None) -> None:
    from sandbox.cli import _private_files

    os.umask(0o022)
    _private_files()
    assert os.umask(0o022) == 0o077


def _city_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "city-packs"
    (folder / "testville").mkdir(parents=True)
    pack = {
        "id": "testville",
        "version": "1.0.0",
        "description": "Testville's own rules.",
        "rules": [
            {
                "id": "testville.image-allowlist",
                "type": "image_allowlist",
                "title": "Only the city's pinned runner image",
                "stage": "runtime",
                "severity": "block",
                "rationale": "The city reviews and pins the runner image.",
                "params": {"allowed_digests": ["sha256:" + "1" * 64]},
            }
        ],
    }
    (folder / "testville" / "pack.yaml").write_text(yaml.safe_dump(pack), encoding="utf-8")
    monkeypatch.setenv("SANDBOX_CITY_PACKS", str(folder))
    return folder
