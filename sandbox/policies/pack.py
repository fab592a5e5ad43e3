"""Policy packs: governance rules as YAML, validated by pydantic, with a JSON Schema.

A pack names its rules; each rule has a `type` (the check it runs, see `sandbox.policies.rules`),
a stage, a severity, typed parameters, a plain-words rationale and framework references.

A pack may `extend` another (a built-in name, or a file relative to the pack): it inherits
every rule of the base, may override an inherited rule by naming its `id` with only the fields
that change (params are merged key by key), and may add rules. Inherited rules cannot be
removed, and isolation and personal-data rules always block.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.digests import bytes_sha256
from sandbox.errors import PolicyPackError
from sandbox.manifest import describe_validation_error, read_yaml
from sandbox.policies.rule import Rule

__all__ = [
    "PolicyPack",
    "Rule",
    "builtin_pack_dir",
    "builtin_pack_names",
    "load_pack",
    "pack_json_schema",
]

MAX_PACK_BYTES = 1_000_000
MAX_EXTENDS_DEPTH = 8


class PolicyPack(BaseModel):
    """A named, versioned set of rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str = Field(min_length=1)
    extends: str | None = Field(
        default=None, description="A built-in pack name or a pack file (relative to this one)."
    )
    rules: tuple[Rule, ...] = Field(min_length=1)
    sha256: str = Field(
        default="", description="Digest of the pack file and those it extends; set when loaded."
    )
    lineage: tuple[str, ...] = Field(
        default=(), description="Ids of the packs it extends, nearest first; set when loaded."
    )


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy pack file."""
    schema = PolicyPack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "AI Commons Sandbox policy pack"
    for computed in ("sha256", "lineage"):
        schema["properties"].pop(computed, None)
    # An extending pack overrides an inherited rule with its id and the fields that change.
    schema["$defs"]["Rule"]["required"] = ["id"]
    schema["$defs"]["Rule"]["description"] = (
        "One governance rule. Every field but `params`, `references` and `min_impact_level` is "
        "required, except in a rule that overrides an inherited one (same id)."
    )
    return schema


def builtin_pack_dir(name: str) -> Path:
    """The folder of a built-in pack (its pack.yaml, samples and suite)."""
    return Path(str(resources.files("sandbox.policies") / "packs" / name))


def builtin_pack_names() -> list[str]:
    """Names of the packs shipped with the sandbox."""
    root = resources.files("sandbox.policies") / "packs"
    return sorted(p.name for p in root.iterdir() if (p / "pack.yaml").is_file())


def pack_path(name_or_path: str, base_dir: Path | None) -> Path:
    """The file of a built-in pack name, or of a pack file relative to `base_dir`."""
    if name_or_path in builtin_pack_names():
        return builtin_pack_dir(name_or_path) / "pack.yaml"
    candidate = Path(name_or_path)
    if not candidate.is_absolute() and base_dir is not None:
        candidate = base_dir / candidate
    if candidate.is_file():
        return candidate
    raise PolicyPackError(
        f"policy pack {name_or_path!r} is neither built in ({', '.join(builtin_pack_names())}) "
        "nor a pack file; fix governance.policy_packs in pilot.yaml"
    )


def load_pack(name_or_path: str, *, pilot_dir: Path | None = None) -> PolicyPack:
    """Load a built-in pack by name, or a pack file; resolve `extends`; check every rule."""
    return _load(pack_path(name_or_path, pilot_dir), chain=())


def _load(path: Path, *, chain: tuple[Path, ...]) -> PolicyPack:
    resolved = path.resolve()
    if resolved in chain:
        raise PolicyPackError(f"{path}: extends: the packs extend each other in a loop")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise PolicyPackError(f"{path}: extends: more than {MAX_EXTENDS_DEPTH} levels deep")
    raw = read_yaml(path, max_bytes=MAX_PACK_BYTES, error=PolicyPackError)
    if not isinstance(raw, dict):
        raise PolicyPackError(f"{path}: expected a mapping with id, version, description, rules")
    base = _base(path, raw.get("extends"), chain=(*chain, resolved))
    document = dict(raw)
    if base is not None or "rules" in raw:
        document["rules"] = _rules(path, raw.get("rules", []), base)
    digest = bytes_sha256(path.read_bytes() + (base.sha256.encode() if base else b""))
    lineage = (base.id, *base.lineage) if base else ()
    try:
        return PolicyPack.model_validate({**document, "sha256": digest, "lineage": lineage})
    except ValidationError as exc:
        raise PolicyPackError(describe_validation_error(path, exc)) from None


def _base(path: Path, extends: Any, *, chain: tuple[Path, ...]) -> PolicyPack | None:
    if extends is None:
        return None
    if not isinstance(extends, str) or not extends.strip():
        raise PolicyPackError(f"{path}: extends: expected a built-in pack name or a pack file")
    try:
        base_path = pack_path(extends, path.parent)
    except PolicyPackError as exc:
        raise PolicyPackError(f"{path}: extends: {exc}") from None
    return _load(base_path, chain=chain)


def _rules(path: Path, raw_rules: Any, base: PolicyPack | None) -> tuple[Rule, ...]:
    """The base's rules with this pack's overrides applied in place, then its new rules."""
    from sandbox.policies.rules import check_rule_params

    if not isinstance(raw_rules, list):
        raise PolicyPackError(f"{path}: rules: expected a list of rules")
    merged: dict[str, Rule] = {rule.id: rule for rule in (base.rules if base else ())}
    own: set[str] = set()
    for index, item in enumerate(raw_rules):
        where = f"{path}: rules[{index}]"
        if not isinstance(item, dict):
            raise PolicyPackError(
                f"{where}: expected a mapping with id, type, title, stage, severity, rationale"
            )
        rule_id = item.get("id")
        inherited = merged.get(rule_id) if isinstance(rule_id, str) else None
        if inherited is not None:
            item = _override(where, inherited, item)
        where = f"{where} ({rule_id})" if isinstance(rule_id, str) else where
        try:
            rule = Rule.model_validate(item)
        except ValidationError as exc:
            lines = describe_validation_error(path, exc).splitlines()
            raise PolicyPackError(
                "\n".join(where + line.removeprefix(str(path)) for line in lines)
            ) from None
        if rule.id in own:
            raise PolicyPackError(f"{where}: id: {rule.id!r} is used twice")
        own.add(rule.id)
        check_rule_params(rule, where=where)
        merged[rule.id] = rule
    return tuple(merged.values())


def _override(where: str, inherited: Rule, item: dict[Any, Any]) -> dict[Any, Any]:
    """An inherited rule with the fields this pack changes; params are merged key by key."""
    if "type" in item and item["type"] != inherited.type:
        raise PolicyPackError(
            f"{where} ({inherited.id}): type: the inherited rule is a {inherited.type} rule; "
            "give a rule of another type its own id"
        )
    params = item.get("params", {})
    if isinstance(params, dict):
        params = {**inherited.params, **params}
    return {**inherited.model_dump(), **item, "params": params}
