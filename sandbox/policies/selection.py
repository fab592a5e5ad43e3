"""Which packs govern a pilot: the ones it names, plus those its phase and impact level select.

    always                      baseline
    phase scoping / prototype   phase-prototype
    phase mvp                   phase-mvp
    phase scale                 phase-scale
    impact level III or IV      high-impact

A pack another selected pack extends is dropped (its rules are inherited there, possibly
tightened), so a city pack extending `baseline` replaces it.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.errors import PolicyPackError
from sandbox.manifest import PilotManifest, read_yaml
from sandbox.policies.impact import ImpactLevel, assess, level_rank
from sandbox.policies.pack import MAX_PACK_BYTES, PolicyPack, load_pack, pack_path

__all__ = ["PHASE_PACKS", "auto_pack_names", "pack_files", "packs_for"]

PHASE_PACKS = {
    "scoping": "phase-prototype",
    "prototype": "phase-prototype",
    "mvp": "phase-mvp",
    "scale": "phase-scale",
}
HIGH_IMPACT_FROM: ImpactLevel = "III"


def auto_pack_names(manifest: PilotManifest) -> list[str]:
    """The built-in packs selected by the pilot's phase and impact level."""
    names = ["baseline", PHASE_PACKS[manifest.pilot.phase]]
    level = assess(manifest.governance.impact_assessment).level
    if level is not None and level_rank(level) >= level_rank(HIGH_IMPACT_FROM):
        names.append("high-impact")
    return names


def packs_for(manifest: PilotManifest, pilot_dir: Path | None) -> list[PolicyPack]:
    """The manifest's packs and the automatic ones, each rule id once."""
    names = dict.fromkeys([*manifest.governance.policy_packs, *auto_pack_names(manifest)])
    loaded: dict[str, PolicyPack] = {}
    for name in names:
        pack = load_pack(name, pilot_dir=pilot_dir)
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
    pending = [
        (name, pilot_dir)
        for name in [*manifest.governance.policy_packs, *auto_pack_names(manifest)]
    ]
    while pending:
        name, base_dir = pending.pop()
        path = pack_path(name, base_dir)
        raw = read_yaml(path, max_bytes=MAX_PACK_BYTES, error=PolicyPackError)
        if not isinstance(raw, dict) or str(raw.get("id")) in files:
            continue
        files[str(raw["id"])] = path
        if isinstance(raw.get("extends"), str):
            pending.append((raw["extends"], path.parent))
    return files
