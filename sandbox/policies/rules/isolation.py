"""Isolation rules: the container is fenced in, within the pack's ceilings, from a known image."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["HardeningParams", "ImageAllowlistParams", "check_hardening", "check_image"]


class HardeningParams(Params):
    """Ceilings a pack imposes on top of the built-in hardening (applied, never loosened)."""

    max_memory_mb: int | None = Field(default=None, ge=64)
    max_cpus: float | None = Field(default=None, gt=0)
    max_timeout_s: float | None = Field(default=None, gt=0)
    max_pids: int | None = Field(default=None, ge=16)


class ImageAllowlistParams(Params):
    """The runner images a pilot may run in, by immutable digest."""

    allowed_digests: tuple[str, ...] = Field(min_length=1)

    @field_validator("allowed_digests")
    @classmethod
    def _digests(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for digest in value:
            hex_part = digest.removeprefix("sha256:")
            if (
                not digest.startswith("sha256:")
                or len(hex_part) != 64
                or not all(c in "0123456789abcdef" for c in hex_part)
            ):
                raise ValueError(f"{digest!r} is not a digest like sha256:<64 lower-case hex>")
        return value


def check_hardening(p: HardeningParams, ctx: RuleContext) -> Finding:
    """Network none, read-only root, no capabilities, non-root, and within the ceilings."""
    h = ctx.hardening
    evidence: dict[str, Any] = {
        "network": h.network,
        "read_only_root": h.read_only_root,
        "cap_drop_all": h.cap_drop_all,
        "no_new_privileges": h.no_new_privileges,
        "user": h.user,
        "memory_mb": h.memory_mb,
        "cpus": h.cpus,
        "pids_limit": h.pids_limit,
        "timeout_s": h.timeout_s,
    }
    problems = []
    if h.network != "none":
        problems.append("network is not 'none'")
    if not (h.read_only_root and h.cap_drop_all and h.no_new_privileges):
        problems.append("read-only root, dropped capabilities and no-new-privileges are required")
    if h.user.split(":", 1)[0] in {"", "0", "root"}:
        problems.append("the container user must not be root")
    ceilings = [
        ("memory_mb", h.memory_mb, p.max_memory_mb),
        ("cpus", h.cpus, p.max_cpus),
        ("timeout_s", h.timeout_s, p.max_timeout_s),
        ("pids_limit", h.pids_limit, p.max_pids),
    ]
    evidence["ceilings"] = {name: ceiling for name, _, ceiling in ceilings if ceiling is not None}
    for name, value, ceiling in ceilings:
        if ceiling is not None and value > ceiling:
            problems.append(f"{name} {value} exceeds the pack's ceiling {ceiling}")
    if problems:
        return Finding("failed", "; ".join(problems), evidence)
    return Finding(
        "passed", "the container is fully isolated and within the pack's limits", evidence
    )


def check_image(p: ImageAllowlistParams, ctx: RuleContext) -> Finding:
    """The runner image's digest is on the pack's allow-list."""
    evidence = {"image_digest": ctx.image_digest, "allowed_digests": list(p.allowed_digests)}
    if ctx.image_digest is None:
        return Finding("not_applicable", "no runner image digest is known yet", evidence)
    if ctx.image_digest in p.allowed_digests:
        return Finding("passed", f"runner image {ctx.image_digest[:19]}… is allowed", evidence)
    return Finding(
        "failed",
        f"runner image {ctx.image_digest} is not on the pack's allow-list; build the pinned "
        "image (`sandbox image build`) or add its digest to the pack",
        evidence,
    )
