"""`sandbox blueprint check`: is a blueprint folder complete, reproducible and still right?

The steps, each reported with its evidence:

1. files       every file of the format is there (`layout.REQUIRED_FILES`)
2. manifest    pilot.yaml loads and validates
3. readme      README.md has the required `## ` sections, in order
4. expected    expected.yaml is well-formed
5. data        the shipped data match data/SHA256SUMS
6. generator   generate.py imports only numpy, pandas and the standard library, and two runs of
               it INSIDE the runner container (network none, read-only, the sandbox's hardening,
               through the `Runtime`: never on the host) write exactly the files of SHA256SUMS
7. run         the blueprint runs end to end and its report.json holds what expected.yaml says
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sandbox.blueprints.catalog import read_readme
from sandbox.blueprints.expected import Expectation, compare, load_expectation
from sandbox.blueprints.layout import EXPECTED_NAME, GENERATOR_NAME, REQUIRED_FILES
from sandbox.blueprints.readme import missing_sections, readme_sections
from sandbox.data.checksums import DATA_FOLDER, check_shipped_data, read_checksums
from sandbox.errors import SandboxError
from sandbox.manifest import PilotManifest, load_manifest
from sandbox.runs.services import RunServices
from sandbox.runtime.base import ContainerSpec

__all__ = ["CheckStep", "check_blueprint", "generator_imports", "run_generator"]

GENERATOR_TIMEOUT_S = 600.0
ALLOWED_IMPORTS = frozenset({"numpy", "pandas"})
_NOT_STAGED = ("__pycache__", "*.pyc", ".*", DATA_FOLDER)


@dataclass(frozen=True, kw_only=True)
class CheckStep:
    """One step of the check: passed (True), failed (False) or skipped (None), and why."""

    name: str
    ok: bool | None
    detail: str


def generator_imports(source: str, *, local: set[str]) -> list[str]:
    """Top-level modules generate.py imports beyond numpy, pandas, the standard library and
    the blueprint's own modules (`local`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    allowed = ALLOWED_IMPORTS | set(sys.stdlib_module_names) | local | {"__future__"}
    return sorted(found - allowed)


def run_generator(
    folder: Path, services: RunServices, workdir: Path, *, attempt: int
) -> dict[str, str]:
    """Run `generate.py --out /output` once in the runner container; file name -> hex digest.

    Only the blueprint's code (no data/) is mounted, read-only, at /pilot; the container has no
    network and the sandbox's hardening. SandboxError when it fails or its outputs are refused.
    """
    stage = workdir / f"generator-{attempt}"
    shutil.copytree(folder, stage / "pilot", ignore=shutil.ignore_patterns(*_NOT_STAGED))
    (stage / "input").mkdir()
    spec = ContainerSpec(
        run_id=f"blueprint-check-{folder.name}-{attempt}",
        image=services.image,
        command=("python3", f"/pilot/{GENERATOR_NAME}", "--out", "/output"),
        input_dir=stage / "input",
        pilot_dir=stage / "pilot",
        output_dir=stage / "output",
        hardening=replace(
            services.hardening, timeout_s=min(services.hardening.timeout_s, GENERATOR_TIMEOUT_S)
        ),
    )
    result = services.runtime.run(spec)
    if result.state != "succeeded":
        tail = result.stderr_tail.strip()[-1500:]
        raise SandboxError(
            f"{GENERATOR_NAME} ended {result.state} (exit code {result.exit_code}) in the "
            f"runner container{': ' + tail if tail else ''}"
        )
    return {name: digest.removeprefix("sha256:") for name, digest in result.output_files.items()}


def _files(folder: Path) -> CheckStep:
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        return CheckStep(name="files", ok=False, detail=f"missing: {', '.join(missing)}")
    return CheckStep(name="files", ok=True, detail=", ".join(REQUIRED_FILES))


def _readme(folder: Path) -> CheckStep:
    titles = list(readme_sections(read_readme(folder)))
    missing, ordered = missing_sections(titles)
    if missing:
        return CheckStep(
            name="readme", ok=False, detail=f"README.md lacks `## ` sections: {', '.join(missing)}"
        )
    if not ordered:
        return CheckStep(name="readme", ok=False, detail="the required sections are out of order")
    return CheckStep(name="readme", ok=True, detail="every required section, in order")


def _generator(
    folder: Path, services: RunServices | None, workdir: Path, recorded: dict[str, str] | None
) -> CheckStep:
    name = "generator"
    path = folder / GENERATOR_NAME
    if not path.is_file() or path.is_symlink():
        return CheckStep(name=name, ok=False, detail=f"no {GENERATOR_NAME} in the folder")
    try:
        source = path.read_text(encoding="utf-8")
        extra = generator_imports(source, local={p.stem for p in folder.glob("*.py")})
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        return CheckStep(name=name, ok=False, detail=f"{GENERATOR_NAME} does not parse: {exc}")
    if extra:
        return CheckStep(
            name=name, ok=False, detail=f"imports beyond numpy and pandas: {', '.join(extra)}"
        )
    if services is None:
        return CheckStep(name=name, ok=None, detail="imports fine; not run (--skip-generator)")
    if recorded is None:
        return CheckStep(name=name, ok=False, detail="no data/SHA256SUMS to compare with")
    runs = [run_generator(folder, services, workdir, attempt=i) for i in (1, 2)]
    for attempt, written in enumerate(runs, start=1):
        if written != recorded:
            differ = sorted(
                n for n in set(written) | set(recorded) if written.get(n) != recorded.get(n)
            )
            return CheckStep(
                name=name,
                ok=False,
                detail=f"run {attempt} in the runner container differs from SHA256SUMS on: "
                f"{', '.join(differ)}",
            )
    return CheckStep(
        name=name,
        ok=True,
        detail=f"two runs in the runner container wrote the {len(recorded)} file(s) of "
        "SHA256SUMS byte for byte",
    )


def _run(folder: Path, services: RunServices, workdir: Path, expectation: Expectation) -> CheckStep:
    from sandbox.runs.pilot_run import run_pilot

    out = workdir / "reports"
    outcome = run_pilot(folder, services, out_dir=out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    problems = compare(expectation, report)
    if problems:
        return CheckStep(name="run", ok=False, detail=f"{outcome.run_id}: {'; '.join(problems)}")
    return CheckStep(
        name="run",
        ok=True,
        detail=f"{outcome.run_id}: verdict {expectation.verdict} and "
        f"{len(expectation.findings)} expected finding(s) hold",
    )


def check_blueprint(
    folder: Path,
    *,
    services: RunServices | None,
    workdir: Path,
    generator: bool = True,
    run: bool = True,
    progress: Callable[[CheckStep], None] = lambda step: None,
) -> list[CheckStep]:
    """Check a blueprint folder step by step; container steps need `services`."""
    steps: list[CheckStep] = []

    def record(step: CheckStep) -> CheckStep:
        steps.append(step)
        progress(step)
        return step

    def attempt(name: str, action: Callable[[], CheckStep]) -> CheckStep:
        try:
            return record(action())
        except SandboxError as exc:
            return record(CheckStep(name=name, ok=False, detail=str(exc)))

    record(_files(folder))
    manifest: list[PilotManifest] = []
    expectation: list[Expectation] = []

    def load() -> CheckStep:
        manifest.append(load_manifest(folder))
        return CheckStep(name="manifest", ok=True, detail=f"{manifest[0].task.type} pilot")

    def expected() -> CheckStep:
        expectation.append(load_expectation(folder / EXPECTED_NAME))
        e = expectation[0]
        return CheckStep(
            name="expected", ok=True, detail=f"{e.verdict}, {len(e.findings)} finding(s)"
        )

    def data() -> CheckStep:
        sums = check_shipped_data(folder, manifest[0]) if manifest else None
        if sums is None:
            return CheckStep(name="data", ok=False, detail="no data/SHA256SUMS (or no manifest)")
        return CheckStep(name="data", ok=True, detail=f"{len(sums)} file(s) match SHA256SUMS")

    attempt("manifest", load)
    record(_readme(folder))
    attempt("expected", expected)
    attempt("data", data)
    recorded: dict[str, str] | None = None
    try:
        recorded = read_checksums(folder)
    except SandboxError:
        recorded = None
    attempt(
        "generator",
        lambda: _generator(folder, services if generator else None, workdir, recorded),
    )
    if not run or services is None:
        record(CheckStep(name="run", ok=None, detail="not run (--skip-run)"))
    elif not manifest or not expectation:
        record(CheckStep(name="run", ok=None, detail="not run: fix the manifest and expected"))
    else:
        attempt("run", lambda: _run(folder, services, workdir, expectation[0]))
    return steps
