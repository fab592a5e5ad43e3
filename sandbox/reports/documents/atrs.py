"""An algorithmic transparency record with the sections of the UK ATRS, built from a report.

The record follows the structure of the UK Algorithmic Transparency Recording Standard
(version 3.0): a tier 1 overview for the public, and the five tier 2 sections (owner and
responsibility; description and rationale; decision-making process; technical specification
and data; risks, mitigations and impact assessments). Every field is either filled from the
report, with the ``report.json`` path it came from, or listed under ``gaps`` with the
``governance.transparency`` key that would fill it. Nothing is invented.

A pilot fills fields the rest of the manifest cannot by declaring them in
``governance.transparency`` under the field's name (``senior_responsible_owner``,
``required_training``, ...); a few common aliases are accepted (``tool_name``, ``benefits``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.reports.disclosure import publishable
from sandbox.reports.documents import assistant
from sandbox.reports.documents._facts import Fact, ReportFacts, as_text

if TYPE_CHECKING:
    from sandbox.reports.model import AuditReport

__all__ = ["ATRS_FIELDS", "ATRS_SECTIONS", "AtrsField", "atrs_json", "atrs_record"]

STANDARD = "UK Algorithmic Transparency Recording Standard (ATRS)"
STANDARD_VERSION = "3.0"

#: Section key -> (tier, the standard's section title).
ATRS_SECTIONS: dict[str, tuple[str, str]] = {
    "overview": ("tier_1", "Tier 1 - Overview"),
    "owner_and_responsibility": ("tier_2", "Tier 2 - Owner and Responsibility"),
    "description_and_rationale": ("tier_2", "Tier 2 - Description and Rationale"),
    "decision_making_process": ("tier_2", "Tier 2 - Decision-making Process"),
    "technical_specification_and_data": ("tier_2", "Tier 2 - Technical Specification and Data"),
    "risks_mitigations_and_impact_assessments": (
        "tier_2",
        "Tier 2 - Risks, Mitigations and Impact Assessments",
    ),
}

Derive = Callable[[ReportFacts], Fact | None]


@dataclass(frozen=True)
class AtrsField:
    """One field of the standard and where its value may come from, in order of preference."""

    section: str
    name: str
    title: str
    #: ``governance.transparency`` keys that fill the field (the field's own name first).
    keys: tuple[str, ...]
    #: Report paths used when no transparency key is declared.
    paths: tuple[str, ...] = ()
    #: A value composed from several report facts, used last.
    derive: Derive | None = None


def _organisation(facts: ReportFacts) -> Fact | None:
    city, department = facts.get("pilot.city"), facts.get("pilot.department")
    if city is None:
        return None
    if department is None:
        return city
    return Fact(f"{city.value}, {department.value}", (*city.sources, *department.sources))


def _provided_information(facts: ReportFacts) -> Fact | None:
    meaning = facts.get("data.roles.positive_meaning")
    task = facts.get("pilot.task")
    if meaning is None or task is None:
        return None
    text = (
        f"One prediction per case ({as_text(task.value).replace('_', ' ')}); a positive "
        f"prediction means: {as_text(meaning.value)}."
    )
    return Fact(text, (*task.sources, *meaning.sources))


def _system_architecture(facts: ReportFacts) -> Fact | None:
    image = facts.get("runtime.image")
    if image is None:
        return None
    digest = facts.get("runtime.image_digest")
    network = facts.get("runtime.hardening.network")
    parts = [f"The model runs in a container from image {image.value}"]
    sources = list(image.sources)
    if digest is not None:
        parts.append(f"(digest {digest.value})")
        sources += digest.sources
    if network is not None:
        parts.append(f"with network access '{network.value}'")
        sources += network.sources
    text = " ".join(parts) + "; it sees only the declared feature columns."
    return Fact(text, tuple(sources))


def _models(facts: ReportFacts) -> Fact | None:
    entry = facts.get("model.entrypoint")
    if entry is None:
        return None
    sources = list(entry.sources)
    text = f"Model factory {entry.value}"
    params = facts.get("model.params")
    if params is not None:
        text += f", parameters {json.dumps(params.value, sort_keys=True)}"
        sources += params.sources
    seed = facts.get("model.seed")
    if seed is not None:
        text += f", seed {seed.value}"
        sources += seed.sources
    return Fact(text + ".", tuple(sources))


def _model_performance(facts: ReportFacts) -> Fact | None:
    perf = facts.get("evaluation.performance")
    rows = facts.get("evaluation.rows")
    if perf is None or rows is None:
        return None
    names = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "recall": "recall"}
    names |= {"precision": "precision", "roc_auc": "ROC AUC"}
    shown = [f"{label} {perf.value[k]:.3f}" for k, label in names.items() if k in perf.value]
    text = (
        f"On {rows.value:,} held-out evaluation rows: {', '.join(shown)}. Group fairness "
        "metrics with confidence intervals are in the model card and the report."
    )
    return Fact(text, (*perf.sources, *rows.sources))


def _source_data_name(facts: ReportFacts) -> Fact | None:
    sources = facts.get("data.sources")
    if sources is None:
        return None
    return Fact([s["path"] for s in sources.value], sources.sources)


def _data_quantities(facts: ReportFacts) -> Fact | None:
    sources = facts.get("data.sources")
    if sources is None:
        return None
    rows = [s.get("rows") for s in sources.value]
    cols = [len(s.get("columns") or ()) for s in sources.value]
    if any(r is None for r in rows):
        return None
    text = f"{sum(rows):,} rows, {max(cols)} columns"
    paths = list(sources.sources)
    split = facts.get("data.split")
    if split is not None:
        text += (
            f"; {split.value['train_rows']:,} training rows and "
            f"{split.value['eval_rows']:,} evaluation rows (seeded split, seed "
            f"{split.value['seed']})"
        )
        paths += split.sources
        fit, held = split.value.get("fit_rows"), split.value.get("importance_rows")
        if fit is not None:
            text += f"; the model was fitted on {fit:,} of the training rows" + (
                f", {held:,} being held back to measure feature importance"
                if held
                else " (all of them)"
            )
    return Fact(text + ".", tuple(paths))


def _sensitive_attributes(facts: ReportFacts) -> Fact | None:
    sensitive = facts.get("data.roles.sensitive")
    if sensitive is None:
        return None
    text = (
        f"{', '.join(sensitive.value)}: used only to assess the model's results by group; "
        "never sent to the model."
    )
    return Fact(text, sensitive.sources)


def _completeness(facts: ReportFacts) -> Fact | None:
    missing = facts.get("data.missing_by_column")
    if missing is None:
        return None
    gaps = {c: n for c, n in missing.value.items() if n}
    if gaps:
        listed = ", ".join(f"{c} ({n:,} empty)" for c, n in gaps.items())
        text = f"Empty values in {listed}; every other used column is complete."
    else:
        text = "No empty values in any used column."
    return Fact(text + " Group representation: see the datasheet.", missing.sources)


def _risks_and_mitigations(facts: ReportFacts) -> Fact | None:
    risks, mitigations = facts.transparency("risks"), facts.transparency("mitigations")
    if risks is None or mitigations is None:
        return risks or mitigations
    text = f"Risks: {as_text(risks.value)} Mitigations: {as_text(mitigations.value)}"
    return Fact(text, (*risks.sources, *mitigations.sources))


def _field(
    section: str,
    name: str,
    title: str,
    *aliases: str,
    paths: tuple[str, ...] = (),
    derive: Derive | None = None,
) -> AtrsField:
    return AtrsField(section, name, title, (name, *aliases), paths, derive)


_T1, _OWN, _DESC = "overview", "owner_and_responsibility", "description_and_rationale"
_PROC, _TECH = "decision_making_process", "technical_specification_and_data"
_RISK = "risks_mitigations_and_impact_assessments"

#: The fields of the record, in the standard's order.
ATRS_FIELDS: tuple[AtrsField, ...] = (
    _field(_T1, "name", "Name", "tool_name", paths=("pilot.title", "pilot.name")),
    _field(_T1, "description", "Description", "tool_description", paths=("pilot.purpose",)),
    _field(_T1, "website", "Website", "public_website"),
    _field(_T1, "contact_email", "Contact email", paths=("pilot.contact",)),
    _field(_OWN, "organisation", "Organisation", derive=_organisation),
    _field(_OWN, "team", "Team"),
    _field(_OWN, "senior_responsible_owner", "Senior responsible owner"),
    _field(_OWN, "third_party_involvement", "Third party involvement", "external_supplier"),
    _field(_DESC, "detailed_description", "Detailed description", paths=("pilot.purpose",)),
    _field(_DESC, "scope", "Scope", paths=("governance.out_of_scope_uses",)),
    _field(_DESC, "benefit", "Benefit", "benefits"),
    _field(_DESC, "previous_process", "Previous process"),
    _field(_DESC, "alternatives_considered", "Alternatives considered"),
    _field(_PROC, "process_integration", "Process integration", "decision_making_process"),
    _field(
        _PROC,
        "provided_information",
        "Provided information",
        derive=assistant.by_task(_provided_information, assistant.provided_information),
    ),
    _field(_PROC, "frequency_and_scale_of_usage", "Frequency and scale of usage"),
    _field(
        _PROC,
        "human_decisions_and_review",
        "Human decisions and review",
        paths=("governance.human_oversight",),
    ),
    _field(_PROC, "required_training", "Required training"),
    _field(_PROC, "appeals_and_review", "Appeals and review"),
    _field(_TECH, "capability", "Capability", derive=assistant.capability),
    _field(
        _TECH,
        "system_architecture",
        "System architecture",
        derive=assistant.by_task(_system_architecture, assistant.system_architecture),
    ),
    _field(_TECH, "phase", "Phase", paths=("governance.phase",)),
    _field(_TECH, "maintenance", "Maintenance"),
    _field(_TECH, "models", "Models", derive=_models),
    _field(
        _TECH,
        "model_performance",
        "Model performance",
        derive=assistant.by_task(_model_performance, assistant.model_performance),
    ),
    _field(_TECH, "source_data_name", "Source data name", derive=_source_data_name),
    _field(_TECH, "data_description", "Data description", "training_data"),
    _field(
        _TECH,
        "data_quantities",
        "Data quantities",
        derive=assistant.by_task(_data_quantities, assistant.data_quantities),
    ),
    _field(_TECH, "sensitive_attributes", "Sensitive attributes", derive=_sensitive_attributes),
    _field(
        _TECH,
        "data_completeness_and_representativeness",
        "Data completeness and representativeness",
        derive=_completeness,
    ),
    _field(_TECH, "source_data_url", "Source data URL"),
    _field(_TECH, "data_collection", "Data collection"),
    _field(_TECH, "data_cleaning", "Data cleaning"),
    _field(_TECH, "data_sharing_agreements", "Data sharing agreements"),
    _field(
        _TECH,
        "data_access_and_storage",
        "Data access and storage",
        paths=("governance.data_retention",),
    ),
    _field(
        _RISK, "impact_assessment", "Impact assessment", paths=("governance.impact_assessment",)
    ),
    _field(_RISK, "risks_and_mitigations", "Risks and mitigations", derive=_risks_and_mitigations),
)

#: Transparency keys some field reads (its own name, aliases, and parts of a composed value).
_CONSUMED = {key for f in ATRS_FIELDS for key in f.keys} | {"risks", "mitigations"}
_LANGUAGE_SUFFIXES = ("_en", "_es", "_fr")


def _resolve(field: AtrsField, facts: ReportFacts) -> Fact | None:
    return (
        facts.transparency(*field.keys)
        or facts.get(*field.paths)
        or (field.derive(facts) if field.derive else None)
    )


def _run_evidence(report: AuditReport) -> dict[str, Any]:
    """What the run itself found: the verdict, why it failed, and each rule that did not hold.

    The record is meant for publication: a message that names a suppressed group is withheld.
    """
    return {
        "verdict": report.verdict.status,
        "policy_pack": report.verdict.pack,
        "failure": report.failure.reason if report.failure else None,
        "rules_not_held": [
            {
                "rule_id": o.rule_id,
                "severity": o.severity,
                "message": o.message
                if publishable(report, o.message)
                else "withheld: it names a group too small to publish",
            }
            for o in report.verdict.failures
        ],
        "source": "verdict",
    }


def atrs_record(report: AuditReport) -> dict[str, Any]:
    """The transparency record: filled fields with their sources, and the gaps."""
    facts = ReportFacts(report)
    sections: dict[str, dict[str, Any]] = {}
    for key, (tier, title) in ATRS_SECTIONS.items():
        sections.setdefault(tier, {})[key] = {"title": title, "fields": {}}
    gaps = []
    for field in ATRS_FIELDS:
        tier, section_title = ATRS_SECTIONS[field.section]
        fact = _resolve(field, facts)
        if fact is None:
            gaps.append(
                {
                    "tier": tier,
                    "section": field.section,
                    "section_title": section_title,
                    "field": field.name,
                    "title": field.title,
                    "fill_with": f"governance.transparency.{field.name}",
                }
            )
            continue
        sections[tier][field.section]["fields"][field.name] = {
            "title": field.title,
            "value": fact.value,
            "source": list(fact.sources),
        }
    declared = report.governance.transparency if report.governance else {}
    unmapped = {
        k: v
        for k, v in declared.items()
        if k not in _CONSUMED and not k.endswith(_LANGUAGE_SUFFIXES)
    }
    return {
        "standard": STANDARD,
        "standard_version": STANDARD_VERSION,
        "generated_from": {
            "report": "report.json",
            "schema_version": report.schema_version,
            "run_id": report.run.run_id,
            "pilot": report.pilot.name,
            "pilot_version": report.pilot.version,
            "date": (report.run.finished_at or report.run.started_at).date().isoformat(),
            "manifest_sha256": report.provenance.manifest_sha256,
        },
        "tier_1": sections["tier_1"],
        "tier_2": sections["tier_2"],
        "gaps": gaps,
        "other_declared_fields": {
            k: {"value": v, "source": [f"governance.transparency.{k}"]} for k, v in unmapped.items()
        },
        "run_evidence": _run_evidence(report),
    }


def atrs_json(record: dict[str, Any]) -> str:
    """The record as stable JSON text (declared order kept, indented, newline-terminated)."""
    return json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
