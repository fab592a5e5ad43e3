"""`RunRecord`: everything one run knows about itself, carried from stage to stage.

A frozen dataclass: each stage returns `dataclasses.replace(record, ...)` with what it found,
so a later stage (the report, the tracker, the trail) reads a value where it was computed
instead of recomputing it or digging it out of a signed payload.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sandbox.tracking.base import PROVISIONAL_PREFIX
from sandbox.tracking.outbox import LOCAL_ID_PREFIX

if TYPE_CHECKING:
    from sandbox.audit.trail import TrailRecord
    from sandbox.manifest import PilotManifest
    from sandbox.policies.impact import ImpactLevel, ImpactResult
    from sandbox.policies.pack import PolicyPack
    from sandbox.policies.verdict import Verdict
    from sandbox.runtime.base import ContainerResult, Hardening

__all__ = ["RunMode", "RunRecord", "is_provisional", "new_run_id"]

#: container: a pilot's model ran; predictions-only: supplied predictions were assessed;
#: replay: a recorded run's container ran again.
RunMode = Literal["container", "predictions-only", "replay"]


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One run's state; fields stay None until the stage that finds them has run."""

    run_id: str
    run_dir: Path
    mode: RunMode
    name: str  # the pilot's name, or the audit's
    started_at: datetime
    pilot_dir: Path | None = None
    manifest: PilotManifest | None = None
    manifest_sha256: str | None = None
    packs: tuple[PolicyPack, ...] = ()
    impact: ImpactResult | None = None
    hardening: Hardening | None = None
    image: str | None = None
    image_digest: str | None = None
    data: Any = None  # sandbox.data.dataset.PilotData
    data_files: dict[str, str] = field(default_factory=dict)  # data file -> sha256
    columns: dict[str, Any] | None = None  # predictions-only: the columns the caller named
    crossing: Any = None  # sandbox.data.wall.WallCrossing: what crossed the container wall
    container: ContainerResult | None = None
    outputs_rejected: str | None = None  # why the container's outputs broke the contract
    evaluation: Any = None
    scored: Any = None  # sandbox.data.roles.ScoredFile: predictions for the city's current cases
    explanations: Any = None  # sandbox.runtime.outputs.Explanations
    verdict: Verdict | None = None
    tracker_key: str | None = None  # the id the tracker answered (a placeholder when queued)
    started_record: TrailRecord | None = None  # the record that proves what ran
    notes: tuple[str, ...] = ()

    @property
    def impact_level(self) -> ImpactLevel | None:
        """The impact level the questionnaire scores to (None when unanswered)."""
        return self.impact.level if self.impact is not None else None

    @property
    def tracking_pending(self) -> bool:
        """The tracker was down: the tracked run waits in the outbox, with no id yet."""
        return self.tracker_key is not None and self.tracker_key.startswith(LOCAL_ID_PREFIX)

    @property
    def tracker_run_id(self) -> str | None:
        """The tracker's own run id; None while tracking is pending, provisional or off."""
        key = self.tracker_key
        return None if self.tracking_pending or is_provisional(key) else key


def is_provisional(tracker_key: str | None) -> bool:
    """Whether the tracker has yet to answer the run's own id (`Tracker.resolve` waits for it)."""
    return tracker_key is not None and tracker_key.startswith(PROVISIONAL_PREFIX)
