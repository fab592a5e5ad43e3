"""A service's page in one language, and the facts a correct answer about it states.

`render_page` writes the Markdown page (title, introduction, one `## ` section per fact);
`service_facts` gives, per question intent, the facts with their accepted variants, always
from the *current* values: an outdated page still shows an old value, which is what makes its
answers wrong.
"""

from __future__ import annotations

import re

from services import Service
from wording import (
    AND,
    DAYS,
    DOCS,
    DOCUMENTS,
    FEE,
    FEE_LABEL,
    FREE,
    HEADINGS,
    HOURS,
    LINE_311,
    OFFICE,
    OFFICES,
    PHONE,
    UNITS,
    UPDATED,
    count_value,
    date_value,
    eastern_text,
    localise,
    money,
    time_variants,
)

CURRENT_DATE = "2024-09-02"
KEYWORDS = {"en": "Also searched as", "es": "También se busca como", "ar": "يُبحث عنه أيضًا باسم"}
Fact = tuple[str, ...]


def spanish_contractions(text: str) -> str:
    """ "de el" -> "del", "a el" -> "al" (the templates join a preposition and an article)."""
    text = re.sub(r"\bde el\b", "del", text)
    return re.sub(r"\ba el\b", "al", text)


def arabic_contractions(text: str) -> str:
    """The preposition li- before the article: "لال" -> "لل"."""
    return re.sub(r"(^|\s)لال", r"\1لل", text)


def tidy(lang: str, text: str) -> str:
    if lang == "es":
        return spanish_contractions(text)
    if lang == "ar":
        return arabic_contractions(text)
    return text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _deadline_value(lang: str, value: tuple[object, ...]) -> tuple[str, Fact]:
    kind = value[0]
    if kind == "date":
        return date_value(lang, int(str(value[1])), int(str(value[2])))
    if kind == "count":
        return count_value(lang, int(str(value[1])), str(value[2]))
    clock = str(value[1])
    return localise(lang, clock), time_variants(lang, clock)


def _fee_sentence(service: Service, lang: str, fee: tuple[str, str] | str) -> str:
    page = service.page[lang]
    if fee == "free":
        return FREE[lang][0].format(page=page)
    amount, unit = fee
    shown = money(lang, amount)[0] + UNITS[unit][lang]
    if service.fee_sentence:
        return service.fee_sentence[lang].format(fee=shown)
    label = (service.fee_label or FEE_LABEL)[lang]
    return FEE[lang].format(label=label, page=page, fee=shown, unit="")


def _sections(service: Service, lang: str, old: dict[str, object]) -> list[tuple[str, str]]:
    sections: list[tuple[str, str]] = []
    fee = old.get("fee", service.fee)
    if fee is not None:
        sections.append(("fee", _fee_sentence(service, lang, fee)))  # type: ignore[arg-type]
    if service.documents:
        docs = AND[lang].join(DOCUMENTS[d][lang][0] for d in service.documents)
        sections.append(("documents", DOCS[lang].format(docs=docs)))
    if service.office:
        name, address = OFFICES[service.office][lang]
        text = OFFICE[lang].format(office=name, address=localise(lang, address))
        sections.append(("office", text))
    hours = old.get("hours", service.hours)
    if hours is not None:
        days, start, end = hours  # type: ignore[misc]
        place = OFFICES[service.office][lang][0] if service.office else LINE_311[lang]
        text = HOURS[lang].format(
            office=place,
            days=DAYS[days][lang],
            open=localise(lang, start),
            close=localise(lang, end),
        )
        sections.append(("hours", _cap(text)))
    if service.deadline:
        value = old.get("deadline_value", service.deadline.value)
        shown, _ = _deadline_value(lang, value)  # type: ignore[arg-type]
        template = service.deadline.text[lang]
        template = eastern_text(template) if lang == "ar" else template
        sections.append(("deadline", template.format(v=shown)))
    phone = str(old.get("phone", service.phone))
    sections.append(("phone", PHONE[lang].format(page=service.page[lang], phone=phone)))
    return [(key, tidy(lang, _cap(text))) for key, text in sections]


def render_page(service: Service, lang: str, old: dict[str, object] | None = None) -> str:
    """The page of `service` in `lang`; `old` holds the outdated values a lagging page shows."""
    old = old or {}
    intro = eastern_text(service.intro[lang]) if lang == "ar" else service.intro[lang]
    lines = [f"# {service.title[lang]}", "", intro, ""]
    # The search keywords the city's web team lists on each page: the ways residents name the
    # service, except the last (questions still use words no page has).
    keywords = ", ".join(service.names[lang][:-1])
    lines += [f"{KEYWORDS[lang]}: {keywords}.", ""]
    for key, text in _sections(service, lang, old):
        lines += [f"## {HEADINGS[key][lang]}", "", text, ""]
    updated = str(old.get("updated", CURRENT_DATE))
    lines.append(f"{UPDATED[lang]}: {localise(lang, updated)}")
    return "\n".join(lines) + "\n"


def service_facts(service: Service, lang: str) -> dict[str, list[Fact]]:
    """Question intent -> the facts (each a tuple of accepted variants) a correct answer has."""
    facts: dict[str, list[Fact]] = {}
    if service.fee == "free":
        facts["fee"] = [FREE[lang][1]]
    elif service.fee is not None:
        facts["fee"] = [money(lang, service.fee[0])[1]]
    if service.documents:
        facts["documents"] = [DOCUMENTS[d][lang][1] for d in service.documents]
    if service.office:
        street = OFFICES[service.office][lang][1].split("،")[0].split(",")[0]
        english = OFFICES[service.office]["en"][1].split(",")[0]
        facts["office"] = [tuple(dict.fromkeys((street, english)))]
    if service.hours:
        _, start, end = service.hours
        facts["hours"] = [time_variants(lang, start), time_variants(lang, end)]
        facts["hours_close"] = [time_variants(lang, end)]
    if service.deadline:
        facts["deadline"] = [_deadline_value(lang, service.deadline.value)[1]]
    facts["phone"] = [(service.phone,)]
    return facts
