"""Documentation rules: the manifest says what the reports publish; the model explains itself."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from sandbox.manifest import PilotManifest
from sandbox.policies.rules.base import Finding, Params, RuleContext

__all__ = ["DocumentationParams", "ExplanationsParams", "check_documentation", "check_explanations"]


class _Leaf(BaseModel):
    """Stands for a field with no sub-fields while walking the manifest's models."""


def _lookup(document: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


class DocumentationParams(Params):
    """Manifest fields that must be filled in (dotted paths), and how long a text must be."""

    fields: tuple[str, ...] = Field(min_length=1)
    min_chars: int = Field(default=1, ge=1)

    @field_validator("fields")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not _known_path(path):
                raise ValueError(
                    f"{path!r} is not a manifest field (see `sandbox schema pilot`), "
                    "e.g. governance.human_oversight or governance.transparency.risks"
                )
        return value


def _known_path(path: str) -> bool:
    model: type[BaseModel] | None = PilotManifest
    for part in path.split("."):
        if not part:
            return False
        if model is None:  # below a free mapping: any key
            continue
        info = model.model_fields.get(part)
        if info is None:
            return False
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif getattr(annotation, "__origin__", None) is dict:
            model = None
        else:
            model = _Leaf
    return True


class ExplanationsParams(Params):
    """Whether every model feature must have an importance."""

    all_features: bool = True


def check_documentation(p: DocumentationParams, ctx: RuleContext) -> Finding:
    """Every listed manifest field is filled in (text at least `min_chars` long)."""
    document = ctx.manifest.model_dump(mode="json")
    missing, short = [], []
    for path in p.fields:
        value = _lookup(document, path)
        if value in (None, "", [], {}):
            missing.append(path)
        elif isinstance(value, str) and len(value.strip()) < p.min_chars:
            short.append(path)
    evidence = {
        "fields": list(p.fields),
        "missing": missing,
        "too_short": short,
        "min_chars": p.min_chars,
        "value": len(missing) + len(short),
        "threshold": 0,
    }
    if missing or short:
        parts = []
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if short:
            parts.append(f"shorter than {p.min_chars} characters: {', '.join(short)}")
        return Finding("failed", f"pilot.yaml is incomplete ({'; '.join(parts)})", evidence)
    return Finding(
        "passed", f"all {len(p.fields)} required manifest fields are filled in", evidence
    )


def check_explanations(p: ExplanationsParams, ctx: RuleContext) -> Finding:
    """The model wrote explanations.json with an importance for (every) feature."""
    features = list(ctx.manifest.data.features)
    if getattr(ctx.evaluation, "assistant", None) is not None:
        return Finding(
            "not_applicable",
            "an assistant is judged answer by answer (the report shows failed answers), not by "
            "feature importances",
            {"features": features},
        )
    if ctx.explanations is None:
        return Finding(
            "failed",
            "the run produced no explanations.json (feature importances); the built-in harness "
            "writes it, a custom entrypoint must too",
            {"features": features, "explained": []},
        )
    explained = [f.feature for f in ctx.explanations.features]
    missing = [f for f in features if f not in explained] if p.all_features else []
    evidence = {
        "method": ctx.explanations.method,
        "explained": explained,
        "missing": missing,
        "value": len(explained),
    }
    if missing or not explained:
        return Finding(
            "failed", f"no importance reported for: {', '.join(missing) or 'any feature'}", evidence
        )
    return Finding(
        "passed",
        f"{ctx.explanations.method} importances for {len(explained)} features",
        evidence,
    )
