"""Which packs govern a pilot: the mandatory ones first, then those the pilot names.

    always                      baseline, and every city pack (`SANDBOX_CITY_PACKS`)
    phase scoping / prototype   phase-prototype
    phase mvp                   phase-mvp
    phase scale                 phase-scale
    impact level III or IV      high-impact

The mandatory packs are loaded first and keep their ids: a pilot's own pack can never take
the place of one (`sandbox.policies.provenance`). A pack another selected pack extends is
dropped, since its rules are inherited there: unchanged or tightened when the extending pack
comes from the pilot folder (`sandbox.policies.tightening`), as the operator chose when it is
a city pack extending `baseline`.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.errors import PolicyPackError
from sandbox.manifest import PilotManifest
from sandbox.policies.impact import ImpactLevel, assess, level_rank
from sandbox.policies.pack import PolicyPack, load_pack
from sandbox.policies.provenance import city_pack_names

__all__ = ["PHASE_PACKS", "auto_pack_names", "pack_files", "packs_for"]

PHASE_PACKS = {
    "scoping": "phase-prototype",
    "prototype": "phase-prototype",
    "mvp": "phase-mvp",
    "scale": "phase-scale",
}
HIGH_IMPACT_FROM: ImpactLevel = "III"


def auto_pack_names(manifest: PilotManifest) -> list[str]:
    """The mandatory packs: baseline, the phase's, high-impact from level III, the city's."""
    names = ["baseline", PHASE_PACKS[manifest.pilot.phase]]
    level = assess(manifest.governance.impact_assessment).level
    if level is not None and level_rank(level) >= level_rank(HIGH_IMPACT_FROM):
        names.append("high-impact")
    return [*names, *city_pack_names()]


def packs_for(manifest: PilotManifest, pilot_dir: Path | None) -> list[PolicyPack]:
    """The mandatory packs and the manifest's own, each rule id once."""
    loaded: dict[str, PolicyPack] = {}
    for name in auto_pack_names(manifest):  # fixed first: nothing a pilot names replaces them
        pack = load_pack(name)
        loaded.setdefault(pack.id, pack)
    for index, name in enumerate(manifest.governance.policy_packs):
        field = f"governance.policy_packs[{index}]"
        pack = load_pack(name, pilot_dir=pilot_dir, field=field)
        loaded.setdefault(pack.id, pack)
    inherited = {ancestor for pack in loaded.values() for ancestor in pack.lineage}
    packs = [pack for pack in loaded.values() if pack.id not in inherited]
    owner: dict[str, str] = {}
    for pack in packs:
        for rule in pack.rules:
            if rule.id in owner:
                raise PolicyPackError(
                    f"rule {rule.id!r} is defined by both the {owner[rule.id]} and the {pack.id} "
                    "pack; extend one from the other, or rename the rule"
                )
            owner[rule.id] = pack.id
    return packs


def pack_files(manifest: PilotManifest, pilot_dir: Path | None) -> dict[str, Path]:
    """Every pack file the pilot's packs are built from, `extends` chains included, by pack id.

    Kept with each run, so an evidence bundle holds the exact rules that judged it.
    """
    files: dict[str, Path] = {}
    for pack in packs_for(manifest, pilot_dir):
        files |= {pack_id: Path(path) for pack_id, path in pack.files.items()}
    return files
