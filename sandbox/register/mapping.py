"""A run's report as an entry of the Dutch Algoritmeregister standard, every field sourced.

Each field of the standard (``definitions.py``) is filled, in order of preference, from a
``governance.transparency`` key the pilot declares (the field's own name first), from a
``report.json`` path, or from the UK ATRS record of the same report
(``sandbox.reports.documents.atrs``), whose fields carry their own report paths. A field
nothing fills is listed under ``gaps`` with the transparency key that would fill it; nothing
is invented. The ATRS record applies the report's small-cell suppression, so a message naming
a suppressed group never reaches an entry.

Two fields are derived by a stated rule:

- ``status``: governance phase ``prototype`` or ``mvp`` is ``In ontwikkeling``, ``scale`` is
  ``In gebruik``;
- ``publication_category``: impact level I is ``Overige algoritmes``, II to IV ``Impactvolle
  algoritmes``. ``Hoog-risico AI-systeem`` is a legal classification under the EU AI Act: only a
  declared ``governance.transparency.publication_category`` gives it.

Fields whose definition allows HTML get their plain text HTML-escaped, so a pilot's string
can never become markup in a register that renders those fields.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.register.definitions import definitions
from sandbox.reports.documents._facts import Fact, ReportFacts, as_text

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport

__all__ = ["MappedEntry", "map_report"]

_STATUS = {"prototype": "In ontwikkeling", "mvp": "In ontwikkeling", "scale": "In gebruik"}
_CATEGORY = {"I": "Overige algoritmes"} | dict.fromkeys(
    ("II", "III", "IV"), "Impactvolle algoritmes"
)


@dataclass(frozen=True)
class MappedEntry:
    """An entry in the standard's shape, where each value came from, and the gaps."""

    fields: dict[str, Any]
    sources: dict[str, list[str]]
    gaps: list[dict[str, str]]


class _Context:
    """The report's facts and its ATRS record's fields, looked up by name."""

    def __init__(self, report: AuditReport, atrs: dict[str, Any]) -> None:
        self.facts = ReportFacts(report)
        self.atrs: dict[str, dict[str, Any]] = {}
        for tier in ("tier_1", "tier_2"):
            for section in atrs[tier].values():
                self.atrs.update(section["fields"])

    def atrs_fact(self, *names: str) -> Fact | None:
        """The first ATRS field filled, with its sources marked as the ATRS field's."""
        for name in names:
            field = self.atrs.get(name)
            if field is not None:
                return Fact(field["value"], (f"atrs.{name}", *field["source"]))
        return None

    def joined(self, *parts: tuple[str, Fact | None]) -> Fact | None:
        """Labelled facts as one text ("Label: value."), or None when none is present."""
        present = [(label, f) for label, f in parts if f is not None]
        if not present:
            return None
        text = " ".join(
            f"{label}: {as_text(f.value)}".rstrip(".") + "." if label else as_text(f.value)
            for label, f in present
        )
        return Fact(text, tuple(s for _, f in present for s in f.sources))


def _status(c: _Context) -> Fact | None:
    phase = c.facts.get("governance.phase")
    status = _STATUS.get(str(phase.value)) if phase else None
    return Fact(status, phase.sources) if phase and status else None


def _category(c: _Context) -> Fact | None:
    level = c.facts.get("governance.impact_assessment.assessment.level")
    value = _CATEGORY.get(str(level.value)) if level else None
    return Fact(value, level.sources) if level and value else None


def _impact(c: _Context) -> Fact | None:
    level = c.facts.get("governance.impact_assessment.assessment.level")
    if level is None:
        return None
    score = c.facts.get("governance.impact_assessment.assessment.mitigated_score")
    of = c.facts.get("governance.impact_assessment.assessment.max_raw_score")
    text = f"Algorithmic impact questionnaire of the AI Commons Sandbox: impact level {level.value}"
    if score is not None and of is not None:
        text += f" (score after mitigations {score.value} of {of.value})"
    return Fact(text + ".", (*level.sources, *(score.sources if score else ())))


Derive = Callable[[_Context], Fact | None]

#: Field -> (extra transparency keys, report paths, ATRS fields, derivation), in that order.
_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], Derive | None]] = {
    "name": (("tool_name",), ("pilot.title", "pilot.name"), (), None),
    "description_short": (("tool_description", "description"), ("pilot.purpose",), (), None),
    "organization": (("organisation",), (), ("organisation",), None),
    "status": ((), (), (), _status),
    "contact_email": ((), ("pilot.contact",), ("contact_email",), None),
    "website": (("public_website",), (), ("website",), None),
    "publication_category": ((), (), (), _category),
    "goal": ((), ("pilot.purpose",), (), None),
    "proportionality": (
        (),
        (),
        (),
        lambda c: c.joined(
            ("Benefits", c.atrs_fact("benefit")),
            ("Alternatives considered", c.atrs_fact("alternatives_considered")),
        ),
    ),
    "human_intervention": (
        (),
        ("governance.human_oversight",),
        ("human_decisions_and_review",),
        None,
    ),
    "risks": ((), (), ("risks_and_mitigations",), None),
    "impacttoetsen": ((), (), (), _impact),
    "source_data": (
        (),
        (),
        (),
        lambda c: c.joined(
            ("", c.atrs_fact("data_description")),
            ("Quantities", c.atrs_fact("data_quantities")),
            ("Sensitive attributes", c.atrs_fact("sensitive_attributes")),
        ),
    ),
    "methods_and_models": (
        (),
        (),
        (),
        lambda c: c.joined(
            ("Model", c.atrs_fact("models")),
            ("Architecture", c.atrs_fact("system_architecture")),
            ("Performance", c.atrs_fact("model_performance")),
        ),
    ),
    "provider": (("third_party_involvement", "external_supplier"), (), (), None),
}


def _resolve(name: str, c: _Context) -> Fact | None:
    keys, paths, atrs_fields, derive = _RULES.get(name, ((), (), (), None))
    return (
        c.facts.transparency(name, *keys)
        or c.facts.get(*paths)
        or c.atrs_fact(*atrs_fields)
        or (derive(c) if derive else None)
    )


def _value(field_type: str, html_allowed: bool, value: Any) -> Any:
    if field_type == "array":  # a declared list: comma-separated text, or a list
        items = value if isinstance(value, list) else str(value).split(",")
        return [" ".join(str(i).split()) for i in items if str(i).strip()]
    text = as_text(value)
    return html.escape(text, quote=False) if html_allowed else text


def map_report(report: AuditReport, atrs: dict[str, Any], *, source_id: str) -> MappedEntry:
    """The entry of one report (``atrs``: its ATRS record) in the standard's shape."""
    c = _Context(report, atrs)
    fields: dict[str, Any] = {}
    sources: dict[str, list[str]] = {}
    gaps: list[dict[str, str]] = []
    for field in definitions().fields:
        if field.name in ("lang", "standard_version", "source_id"):
            continue
        fact = None if field.items else _resolve(field.name, c)
        if fact is None:
            gaps.append(
                {
                    "field": field.name,
                    "title": field.title,
                    "fill_with": f"governance.transparency.{field.name}",
                }
            )
            continue
        fields[field.name] = _value(field.type, bool(field.allowed_html_tags), fact.value)
        sources[field.name] = list(fact.sources)
    fields |= {"lang": "eng", "standard_version": definitions().version, "source_id": source_id}
    for name in ("lang", "standard_version", "source_id"):
        sources[name] = ["register"]
    return MappedEntry(fields, sources, gaps)
