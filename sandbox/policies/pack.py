"""Policy packs: governance rules as YAML, validated by pydantic, with a JSON Schema.

A pack names its rules; each rule has a `type` (the check it runs, see `sandbox.policies.rules`),
a stage, a severity, typed parameters, a plain-words rationale and framework references.

A pack may `extend` another (a built-in or city pack name, or a file beside or below it): it
inherits every rule of the base, may override an inherited rule by naming its `id` with only
the fields that change (params are merged key by key), and may add rules. Inherited rules
cannot be removed, and isolation and personal-data rules always block. Each loaded pack knows
its origin and who wrote each of its rules (`sandbox.policies.provenance`): a pack from a
pilot folder cannot take a built-in or city pack's id, and may only tighten the rules it
inherits from them (`sandbox.policies.tightening`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.digests import bytes_sha256
from sandbox.errors import PolicyPackError
from sandbox.manifest import describe_validation_error
from sandbox.policies.provenance import (
    AUTHORITY,
    Origin,
    PackSource,
    builtin_pack_dir,
    builtin_pack_names,
    city_pack_names,
    locate,
)
from sandbox.policies.rule import Rule
from sandbox.policies.tightening import weakenings
from sandbox.yaml_reader import read_yaml

__all__ = [
    "PolicyPack",
    "Rule",
    "builtin_pack_dir",
    "builtin_pack_names",
    "load_pack",
    "pack_json_schema",
    "pack_path",
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
    origin: Origin = Field(
        default="pilot", description="Where the pack comes from; set when loaded."
    )
    authors: dict[str, Origin] = Field(
        default_factory=dict,
        description="The origin of the pack that wrote each rule; set when loaded.",
    )
    files: dict[str, str] = Field(
        default_factory=dict, description="The file of this pack and of each it extends, by id."
    )


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy pack file."""
    schema = PolicyPack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "AI Commons Sandbox policy pack"
    for computed in ("sha256", "lineage", "origin", "authors", "files"):
        schema["properties"].pop(computed, None)
    # An extending pack overrides an inherited rule with its id and the fields that change.
    schema["$defs"]["Rule"]["required"] = ["id"]
    schema["$defs"]["Rule"]["description"] = (
        "One governance rule. Every field but `params`, `references` and `min_impact_level` is "
        "required, except in a rule that overrides an inherited one (same id)."
    )
    return schema


def pack_path(name_or_path: str, pilot_dir: Path | None) -> Path:
    """The file of a built-in or city pack name, or of a pack file in the pilot folder."""
    return _source(name_or_path, pilot_dir, field="governance.policy_packs").path


def load_pack(
    name_or_path: str, *, pilot_dir: Path | None = None, field: str = "governance.policy_packs"
) -> PolicyPack:
    """Load a built-in or city pack by name, or a pack file; resolve `extends`; check each rule.

    With `pilot_dir`, a file is looked for in the pilot folder only (`field` names the
    manifest field that lists it); without, it is the operator's own file.
    """
    return _load(_source(name_or_path, pilot_dir, field=field), chain=())


def _source(name: str, pilot_dir: Path | None, *, field: str) -> PackSource:
    from sandbox.manifest import MANIFEST_NAME

    named_in = pilot_dir / MANIFEST_NAME if pilot_dir is not None else None
    return locate(name, named_by=None, named_in=named_in, field=field)


def _load(source: PackSource, *, chain: tuple[Path, ...]) -> PolicyPack:
    path = source.path
    if path in chain:
        raise PolicyPackError(f"{path}: extends: the packs extend each other in a loop")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise PolicyPackError(f"{path}: extends: more than {MAX_EXTENDS_DEPTH} levels deep")
    raw = read_yaml(path, max_bytes=MAX_PACK_BYTES, error=PolicyPackError)
    if not isinstance(raw, dict):
        raise PolicyPackError(f"{path}: expected a mapping with id, version, description, rules")
    _check_id(source, raw.get("id"))
    base = _base(source, raw.get("extends"), chain=(*chain, path))
    document = dict(raw)
    authors: dict[str, Origin] = dict(base.authors) if base else {}
    if base is not None or "rules" in raw:
        document["rules"] = _rules(source, raw.get("rules", []), base, authors)
    digest = bytes_sha256(path.read_bytes() + (base.sha256.encode() if base else b""))
    computed = {
        "sha256": digest,
        "lineage": (base.id, *base.lineage) if base else (),
        "origin": source.origin,
        "authors": authors,
        "files": {**(base.files if base else {}), str(raw.get("id")): str(path)},
    }
    try:
        return PolicyPack.model_validate({**document, **computed})
    except ValidationError as exc:
        raise PolicyPackError(describe_validation_error(path, exc)) from None


def _check_id(source: PackSource, pack_id: Any) -> None:
    """A pilot's pack cannot pass itself off as a built-in or city pack."""
    if source.origin != "pilot" or not isinstance(pack_id, str):
        return
    kind = "built-in" if pack_id in builtin_pack_names() else "city"
    if pack_id in builtin_pack_names() or pack_id in city_pack_names():
        raise PolicyPackError(
            f"{source.path}: id: {pack_id!r} is the id of a {kind} pack, which always applies "
            "and cannot be replaced by a pack from the pilot folder; give this pack an id of "
            f"its own, with `extends: {pack_id}` to add rules to it or tighten them"
        )


def _base(source: PackSource, extends: Any, *, chain: tuple[Path, ...]) -> PolicyPack | None:
    if extends is None:
        return None
    if not isinstance(extends, str) or not extends.strip():
        raise PolicyPackError(
            f"{source.path}: extends: expected a built-in or city pack name or a pack file"
        )
    return _load(locate(extends, named_by=source, named_in=None, field="extends"), chain=chain)


def _rules(
    source: PackSource, raw_rules: Any, base: PolicyPack | None, authors: dict[str, Origin]
) -> tuple[Rule, ...]:
    """The base's rules with this pack's overrides applied in place, then its new rules.

    `authors` (the base's) gains the origin of each new rule; an override keeps its author.
    """
    from sandbox.policies.rules import check_rule_params

    path = source.path
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
            item = _override(inherited, item)
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
        if inherited is not None:
            _check_tightened(where, source, inherited, rule, authors[rule.id])
            if rule.type != inherited.type:
                raise PolicyPackError(
                    f"{where}: type: the inherited rule is a {inherited.type} rule; "
                    "give a rule of another type its own id"
                )
        else:
            authors[rule.id] = source.origin
        check_rule_params(rule, where=where)
        merged[rule.id] = rule
    return tuple(merged.values())


def _check_tightened(
    where: str, source: PackSource, inherited: Rule, rule: Rule, author: Origin
) -> None:
    """A pack may loosen only the rules of packs with no more authority than its own."""
    if AUTHORITY[source.origin] >= AUTHORITY[author]:
        return
    found = weakenings(inherited, rule)
    if found:
        problems = "; ".join(f"{field}: {what}" for field, what in found)
        raise PolicyPackError(
            f"{where}: {problems}. The rule comes from a {author} pack, which a pack from the "
            "pilot folder may only tighten (raise the severity, a stricter threshold, more "
            "checks); leave those fields out, or add a rule with an id of its own"
        )


def _override(inherited: Rule, item: dict[Any, Any]) -> dict[Any, Any]:
    """An inherited rule with the fields this pack changes; params are merged key by key."""
    params = item.get("params", {})
    if isinstance(params, dict):
        params = {**inherited.params, **params}
    return {**inherited.model_dump(), **item, "params": params}
