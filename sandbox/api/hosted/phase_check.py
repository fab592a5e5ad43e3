"""The phase check at submission: a pilot may not claim a phase its register has not reached.

A manifest's `pilot.phase` selects the policy packs a run is judged by; on a hosted sandbox
the phase a pilot is in is the register's (`Reviews.phase`: the first phase until a reviewer
records a move, resting on a passed run and its sign-offs). A submission claiming a later
phase than that is refused at the door with a 400, before any job exists; an earlier or
equal phase is accepted (`scoping` counts as `prototype`).
"""

from __future__ import annotations

from sandbox.api.errors import ApiError
from sandbox.hosted.phases import PHASES, register_phase
from sandbox.hosted.reviews import Reviews
from sandbox.manifest import PilotManifest

__all__ = ["check_submitted_phase"]


def check_submitted_phase(reviews: Reviews, organisation: str, manifest: PilotManifest) -> None:
    """ApiError 400 naming `pilot.phase` and the fix when it is later than the register's."""
    pilot = manifest.pilot.name
    claimed = register_phase(manifest.pilot.phase)
    held = reviews.phase(organisation, pilot)
    if PHASES.index(claimed) <= PHASES.index(held):
        return
    raise ApiError(
        400,
        f"pilot.yaml: pilot.phase is {manifest.pilot.phase!r}, but {pilot} is in the {held} "
        f"phase on this sandbox's register; move the pilot first: a reviewer signs off one of "
        f"its passed {held} runs for the next phase and moves it (POST /api/v1/pilots/{pilot}"
        f"/phase, or the pilot's page), then submit again; or set pilot.phase to {held!r}",
    )
