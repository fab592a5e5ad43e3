"""Whether an uploaded pilot may be queued: unpacked, read as data, owned, checked.

The stored archive is unpacked into a private folder and read as `sandbox policy check`
reads a pilot folder: `load_manifest`, the packs `packs_for` chooses, the data as its kind
loads it, and the launch gate over the pre-run and runtime rules, with the hardening this
sandbox's settings give. `pilot.owner.city` must name the submitting principal's organisation
(`owner_of_submission`). The work is synchronous; at most `MAX_CHECKS` run at once, so a
burst of submissions cannot take every core from the server.

Messages go back to the caller, so the server's folders in them are replaced by names the
caller knows (`pilot.yaml`, not the path it was unpacked to).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sandbox.api.errors import ApiError
from sandbox.api.hosted.models import OutcomeOut, PreRunOut
from sandbox.api.redaction import HIDDEN
from sandbox.errors import AccessDenied, UserInputError
from sandbox.hosted.access import owner_of_submission
from sandbox.hosted.identity import Principal
from sandbox.hosted.intake import ArchiveLimits, StoredArchive
from sandbox.hosted.unpack import unpack_archive
from sandbox.manifest import PilotManifest, load_manifest
from sandbox.policies.engine import launch_gate
from sandbox.policies.hardening import effective_hardening
from sandbox.policies.rules import RuleContext
from sandbox.policies.selection import packs_for
from sandbox.policies.verdict import Verdict
from sandbox.runs.pilot_kinds import kind_of
from sandbox.runs.services import default_hardening
from sandbox.settings import Settings

__all__ = ["MAX_CHECKS", "Admission", "admit", "pre_run_out"]

MAX_CHECKS: Final = 2
_checks = threading.BoundedSemaphore(MAX_CHECKS)
_STATUS: Final = {"pass": "passed", "pass_with_warnings": "warned"}  # anything else: blocked


@dataclass(frozen=True, kw_only=True)
class Admission:
    """What the door decided about one submission."""

    organisation: str  # the submitting principal's, which pilot.owner.city names
    manifest: PilotManifest
    verdict: Verdict
    pre_run: PreRunOut

    @property
    def blocked(self) -> bool:
        """Whether a blocking rule keeps the pilot from being queued."""
        return self.pre_run.status == "blocked"


class _Scrub:
    """Replaces the server's folders in messages by what the caller sent."""

    def __init__(self, pilot_dir: Path, staging: Path, home: Path) -> None:
        pairs = [(pilot_dir, "."), (staging, "(upload)"), (home, HIDDEN)]
        self._pairs = [
            (str(spelling), shown)
            for path, shown in pairs
            for spelling in dict.fromkeys((path, path.resolve()))
        ]

    def __call__(self, text: str) -> str:
        for path, shown in self._pairs:
            text = text.replace(f"{path}/", "" if shown == "." else f"{shown}/")
            text = text.replace(path, shown)
        return text


def pre_run_out(
    verdict: Verdict, pack_ids: list[str], scrub: Callable[[str], str] | None = None
) -> PreRunOut:
    """The launch gate's verdict as the API shows it."""
    clean = scrub or (lambda text: text)
    return PreRunOut(
        status=_STATUS.get(verdict.status, "blocked"),  # type: ignore[arg-type]
        packs=pack_ids,
        outcomes=[
            OutcomeOut(
                rule_id=o.rule_id, outcome=o.outcome, severity=o.severity, message=clean(o.message)
            )
            for o in verdict.outcomes
        ],
    )


def admit(
    stored: StoredArchive,
    staging: Path,
    principal: Principal,
    settings: Settings,
    limits: ArchiveLimits,
) -> Admission:
    """Unpack `stored` under `staging` and judge it; ApiError 400 naming what to fix if the
    archive, its manifest, its owner or its data is refused."""
    pilot_dir = staging / "pilot"
    scrub = _Scrub(pilot_dir, staging, settings.home)
    with _checks:
        try:
            unpack_archive(stored, pilot_dir, limits)
            manifest = load_manifest(pilot_dir)
            organisation = owner_of_submission(principal, manifest.pilot.owner.city)
            packs = packs_for(manifest, pilot_dir)
            data = kind_of(manifest).load(pilot_dir, manifest)  # checked as a run checks it
            ctx = RuleContext(
                manifest=manifest,
                hardening=effective_hardening(packs, default_hardening(settings)),
                data=data,
            )
            verdict = launch_gate(packs, ctx)
        except AccessDenied:
            raise
        except UserInputError as exc:
            raise ApiError(400, scrub(str(exc))) from None
    return Admission(
        organisation=organisation,
        manifest=manifest,
        verdict=verdict,
        pre_run=pre_run_out(verdict, [p.id for p in packs], scrub),
    )
