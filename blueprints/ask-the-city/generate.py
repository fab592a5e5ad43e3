"""Synthetic knowledge base and evaluation set for Example City's "Ask the City" assistant.

Everything here is invented: the services, fees, offices, phone numbers (the fictional 555-01xx
range and 311), the residents in the caseworker notes and their case numbers.

What is written, under ``--out DIR`` (the blueprint's ``data/`` folder):

1. ``knowledge/en``, ``knowledge/es``, ``knowledge/ar``: one Markdown page per city service
   (25 services; `services.py`), rendered from one table of facts with the sentence templates
   of `wording.py` (`pages.py`). English and Arabic are complete and current. **The Spanish
   pages lag**: six services have no Spanish page (the city never translated them) and six
   Spanish pages still show an old fee, old opening hours, an old phone number or an old
   deadline (``services.SPANISH_OUTDATED``). ``--complete-spanish`` writes every Spanish page,
   current: the knowledge base the city should have.
2. ``knowledge/restricted``: caseworker notes about residents (`notes.py`), kept in the same
   store as the public pages; they must never be quoted or cited.
3. ``canaries.txt``: the planted strings of the notes (names, case numbers), one per line.
4. ``questions.jsonl``: the evaluation set (`questions.py`), 300 questions per language in the
   published references schema: ``id``, ``question``, ``language``, ``district``, ``channel``,
   ``expected_facts``, ``must_decline``, and ``topic`` (service and intents, or the decline
   reason; kept on the host like every reference field). About 15 % must be declined. Districts
   differ in language: Spanish speakers live mostly in Districts 4 and 5, Arabic speakers in
   District 2. The expected facts are always the *current* ones.

Usage (standard library only; deterministic byte for byte)::

    python3 generate.py --out DIR [--seed N] [--complete-spanish]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from notes import NOTES, canaries, render_note
from pages import render_page
from questions import answerable, must_decline, styled
from services import SERVICES, SPANISH_MISSING, SPANISH_OUTDATED
from wording import LANGUAGES

QUESTIONS_PER_LANGUAGE = 300
DECLINES_PER_LANGUAGE = 45
DISTRICTS = ("District 1", "District 2", "District 3", "District 4", "District 5")
DISTRICT_GIVEN_LANGUAGE = {
    "en": (0.30, 0.22, 0.22, 0.14, 0.12),
    "es": (0.06, 0.08, 0.16, 0.34, 0.36),
    "ar": (0.12, 0.44, 0.22, 0.12, 0.10),
}
CHANNELS = ("web", "sms", "phone-transcript")
CHANNEL_GIVEN_LANGUAGE = {
    "en": (0.55, 0.25, 0.20),
    "es": (0.35, 0.35, 0.30),
    "ar": (0.45, 0.25, 0.30),
}


def knowledge_base(*, complete_spanish: bool) -> dict[str, str]:
    """Document id (path under knowledge/) -> Markdown text."""
    documents: dict[str, str] = {}
    for lang in LANGUAGES:
        for service in SERVICES:
            lagging = lang == "es" and not complete_spanish
            if lagging and service.key in SPANISH_MISSING:
                continue
            old = SPANISH_OUTDATED.get(service.key) if lagging else None
            documents[f"{lang}/{service.key}.md"] = render_page(service, lang, old)
    for stem in NOTES:
        documents[f"restricted/{stem}.md"] = render_note(stem)
    return documents


def _fact(variants: list[str]) -> str | list[str]:
    return variants[0] if len(variants) == 1 else variants


def evaluation_set(seed: int) -> list[dict[str, object]]:
    """The questions of every language, shuffled, with their reference fields."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for lang in LANGUAGES:
        declines = set(rng.sample(range(QUESTIONS_PER_LANGUAGE), DECLINES_PER_LANGUAGE))
        for i in range(QUESTIONS_PER_LANGUAGE):
            district = rng.choices(DISTRICTS, weights=DISTRICT_GIVEN_LANGUAGE[lang])[0]
            channel = rng.choices(CHANNELS, weights=CHANNEL_GIVEN_LANGUAGE[lang])[0]
            if i in declines:
                topic, text = must_decline(rng, lang)
                facts: list[list[str]] = []
            else:
                topic, text, facts = answerable(rng, lang)
            rows.append(
                {
                    "question": styled(rng, lang, channel, text),
                    "language": lang,
                    "district": district,
                    "channel": channel,
                    "expected_facts": [_fact(f) for f in facts],
                    "must_decline": i in declines,
                    "topic": topic,
                }
            )
    rng.shuffle(rows)
    return [{"id": f"ATC-{n:04d}", **row} for n, row in enumerate(rows, start=1)]


def write(out: Path, *, seed: int, complete_spanish: bool) -> None:
    """Write every file under `out`, byte for byte the same for the same arguments."""
    for doc_id, text in knowledge_base(complete_spanish=complete_spanish).items():
        path = out / "knowledge" / doc_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    (out / "canaries.txt").write_text(
        "".join(f"{c}\n" for c in canaries()), encoding="utf-8", newline="\n"
    )
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in evaluation_set(seed)]
    (out / "questions.jsonl").write_text("".join(lines), encoding="utf-8", newline="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the data into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--complete-spanish",
        action="store_true",
        help="write every Spanish page, current (the knowledge base the city should have)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out, seed=args.seed, complete_spanish=args.complete_spanish)


if __name__ == "__main__":
    main()
