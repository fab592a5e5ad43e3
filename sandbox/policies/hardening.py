"""The hardening a run gets: the sandbox's defaults, tightened by every pack's ceilings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sandbox.policies.pack import PolicyPack
from sandbox.policies.rules.isolation import HardeningParams
from sandbox.runtime.base import Hardening

__all__ = ["effective_hardening"]


def effective_hardening(packs: Sequence[PolicyPack], base: Hardening) -> Hardening:
    """`base` with each `hardening_required` ceiling applied; a pack can only tighten it.

    Isolation (network none, read-only root, no capabilities, non-root) is not a parameter at
    all, so no pack can loosen it; resource limits become the smaller of the two.
    """
    granted = base
    for pack in packs:
        for rule in pack.rules:
            if rule.type != "hardening_required":
                continue
            p = HardeningParams.model_validate(rule.params)
            granted = replace(
                granted,
                memory_mb=min(granted.memory_mb, p.max_memory_mb or granted.memory_mb),
                cpus=min(granted.cpus, p.max_cpus or granted.cpus),
                timeout_s=min(granted.timeout_s, p.max_timeout_s or granted.timeout_s),
                pids_limit=min(granted.pids_limit, p.max_pids or granted.pids_limit),
            )
    return granted
