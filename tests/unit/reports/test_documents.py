"""Transparency documents: each generated for the blueprint, every statement sourced, no field
invented; small groups suppressed; notices in three languages; a multi-page PDF."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sandbox.data.dataset import load_pilot_data, split_rows
from sandbox.evaluation.binary import evaluate_binary
from sandbox.manifest import load_manifest
from sandbox.policies.verdict import RuleOutcome, Verdict
from sandbox.reports import model as r
from sandbox.reports.disclosure import disclosure_of
from sandbox.reports.documents import (
    DOCUMENT_FILES,
    atrs_record,
    datasheet,
    render_documents,
    write_transparency_documents,
)
from sandbox.reports.documents._facts import lookup
from sandbox.reports.documents.atrs import ATRS_FIELDS, ATRS_SECTIONS
from sandbox.reports.documents.fonts import shown_text
from sandbox.reports.documents.pdf import pdf_text, render_pdf
from sandbox.reports.writer import write_reports

BLUEPRINT = Path(__file__).parents[3] / "blueprints" / "benefits-eligibility-screening"
START = datetime(2026, 5, 14, 9, 30, tzinfo=UTC)


def _outcome(rule_id: str, severity: str, outcome: str, stage: str = "post_run") -> RuleOutcome:
    return RuleOutcome(
        rule_id=rule_id,
        title=rule_id.replace(".", " ").title(),
        stage=stage,
        severity=severity,
        outcome=outcome,
        message=f"{rule_id} {outcome}",
    )


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(BLUEPRINT)


@pytest.fixture(scope="module")
def report(manifest) -> r.AuditReport:
    """The blueprint's report, built the way the pipeline's ``_build_report`` fills it."""
    data = load_pilot_data(BLUEPRINT, manifest)
    cfg = manifest.data.split
    split = split_rows(
        data.table.label,
        evaluation_fraction=cfg.evaluation_fraction,
        seed=cfg.seed,
        stratify=cfg.stratify,
    )
    rows = data.table.take(split.evaluation)
    # a stand-in model (the real one runs in the container): refer high rent burdens
    y_pred = (rows.features["rent_burden_ratio"].to_numpy() >= 0.45).astype(int)
    sensitive = rows.groups
    evaluation = evaluate_binary(
        y_true=rows.label,
        y_pred=y_pred,
        sensitive=sensitive,
        min_group_size=manifest.evaluation.min_group_size,
        n_bootstrap=40,
        seed=cfg.seed,
    )
    pilot, gov = manifest.pilot, manifest.governance
    outcomes = [
        _outcome("data.no-protected-features", "block", "passed", "pre_run"),
        _outcome("fairness.four-fifths", "warn", "failed"),
    ]
    report = r.AuditReport(
        run=r.RunSection(
            run_id="20260514T093000Z-abc123",
            started_at=START,
            finished_at=START + timedelta(seconds=12),
            state="pass_with_warnings",
            duration_s=12.0,
        ),
        pilot=r.PilotSection(
            name=pilot.name,
            version=pilot.version,
            title=pilot.title,
            city=pilot.owner.city,
            department=pilot.owner.department,
            contact=pilot.owner.contact,
            purpose=pilot.purpose,
            problem=pilot.problem,
            intended_users=pilot.intended_users,
            success_indicators=pilot.success_indicators,
            task=manifest.task.type,
        ),
        data=r.DataSection(
            sources=tuple(
                r.DataSource(
                    path=s.path, format=s.format, sha256=s.sha256, rows=s.rows, columns=s.columns
                )
                for s in data.sources
            ),
            split=r.DataSplit(
                seed=cfg.seed,
                train_rows=len(split.train),
                eval_rows=len(split.evaluation),
                train_sha256="sha256:" + "e" * 64,
                score_sha256="sha256:" + "f" * 64,
                evaluation_fraction=cfg.evaluation_fraction,
                stratified=cfg.stratify,
            ),
            roles=r.DataRoles(
                label=manifest.data.label,
                positive_label=manifest.task.positive_label,
                positive_meaning=manifest.task.positive_meaning,
                features=manifest.data.features,
                sensitive=manifest.data.sensitive,
                pii=manifest.data.pii,
                proxies=manifest.data.proxies,
            ),
            missing_by_column=dict(data.missing_by_column),
        ),
        model=r.ModelSection(
            entrypoint=manifest.model.entrypoint,
            params=dict(manifest.model.params),
            seed=manifest.model.seed,
        ),
        governance=r.GovernanceSection(
            phase=pilot.phase,
            policy_packs=gov.policy_packs,
            human_oversight=gov.human_oversight,
            data_retention=gov.data_retention,
            impact_assessment=dict(gov.impact_assessment),
            transparency=dict(gov.transparency),
        ),
        runtime=r.RuntimeSection(
            image="ai-commons-sandbox/runner:test",
            image_digest="sha256:" + "1" * 64,
            hardening={"network": "none", "read_only_root": True},
            container_state="succeeded",
            exit_code=0,
        ),
        evaluation=evaluation,
        explanations=(r.FeatureImportance(feature="monthly_income", importance_mean=0.2),),
        verdict=Verdict.decide("baseline", outcomes),
        provenance=r.ProvenanceSection(
            manifest_sha256="sha256:" + "a" * 64,
            policy_pack_id="baseline",
            policy_pack_sha256="sha256:" + "b" * 64,
        ),
    )
    # what the documents read is what report.json holds
    return r.AuditReport.model_validate_json(r.report_json(report))


@pytest.fixture(scope="module")
def blocked() -> r.AuditReport:
    return r.AuditReport(
        run=r.RunSection(run_id="run-blocked", started_at=START, state="blocked"),
        pilot=r.PilotSection(name="p", version="0.1.0", city="Rivertown", task="binary"),
        verdict=Verdict.decide(
            "baseline", [_outcome("data.no-protected-features", "block", "failed", "pre_run")]
        ),
        provenance=r.ProvenanceSection(
            manifest_sha256="a" * 64, policy_pack_id="baseline", policy_pack_sha256="b" * 64
        ),
    )


@pytest.fixture(scope="module")
def texts(report) -> dict[str, str]:
    return render_documents(report)


def _governed(report, **transparency_changes):
    """The report with some transparency fields replaced (None removes one)."""
    fields = dict(report.governance.transparency)
    for key, value in transparency_changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    governance = report.governance.model_copy(update={"transparency": fields})
    return report.model_copy(update={"governance": governance})


# -- every document, every run ------------------------------------------------------------


def test_write_reports_writes_every_document(report, tmp_path):
    paths = write_reports(report, tmp_path)
    assert set(paths) == {"json", "html", "md", *DOCUMENT_FILES}
    for kind, name in DOCUMENT_FILES.items():
        assert paths[kind] == tmp_path / name
        assert paths[kind].stat().st_size > 0
    assert all(p.parent == tmp_path for p in paths.values())  # flat: the trail hashes the folder
    json.loads(paths["atrs_json"].read_text(encoding="utf-8"))
    json.loads(paths["datasheet_json"].read_text(encoding="utf-8"))


def test_blocked_run_gets_every_document(blocked, tmp_path):
    paths = write_transparency_documents(blocked, tmp_path)
    assert set(paths) == set(DOCUMENT_FILES)
    sheet = json.loads(paths["datasheet_json"].read_text(encoding="utf-8"))
    assert sheet["group_representation"] is None
    assert "stopped before it ran" in paths["notice_en"].read_text(encoding="utf-8")
    card = paths["model_card"].read_text(encoding="utf-8")
    assert "No evaluation is available" in card
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")


def test_wording_follows_the_style_guide(texts):
    for kind, text in texts.items():
        lowered = text.lower()
        for word in ("unbiased", "certified fair", "is fair"):
            assert word not in lowered, (kind, word)


# -- ATRS ---------------------------------------------------------------------------------


def _filled(record) -> dict[str, dict]:
    return {
        name: field
        for tier in ("tier_1", "tier_2")
        for section in record[tier].values()
        for name, field in section["fields"].items()
    }


def test_atrs_every_field_is_filled_or_a_gap(report):
    record = atrs_record(report)
    filled = _filled(record)
    gaps = {g["field"] for g in record["gaps"]}
    names = [f.name for f in ATRS_FIELDS]
    assert len(names) == len(set(names))
    assert set(filled) | gaps == set(names)
    assert not set(filled) & gaps
    assert set(record["tier_1"]) == {k for k, (t, _) in ATRS_SECTIONS.items() if t == "tier_1"}
    assert set(record["tier_2"]) == {k for k, (t, _) in ATRS_SECTIONS.items() if t == "tier_2"}
    for gap in record["gaps"]:
        assert gap["fill_with"] == f"governance.transparency.{gap['field']}"


def test_atrs_invents_nothing(report):
    record = atrs_record(report)
    data = report.model_dump(mode="json")
    for name, field in _filled(record).items():
        assert field["source"], name
        resolved = [lookup(data, path) for path in field["source"]]
        assert all(v not in (None, "", [], {}) for v in resolved), (name, field["source"])
        if len(field["source"]) == 1 and isinstance(resolved[0], str):
            # a copied field is the report's value, word for word
            text = field["value"] if isinstance(field["value"], str) else ""
            assert text == resolved[0] or resolved[0] in text, name


def test_atrs_for_the_blueprint(report, manifest):
    record = atrs_record(report)
    filled = _filled(record)
    gaps = {g["field"] for g in record["gaps"]}
    declared = manifest.governance.transparency
    for field in ("name", "description", "contact_email", "organisation", "models"):
        assert field in filled
    for field in ("human_decisions_and_review", "model_performance", "impact_assessment"):
        assert field in filled
    assert filled["name"]["value"] == declared["tool_name"]
    assert filled["contact_email"]["value"] == declared["contact_email"]
    assert filled["appeals_and_review"]["value"] == declared["appeals_and_review"]
    # the manifest names no senior responsible owner, training or maintenance: gaps
    assert {"senior_responsible_owner", "required_training", "maintenance"} <= gaps
    assert record["run_evidence"]["rules_not_held"][0]["rule_id"] == "fairness.four-fifths"


def test_atrs_without_governance_lists_gaps_not_guesses(report):
    bare = report.model_copy(update={"governance": None, "model": None, "runtime": None})
    record = atrs_record(bare)
    filled = _filled(record)
    gaps = {g["field"] for g in record["gaps"]}
    assert filled["name"]["source"] == ["pilot.title"]
    assert filled["contact_email"]["source"] == ["pilot.contact"]
    assert filled["organisation"]["value"] == f"{report.pilot.city}, {report.pilot.department}"
    assert {"website", "appeals_and_review", "phase", "models", "system_architecture"} <= gaps
    assert record["other_declared_fields"] == {}


def test_atrs_keeps_unmapped_declared_fields(report):
    record = atrs_record(_governed(report, council_minute="Cabinet, 3 March"))
    assert record["other_declared_fields"]["council_minute"]["value"] == "Cabinet, 3 March"


def test_atrs_markdown_shows_sections_sources_and_gaps(report, texts):
    md = texts["atrs_md"]
    for _, title in ATRS_SECTIONS.values():
        assert f"## {title}" in md
    record = atrs_record(report)
    for gap in record["gaps"]:
        assert f"`{gap['fill_with']}`" in md
    assert "_Source: `governance.transparency.tool_name`_" in md
    assert json.loads(texts["atrs_json"]) == json.loads(json.dumps(record))


# -- datasheet ----------------------------------------------------------------------------


def test_datasheet_files_and_missingness_come_from_the_report(report):
    sheet = datasheet(report)
    assert [f["sha256"] for f in sheet["files"]] == [s.sha256 for s in report.data.sources]
    assert sheet["rows"] == sum(s.rows for s in report.data.sources)
    by_name = {c["name"]: c for c in sheet["columns"]}
    for column, missing in report.data.missing_by_column.items():
        assert by_name[column]["missing"] == missing
    assert by_name["full_name"]["role"] == "personal data (never used)"
    assert by_name["full_name"]["missing"] is None  # not measured, not guessed
    assert by_name["eligible"]["role"] == "label"


def test_datasheet_suppresses_small_groups(report, texts):
    ev = report.evaluation
    sheet = datasheet(report)
    minimum = ev.min_group_size
    published = {
        (s["name"], g["group"]): g
        for s in sheet["group_representation"]["attribute_sets"]
        for g in s["groups"]
    }
    small = [(res, g) for res in ev.attribute_sets for g in res.groups if g.count < minimum]
    assert small, "the blueprint has groups below the minimum size"
    for result, group in small:
        cell = published[(result.name, group.label)]
        assert cell["rows"] == f"<{minimum}"
        assert cell["share"] is None
        assert cell["label_rate"] is None
    for cell in published.values():
        assert not isinstance(cell["rows"], int) or cell["rows"] >= minimum
    md = texts["datasheet_md"]
    for _result, group in small:
        row = f"| {group.label} |"
        assert not re.search(re.escape(row) + rf" {group.count} \|", md)


def test_datasheet_hides_a_lone_small_cell_from_subtraction(report):
    ev = report.evaluation
    sheet = datasheet(report)
    for published, result in zip(
        sheet["group_representation"]["attribute_sets"], ev.attribute_sets, strict=True
    ):
        hidden = {g["group"] for g in published["groups"] if g["suppressed"]}
        lines = [list(result.groups)]
        for attribute in result.attributes if len(result.attributes) > 1 else ():
            by_rest: dict[tuple, list] = {}
            for g in result.groups:
                rest = tuple(v for a, v in g.values.items() if a != attribute)
                by_rest.setdefault(rest, []).append(g)
            lines += by_rest.values()
        for cells in lines:
            inside = [g for g in cells if g.label in hidden]
            assert len(cells) == 1 or len(inside) != 1, (result.name, [g.label for g in cells])


# -- model card ---------------------------------------------------------------------------


def test_model_card_has_every_section(texts):
    card = texts["model_card"]
    for heading in (
        "## Model details",
        "## Intended use",
        "### Out-of-scope uses",
        "## Factors",
        "## Metrics",
        "## Evaluation data",
        "## Training data",
        "## Ethical considerations",
        "## Caveats and recommendations",
        "## Gaps",
    ):
        assert heading in card


def test_model_card_states_only_what_the_report_holds(report, texts):
    card = texts["model_card"]
    ev = report.evaluation
    race = ev.attribute_set("race_ethnicity").disparities["selection_rate"].difference
    assert f"{race.value:.3f} ({race.ci_low:.3f} to {race.ci_high:.3f})" in card
    assert report.model.entrypoint in card
    assert "Out-of-scope uses (governance.out_of_scope_uses)" in card  # a gap, not a guess
    for user in report.pilot.intended_users:
        assert user.split()[0] in card
    with_scope = report.model_copy(
        update={
            "governance": report.governance.model_copy(
                update={"out_of_scope_uses": ("Automated denial",)}
            )
        }
    )
    card = render_documents(with_scope)["model_card"]
    assert "- Automated denial" in card
    assert "Out-of-scope uses (governance" not in card


def test_model_card_suppresses_small_single_groups(report):
    evaluation = report.evaluation.model_copy(update={"min_group_size": 200})
    decision = disclosure_of(evaluation)
    changed = report.model_copy(update={"evaluation": evaluation, "disclosure": decision})
    card = render_documents(changed)["model_card"]
    native = evaluation.attribute_set("race_ethnicity").groups[0]
    assert native.count < 200
    assert "| American Indian or Alaska Native | <200 | suppressed |" in card
    assert f"| {native.count} |" not in card
    # alone, it could be derived from the total: the next smallest group is hidden too
    asian = evaluation.attribute_set("race_ethnicity").groups[1]
    assert asian.label == "Asian" and asian.count >= 200
    assert "| Asian | suppressed | suppressed |" in card


# -- notices ------------------------------------------------------------------------------


def test_notices_in_three_languages(report, manifest, texts):
    route = manifest.governance.transparency["appeals_and_review"]
    contact = manifest.governance.transparency["contact_email"]
    expected = {
        "en": "How to ask for a person to review your case",
        "es": "Cómo pedir que una persona revise su caso",
        "fr": "Comment demander qu'une personne réexamine votre dossier",
    }
    for lang, heading in expected.items():
        notice = texts[f"notice_{lang}"]
        assert heading in notice
        assert route in notice
        assert contact in notice
        assert len(notice) < 4000  # short
    assert "texto de la ciudad, solo en inglés" in texts["notice_es"]
    assert "texte de la ville, en anglais uniquement" in texts["notice_fr"]
    assert "fase: prototipo" in texts["notice_es"]


def test_notice_without_review_route_says_so(report):
    texts = render_documents(_governed(report, appeals_and_review=None))
    gap = {
        "en": "The city has not yet said how to ask for a person to review a case",
        "es": "La ciudad todavía no ha indicado cómo pedir que una persona revise un caso",
        "fr": "La ville n'a pas encore indiqué comment demander qu'une personne réexamine",
    }
    for lang, sentence in gap.items():
        notice = texts[f"notice_{lang}"]
        assert sentence in notice
        assert "fair-hearing" not in notice


def test_notice_uses_a_declared_translation(report):
    texts = render_documents(
        _governed(report, appeals_and_review_es="Pida una revisión en la ventanilla.")
    )
    assert "Pida una revisión en la ventanilla." in texts["notice_es"]
    assert "Pida una revisión" not in texts["notice_fr"]
    record = atrs_record(_governed(report, appeals_and_review_es="x"))
    assert "appeals_and_review_es" not in record["other_declared_fields"]


# -- PDF ----------------------------------------------------------------------------------


def test_pdf_is_multi_page_and_reproducible(report):
    first = render_pdf(report)
    assert first.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", first)
    assert len(pages) >= 3
    assert render_pdf(report) == first


def test_pdf_is_the_same_as_fpdf_lays_it_out(report, blocked):
    from fpdf import FPDF

    for each in (report, blocked):
        assert render_pdf(each) == render_pdf(each, document=FPDF)


def test_pdf_text_keeps_unicode_and_spells_what_the_font_lacks():
    # DejaVu Sans draws Latin, Arabic and symbols as written
    assert pdf_text("\u2264 0.1 \u201cquoted\u201d \u2013 M\u0101ori") == (
        "\u2264 0.1 \u201cquoted\u201d \u2013 M\u0101ori"
    )
    assert pdf_text("Zoë, عربي") == "Zoë, عربي"
    # it has no CJK glyphs: each becomes its code point, so two names never print alike
    assert pdf_text("北京") == "U+5317U+4EAC"
    assert pdf_text("北京") != pdf_text("上海")


def test_pdf_text_prints_printable_ascii_as_the_font_check_would() -> None:
    # pdf_text skips the font's check for printable ASCII: the font draws all of it
    ascii_text = "".join(map(chr, range(0x20, 0x7F)))
    assert pdf_text(ascii_text) == shown_text(ascii_text) == ascii_text
    assert pdf_text("\x07 bell") == shown_text("\x07 bell") == "U+0007 bell"
    assert pdf_text(1234) == "1234"


def test_older_reports_still_validate(report):
    data = report.model_dump(mode="json")
    for key in ("model", "governance"):
        data.pop(key)
    for key in ("roles", "missing_by_column"):
        data["data"].pop(key)
    data["pilot"].pop("title")
    old = r.AuditReport.model_validate(data)
    assert old.governance is None
    texts = render_documents(old)
    assert "Data roles (data.roles)" in texts["model_card"]
    assert np.isfinite(old.evaluation.performance["accuracy"])
