"""Policy packs: governance rules as YAML, validated by pydantic, with a JSON Schema.

A pack names its rules; each rule has a `type` (the check it runs, see `sandbox.policies.rules`),
a stage, a severity, typed parameters, a plain-words rationale and framework references.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.digests import bytes_sha256
from sandbox.errors import PolicyPackError
from sandbox.manifest import describe_validation_error, read_yaml
from sandbox.policies.verdict import Severity, Stage

__all__ = ["PolicyPack", "Rule", "builtin_pack_names", "load_pack", "pack_json_schema"]

MAX_PACK_BYTES = 1_000_000


class Rule(BaseModel):
    """One governance rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,80}$")
    type: str
    title: str = Field(min_length=1, max_length=200)
    stage: Stage
    severity: Severity
    params: dict[str, Any] = Field(default_factory=dict)
    rationale: str = Field(min_length=1, max_length=4000)
    references: tuple[str, ...] = ()


class PolicyPack(BaseModel):
    """A named, versioned set of rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)
    sha256: str = Field(default="", description="Digest of the pack file; set when loaded.")


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy pack file."""
    return PolicyPack.model_json_schema()


def builtin_pack_names() -> list[str]:
    """Names of the packs shipped with the sandbox."""
    root = resources.files("sandbox.policies") / "packs"
    return sorted(p.name for p in root.iterdir() if (p / "pack.yaml").is_file())


def _pack_path(name_or_path: str, pilot_dir: Path | None) -> Path:
    if name_or_path in builtin_pack_names():
        return Path(str(resources.files("sandbox.policies") / "packs" / name_or_path / "pack.yaml"))
    candidate = Path(name_or_path)
    if not candidate.is_absolute() and pilot_dir is not None:
        candidate = pilot_dir / candidate
    if candidate.is_file():
        return candidate
    raise PolicyPackError(
        f"policy pack {name_or_path!r} is neither built in ({', '.join(builtin_pack_names())}) "
        "nor a pack file; fix governance.policy_packs in pilot.yaml"
    )


def load_pack(name_or_path: str, *, pilot_dir: Path | None = None) -> PolicyPack:
    """Load a built-in pack by name, or a pack file; check every rule's type and parameters."""
    from sandbox.policies.rules import check_rule_params

    path = _pack_path(name_or_path, pilot_dir)
    raw = read_yaml(path, max_bytes=MAX_PACK_BYTES, error=PolicyPackError)
    if not isinstance(raw, dict):
        raise PolicyPackError(f"{path}: expected a mapping with id, version, description, rules")
    try:
        pack = PolicyPack.model_validate({**raw, "sha256": bytes_sha256(path.read_bytes())})
    except ValidationError as exc:
        raise PolicyPackError(describe_validation_error(path, exc)) from None
    seen: set[str] = set()
    for index, rule in enumerate(pack.rules):
        if rule.id in seen:
            raise PolicyPackError(f"{path}: rules[{index}].id: {rule.id!r} is used twice")
        seen.add(rule.id)
        check_rule_params(rule, where=f"{path}: rules[{index}] ({rule.id})")
    return pack
