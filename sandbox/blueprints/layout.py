"""The blueprint format, stated once: which files a blueprint holds, and its README's sections.

blueprints/<name>/
  README.md        the sections of REQUIRED_SECTIONS, as `## ` headings, in this order
  pilot.yaml       the manifest, complete and honest
  model.py         the model factory run by the harness inside the container
  generate.py      the seeded data generator: `python3 generate.py --out DIR [--seed N]`,
                   numpy and pandas only, deterministic byte for byte; it runs inside the
                   runner container, never on the host
  data/            the generated files and data/SHA256SUMS for the default seed
  expected.yaml    the blueprint test: the verdict and the findings a run must show
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXPECTED_NAME",
    "GENERATOR_NAME",
    "MODEL_NAME",
    "README_NAME",
    "REQUIRED_FILES",
    "REQUIRED_SECTIONS",
]

README_NAME: Final = "README.md"
GENERATOR_NAME: Final = "generate.py"
MODEL_NAME: Final = "model.py"
EXPECTED_NAME: Final = "expected.yaml"

#: The README's `## ` sections every blueprint has, in this order (others may come between).
REQUIRED_SECTIONS: Final[tuple[str, ...]] = (
    "Resident-facing problem",
    "Intended use and users",
    "Out of scope",
    "Data and how it was generated",
    "Disparity mechanism and what the sandbox should find",
    "Known risks",
    "What a city must change",
)

#: Every file a blueprint folder holds (relative paths).
REQUIRED_FILES: Final[tuple[str, ...]] = (
    README_NAME,
    "pilot.yaml",
    MODEL_NAME,
    GENERATOR_NAME,
    "data/SHA256SUMS",
    EXPECTED_NAME,
)
