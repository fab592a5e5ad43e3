"""Blueprints: reference pilots a city starts from, and the tools that keep them honest.

layout.py    the blueprint format in one place: its files and the README's required sections
readme.py    a README's `## ` sections, in order, and what is missing from them
expected.py  expected.yaml (the verdict and findings a run must show) and the comparison
catalog.py   where blueprints are found (the checkout's blueprints/, an installed copy)
copying.py   `sandbox blueprint init`: a new pilot folder from a blueprint, data verified
scaffold.py  `sandbox init`: a minimal pilot for a team with its own data, fields to complete
checker.py   `sandbox blueprint check`: format, data digests, generator determinism (in the
             runner container, twice) and the blueprint test (a real run against expected.yaml)
"""

from sandbox.blueprints.catalog import Blueprint, blueprint_roots, find_blueprint, list_blueprints
from sandbox.blueprints.expected import Expectation, ExpectedFinding, compare, load_expectation
from sandbox.blueprints.layout import REQUIRED_FILES, REQUIRED_SECTIONS

__all__ = [
    "REQUIRED_FILES",
    "REQUIRED_SECTIONS",
    "Blueprint",
    "Expectation",
    "ExpectedFinding",
    "blueprint_roots",
    "compare",
    "find_blueprint",
    "list_blueprints",
    "load_expectation",
]
