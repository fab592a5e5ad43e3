"""`sandbox blueprint init`: a new pilot folder from a blueprint, its shipped data verified.

The copy runs as it is (`sandbox run DIR`) on the blueprint's synthetic data, and its README
starts with a note saying what a team changes first to make it its own pilot.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sandbox.blueprints.catalog import read_readme
from sandbox.blueprints.layout import EXPECTED_NAME, README_NAME
from sandbox.data.checksums import check_shipped_data
from sandbox.errors import UserInputError
from sandbox.manifest import load_manifest

__all__ = ["CopiedBlueprint", "copy_blueprint", "start_note"]

_SKIPPED = ("__pycache__", "*.pyc", ".*")


@dataclass(frozen=True, kw_only=True)
class CopiedBlueprint:
    """What `copy_blueprint` made."""

    blueprint: str
    path: Path
    files: int
    verified: tuple[str, ...]  # data files whose SHA-256 matched data/SHA256SUMS


def start_note(blueprint: str, target: Path) -> str:
    """The README section a copy starts with: what to change first."""
    day = datetime.now(UTC).date().isoformat()
    return f"""## Start here: what to change first

This folder was made from the blueprint `{blueprint}` by `sandbox blueprint init` ({day}).
It runs as it is, on the blueprint's synthetic data: `sandbox run {target}`. To make it your
own pilot, change first:

1. **`pilot.yaml`, `pilot`:** the name, owner, contact, purpose, problem, intended users and
   success indicators describe the blueprint's example city; write your own.
2. **Your data:** put your extract under `data/`, point `data.sources` at it and name your
   columns in `data.label`, `features`, `sensitive`, `pii` and `proxies`. Then delete
   `data/SHA256SUMS` or write a new one (`cd data && sha256sum FILE... > SHA256SUMS`): while it
   is there, a run refuses data that differ from it. `generate.py` only makes the synthetic
   data; you can delete it too.
3. **`governance`:** answer the impact assessment for your own context (`sandbox assess`),
   and describe your own human oversight, data retention and transparency record.
4. **`model.py`:** it must read the columns your `data.features` names.
5. **`{EXPECTED_NAME}`:** the blueprint's test on its shipped data; delete it once the data
   are yours.
6. Read "What a city must change" below, and check the folder with `sandbox policy check`
   before every run.

"""


def copy_blueprint(source: Path, target: Path) -> CopiedBlueprint:
    """Copy the blueprint folder `source` into `target` (new or empty), data verified twice.

    The shipped data are checked against data/SHA256SUMS before copying and again in the copy;
    a UserInputError says what is wrong (a link, a non-empty target, data that differ).
    """
    manifest = load_manifest(source)
    check_shipped_data(source, manifest)  # never copy data that differ from what was published
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserInputError(f"{target}: exists and is not an empty folder; name a new folder")
    for folder, dirs, files in os.walk(source):
        for name in [*dirs, *files]:
            if (Path(folder) / name).is_symlink():
                raise UserInputError(
                    f"{Path(folder) / name}: a blueprint holds files, never links; "
                    "copy the file itself into the blueprint"
                )
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns(*_SKIPPED), dirs_exist_ok=target.exists()
    )
    verified = check_shipped_data(target, load_manifest(target)) or {}
    readme = read_readme(target)
    title, _, rest = readme.partition("\n") if readme.startswith("# ") else ("", "", readme)
    note = start_note(source.name, target)
    text = f"{title}\n\n{note}{rest.lstrip()}" if title else f"{note}{rest}"
    (target / README_NAME).write_text(text, encoding="utf-8")
    count = sum(len(files) for _, _, files in os.walk(target))
    return CopiedBlueprint(
        blueprint=source.name, path=target, files=count, verified=tuple(sorted(verified))
    )
