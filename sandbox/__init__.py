"""AI Commons Sandbox: run municipal AI pilots in a hardened container, under governance.

    from sandbox import Settings, build_services, load_manifest, run_pilot

    outcome = run_pilot(Path("blueprints/benefits-eligibility-screening"),
                        build_services(Settings()))
    print(outcome.verdict.status, outcome.reports["html"])

Names load on first use, so `import sandbox` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.errors import SandboxError
    from sandbox.manifest import PilotManifest, load_manifest
    from sandbox.runs.pilot_run import RunOutcome, run_pilot
    from sandbox.runs.services import RunServices, build_services
    from sandbox.settings import Settings

__version__ = "0.1.0"

_LAZY = {
    "PilotManifest": "sandbox.manifest",
    "RunOutcome": "sandbox.runs.pilot_run",
    "RunServices": "sandbox.runs.services",
    "SandboxError": "sandbox.errors",
    "Settings": "sandbox.settings",
    "build_services": "sandbox.runs.services",
    "load_manifest": "sandbox.manifest",
    "run_pilot": "sandbox.runs.pilot_run",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
