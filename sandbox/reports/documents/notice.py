"""Plain-language notices for residents, in English, Spanish and French.

A notice says what the tool does, what data it uses, how a person can ask for a human to
review their case, and whom to contact. The fixed sentences are written (not machine
translated) in each language. Free text from the manifest is quoted as declared: when the
pilot declares a translation (``governance.transparency.<key>_es`` or ``_fr``, e.g.
``appeals_and_review_es``) that is used; otherwise the English original is quoted and marked
as such. When the manifest gives no route to human review, the notice says so as a gap
instead of inventing one. For an assistant pilot the notice says plainly that residents are
talking to software, that it can be wrong, how to reach a person and which languages it serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sandbox.reports.documents._facts import Fact, ReportFacts
from sandbox.reports.documents.assistant import details_of, is_assistant, language_names

if TYPE_CHECKING:
    from jinja2 import Environment

    from sandbox.reports.model import AuditReport

__all__ = ["LANGUAGES", "Language", "notice_context", "render_notice"]

Language = Literal["en", "es", "fr"]
LANGUAGES: tuple[Language, ...] = ("en", "es", "fr")
#: The manifest's phases (a fixed vocabulary), in each language.
PHASES: dict[Language, dict[str, str]] = {
    "en": {
        "scoping": "scoping",
        "prototype": "prototype",
        "mvp": "minimum viable product",
        "scale": "scaling up",
    },
    "es": {
        "scoping": "definición",
        "prototype": "prototipo",
        "mvp": "producto mínimo viable",
        "scale": "ampliación",
    },
    "fr": {
        "scoping": "cadrage",
        "prototype": "prototype",
        "mvp": "produit minimum viable",
        "scale": "déploiement à grande échelle",
    },
}


def _quoted(facts: ReportFacts, fact: Fact | None, language: Language) -> dict[str, Any] | None:
    local, in_language = facts.translated(fact, language)
    if local is None:
        return None
    return {"text": " ".join(str(local.value).split()), "local": in_language}


def _phase(report: AuditReport, language: Language) -> dict[str, Any] | None:
    phase = report.governance.phase if report.governance else None
    if not phase:
        return None
    known = PHASES[language].get(phase)
    return {"text": known or phase, "local": known is not None or language == "en"}


def notice_context(report: AuditReport, language: Language) -> dict[str, Any]:
    """What a notice in ``language`` shows; ``None`` values are gaps the notice names."""
    facts = ReportFacts(report)
    roles = report.data.roles
    failures = report.verdict.failures
    details = details_of(report)
    name = facts.transparency("tool_name", "name") or facts.get("pilot.title", "pilot.name")
    return {
        "report": report,
        "name": _quoted(facts, name, language),
        "organisation": ", ".join(
            x for x in (report.pilot.city, report.pilot.department or "") if x
        ),
        "description": _quoted(
            facts, facts.transparency("tool_description") or facts.get("pilot.purpose"), language
        ),
        "positive_meaning": _quoted(facts, facts.get("data.roles.positive_meaning"), language),
        "human_role": _quoted(
            facts,
            facts.transparency("human_decisions_and_review")
            or facts.get("governance.human_oversight"),
            language,
        ),
        "review_route": _quoted(
            facts, facts.transparency("appeals_and_review", "human_review"), language
        ),
        "retention": _quoted(facts, facts.get("governance.data_retention"), language),
        "features": [f.replace("_", " ") for f in roles.features] if roles else [],
        "sensitive": [s.replace("_", " ") for s in roles.sensitive] if roles else [],
        "pii": [p.replace("_", " ") for p in roles.pii] if roles else [],
        "contact": facts.transparency("contact_email") or facts.get("pilot.contact"),
        "website": facts.transparency("website", "public_website"),
        "phase": _phase(report, language),
        "status": report.verdict.status,
        "fairness_flagged": any(o.rule_id.startswith("fairness.") for o in failures),
        "date": (report.run.finished_at or report.run.started_at).date().isoformat(),
        # an assistant: residents talk to software, in these languages
        "assistant": is_assistant(report),
        "languages": language_names(details.languages, language) if details else [],
    }


def render_notice(report: AuditReport, language: Language, env: Environment) -> str:
    """The residents' notice in one language, as Markdown."""
    return env.get_template(f"notice.{language}.md.j2").render(notice_context(report, language))
